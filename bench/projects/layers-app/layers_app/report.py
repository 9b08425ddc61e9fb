"""A summary of a generated data set, serialised by the compiled dependencies."""

from __future__ import annotations

import json

import msgpack
import numpy
import orjson
import yaml


def summary(rows: int) -> dict[str, float]:
    """Mean and standard deviation of ``rows`` numbers drawn with a fixed seed."""
    values = numpy.random.default_rng(0).normal(size=rows)
    return {"rows": float(rows), "mean": float(values.mean()), "std": float(values.std())}


def encodings(rows: int) -> dict[str, int]:
    """The summary's size in each format: proof that every format's module loads."""
    data = summary(rows)
    return {
        "json": len(json.dumps(data)),
        "orjson": len(orjson.dumps(data)),
        "msgpack": len(msgpack.packb(data)),
        "yaml": len(yaml.safe_dump(data)),
    }
