"""Where features meet (issue 29): the orchestration driven through a fake engine
(``fake_engine``) that fails, interrupts or holds at a named docker sub-command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fake_engine import FakeEngine, conda_answers, venv_answers

from poetry_docker_plugin.engine.probe import probe_base_image
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.platforms import Platform

if TYPE_CHECKING:
    from pathlib import Path

AMD64 = Platform("linux", "amd64")


def test_base_facts_are_the_images_not_the_tags(tmp_path: Path) -> None:
    """Item 2: a tag that named a venv base, re-tagged to a conda base, is probed anew (the
    facts were found by reference: the venv answer stayed until the cache was deleted)."""
    engine, cache = FakeEngine(), tmp_path / "base-images-v4.json"
    engine.add("acme/base:1", "venv base", answers=venv_answers())
    first = probe_base_image(engine, "acme/base:1", "auto", AMD64, cache)
    assert (first.manager, first.python) == ("venv", "3.11")
    runs = engine.count("run")
    assert probe_base_image(engine, "acme/base:1", "auto", AMD64, cache) == first
    assert engine.count("run") == runs, "the same image: answered from the cache"
    engine.add("acme/base:1", "conda base", answers=conda_answers())  # re-tagged
    for pull in (True, False):  # a build, and --print
        again = probe_base_image(engine, "acme/base:1", "auto", AMD64, cache, pull=pull)
        assert (again.manager, again.envs_dir) == ("conda", "/opt/conda/envs")
        assert again.id == engine.tags["acme/base:1"] != first.id


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        ({"labels": {"org.opencontainers.image.zz\nRUN echo X\nLABEL a": "1"}}, r"zz\nRUN"),
        ({"answers": conda_answers('/opt/conda/envs\nRUN echo X')}, r"envs\nRUN"),
        ({"platform": "linux/\x1b[31mamd64"}, r"\x1b[31m"),
        ({"answers": {"sh": "conda\n", "conda": '{"envs_dirs": ["/o"], "virtual_pkgs": '
                     '[["__glibc", "2.36;x", "0"]]}'}}, "2.36;x"),
    ],
)  # fmt: skip
def test_values_read_from_a_base_image_are_checked(
    facts: dict[str, object], shown: str, tmp_path: Path
) -> None:
    """Item 12: a label key, conda's envs_dirs, an architecture string from a base image are
    checked like lock values, and shown escaped (never raw on the terminal)."""
    engine = FakeEngine()
    engine.add("acme/base:1", "hostile", **{"answers": conda_answers(), **facts})
    with pytest.raises(DockerPluginError) as refused:
        probe_base_image(engine, "acme/base:1", "auto", AMD64, tmp_path / "cache.json")
    message = str(refused.value)
    assert "The base image acme/base:1 states" in message
    assert shown in message
    assert "\n" not in message and "\x1b" not in message
