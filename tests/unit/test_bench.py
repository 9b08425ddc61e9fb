"""The benchmark's record: README.md's table names what it measured, and is of the current one."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", REPO / "bench" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_measured_the_current_plugin(bench: ModuleType) -> None:
    """Regenerate with `bash scripts/dev bench --record` (or `--reps N --record`) whenever the
    plugin, the benchmark or the example changes: the table must not outlive its subject."""
    readme = (REPO / "README.md").read_text()
    block = readme.partition(bench.RECORD_BEGIN)[2].partition(bench.RECORD_END)[0]
    recorded = re.search(r"Measured at commit (\S+).*?, subject ([0-9a-f]{16})", block)
    assert recorded, "README.md has no recorded benchmark: run bench/bench.py --record"
    assert recorded[2] == bench.subject_digest(), (
        "README.md's benchmark table measured another version of the plugin, the benchmark or "
        "the example: run `bash scripts/dev bench --record` and commit the README"
    )
    assert "| no-change run, 20,000 more files " in block
    assert "| fresh run, floor " in block and "| no-change build, floor " in block


def test_record_rewrites_the_block_alone(bench: ModuleType, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{bench.RECORD_BEGIN}\nold table\n{bench.RECORD_END}\noutro\n")
    bench.record(["| row | ratio |", "|---|---|", "| x | 1.0 |"], 3, "machine: test", readme)
    text = readme.read_text()
    assert text.startswith(f"intro\n{bench.RECORD_BEGIN}\nMeasured at commit ")
    assert f"subject {bench.subject_digest()} " in text and "medians of 3 repetition(s)" in text
    assert "| x | 1.0 |\n\nmachine: test\n" in text and "old table" not in text
    assert text.endswith(f"{bench.RECORD_END}\noutro\n")


def test_the_subject_follows_the_plugin_and_the_example(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    for name in ("src/pkg/mod.py", "bench/bench.py", "examples/sample-app/pyproject.toml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    monkeypatch.setattr(bench, "ROOT", root)
    monkeypatch.setattr(bench, "SAMPLE", root / "examples" / "sample-app")
    first = bench.subject_digest()
    (root / "src" / "pkg" / "__pycache__").mkdir()
    (root / "src" / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    assert bench.subject_digest() == first, "byte-code is not the subject"
    for name in ("src/pkg/mod.py", "examples/sample-app/pyproject.toml"):
        (root / name).write_text("x = 2\n")
        assert bench.subject_digest() != first, name
        first = bench.subject_digest()
