"""The benchmark's record and report, without an engine: the record (docs/benchmarks.md) is
well-formed and names the commit it measured, ``record`` rewrites that block alone, and the
report's arithmetic (ratios, PASS/MISS against targets) holds on results built in memory.

The record is not re-measured at every commit (a full run takes about 14 minutes): it says how
old it is, and CI's quick run prints today's figures beside it (bench/README.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import REPO

# bench/ is a package at the repository's root (run as `python -m bench`), not installed.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.config import CONDA, CONDA_SINGLE, VENV
from bench.push_rows import FOREIGN_LABEL
from bench.recorded import (
    RECORD_BEGIN,
    RECORD_END,
    Provenance,
    read_record,
    record,
    subject_digest,
)
from bench.report import TABLE_HEADER, comparison_lines, rows, table_lines
from bench.results import (
    BuildChecks,
    BuildTimes,
    CommandTimes,
    DockerizeTimes,
    ForeignTimes,
    LargeProjectTimes,
    LayerPushes,
    Measurements,
    PushBytes,
    ReproducibleTimes,
    Row,
)

VENV_BUILD = BuildTimes(
    cold=10.0,
    size=400e6,
    base_size=200e6,
    content=190e6,
    content_paths="/opt/venv + /app",
    checks=BuildChecks(),
    no_change=0.44,
    docker_build=0.1,
    warm=8.0,
    edit=0.9,
    dependency=2.0,
    run=0.9,
    docker_run=0.3,
    activation=0.3,
    bare_entrypoint=0.25,
)
CONDA_BUILD = BuildTimes(
    cold=20.0,
    size=500e6,
    base_size=200e6,
    content=280e6,
    content_paths="/opt/conda/envs/sample-app + /app",
    checks=BuildChecks(source_edit="locked dependencies re-installed"),
    no_change=0.7,
    docker_build=0.1,
    warm=20.0,
    edit=1.0,
    dependency=3.0,
    activation=0.28,
    bare_entrypoint=0.28,
    run_error="ERROR: the run failed",
)
SINGLE_BUILD = BuildTimes(
    cold=18.0,
    size=650e6,
    base_size=370e6,
    content=270e6,
    content_paths="/opt/conda/envs/sample-app + /app",
    checks=BuildChecks(),
)
MEASURED = Measurements(
    commands=CommandTimes(startup=1.03, plain_startup=1.0, render=0.75, check_lock=0.5),
    large=LargeProjectTimes(large=1.3, small=1.0),
    builds={VENV.key: VENV_BUILD, CONDA.key: CONDA_BUILD, CONDA_SINGLE.key: SINGLE_BUILD},
    dockerize=DockerizeTimes(
        cold=27.0, no_change=0.36, edit=7.6, size=350e6, base_size=230e6, stopped_containers=3
    ),
    foreign=ForeignTimes(cold=80.0, no_change=0.5, edit=3.0),
    reproducible=ReproducibleTimes(cold=11.0, edit=4.0),
    layers=LayerPushes(
        ours=PushBytes(cold=150e6, no_change=0, edit=60e3, small_bump=30e6, large_bump=30e6),
        cold=30.0,
        small_bump=15.0,
        environment=120e6,
        wheel=3e3,
        large_package=72e6,
    ),
)
PROVENANCE = Provenance("0123456789ab", "2026-12-03", "0123456789abcdef")


def row_of(table: list[Row], name: str, manager: str, baseline_name: str = "") -> Row:
    """The one row of ``table`` with that name and manager (and baseline, when given)."""
    found = [
        row
        for row in table
        if row.name == name
        and row.manager == manager
        and (not baseline_name or row.baseline_name == baseline_name)
    ]
    assert len(found) == 1, (name, manager, baseline_name, found)
    return found[0]


def test_the_record_is_well_formed_and_names_a_commit() -> None:
    """The record (docs/benchmarks.md) parses: a commit, a date and a subject digest, the report's
    columns, the rows the issue asks for, a machine line; a result agrees with its ratio and
    target."""
    recorded = read_record(REPO / "docs" / "benchmarks.md")
    assert recorded.header == TABLE_HEADER
    assert re.fullmatch(r"[0-9a-f]{12}", recorded.commit), recorded.commit
    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    if shallow.stdout.strip() == "false":  # a shallow clone may lack the commit, not a full one
        known = subprocess.run(
            ["git", "cat-file", "-e", f"{recorded.commit}^{{commit}}"], cwd=REPO, check=False
        )
        assert known.returncode == 0, (
            f"the benchmarks page's record names no commit: {recorded.commit}"
        )
    names = {row.name for row in recorded.rows}
    assert {"start-up", "no-change build, floor", "fresh run, floor"} <= names
    assert "no-change run, 20,000 more files" in names
    assert recorded.machine.startswith("machine: ") and recorded.reps >= 1
    for row in recorded.rows:
        target = re.fullmatch(r"<= ([0-9.]+)", row.target)
        if target and row.result in ("PASS", "MISS"):  # a reason would follow the result
            passed = float(row.ratio) <= float(target[1])
            assert row.result == ("PASS" if passed else "MISS"), row


def test_record_rewrites_the_block_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{RECORD_BEGIN}\nold table\n{RECORD_END}\noutro\n")
    lines = table_lines(rows(MEASURED))
    record(lines, 3, "machine: test", PROVENANCE, readme)
    text = readme.read_text()
    assert text.startswith(f"intro\n{RECORD_BEGIN}\nMeasured at commit 0123456789ab on ")
    assert text.endswith(f"\nmachine: test\n{RECORD_END}\noutro\n")
    assert "old table" not in text and "\n".join(lines) in text
    recorded = read_record(readme)
    assert (recorded.commit, recorded.date, recorded.subject, recorded.reps) == (
        "0123456789ab",
        "2026-12-03",
        "0123456789abcdef",
        3,
    )
    assert len(recorded.rows) == len(lines) - 2


def test_ratios_and_results_of_the_report() -> None:
    table = rows(MEASURED)
    startup = row_of(table, "start-up", "")
    assert startup.ratio == pytest.approx(1.03) and startup.result == "PASS"
    render = row_of(table, "render", VENV.label)
    assert render.ratio == pytest.approx(1.5) and render.result == "PASS"
    edit = row_of(table, "source edit", VENV.label, "cold build")
    assert edit.ratio == pytest.approx(0.09) and edit.result == "PASS"
    warm = row_of(table, "dependency change", VENV.label, "--no-cache build, caches warm")
    assert warm.ratio == pytest.approx(0.25) and warm.result == "PASS"
    fresh = row_of(table, "fresh run", VENV.label)
    assert fresh.ratio == pytest.approx(3.0) and fresh.result == "MISS"
    activation = row_of(table, "activation", VENV.label)
    assert activation.ratio == pytest.approx(1.2) and activation.result == "MISS"
    large = row_of(table, "no-change run, 20,000 more files", VENV.label)
    assert large.ratio == pytest.approx(1.3) and large.result == "PASS"


def test_a_failed_check_turns_a_pass_into_a_miss() -> None:
    edit = row_of(rows(MEASURED), "source edit", CONDA.label, "cold build")
    assert edit.ratio == pytest.approx(0.05) and edit.target == 0.10
    assert edit.result == "MISS" and edit.check == "locked dependencies re-installed"
    line = next(x for x in table_lines([edit]) if x.startswith("| source edit"))
    assert "| MISS (locked dependencies re-installed) |" in line


def test_rows_without_a_baseline_a_target_or_a_figure() -> None:
    table = rows(MEASURED)
    cold = row_of(table, "cold build", CONDA_SINGLE.label)
    assert cold.ratio is None and cold.result == "-"
    size = row_of(table, "image size", CONDA.label)
    assert size.ratio == pytest.approx(500 / 350) and size.result == "stated"
    fresh = row_of(table, "fresh run", CONDA.label)  # `run` failed: no figure
    assert fresh.measured is None and fresh.result == "n/a"
    assert row_of(table, "fresh run, floor", CONDA.label).result == "n/a"
    line = next(x for x in table_lines([fresh]) if x.startswith("| fresh run"))
    assert re.search(r"\| n/a +\| n/a \(docker run --rm\) \| - +\| <= 1\.3 \| n/a +\|", line)


def test_the_foreign_cold_build_beside_the_native_one() -> None:
    """After the native cold builds: the arm64 build over venv's native one, against issue
    32's target (1.3), then the foreign platform's other rows (tests/unit/bench/test_rows.py)."""
    table = rows(MEASURED)
    foreign = row_of(table, "cold build, linux/arm64", FOREIGN_LABEL)
    assert foreign.ratio == pytest.approx(8.0) and foreign.result == "MISS"
    assert foreign.baseline_name == "native cold build" and foreign.target == 1.3
    names = [row.name for row in table]
    assert names.index(foreign.name) == names.index("cold build") + 3  # venv, conda, single


def test_the_reproducible_builds_over_the_plain_ones() -> None:
    """Two stated rows: the cold build and the source edit with --reproducible over venv's
    plain ones, right after the foreign platform's rows."""
    table = rows(MEASURED)
    cold = row_of(table, "cold build, --reproducible", VENV.label)
    edit = row_of(table, "source edit, --reproducible", VENV.label)
    assert cold.ratio == pytest.approx(11.0 / VENV_BUILD.cold) and cold.result == "stated"
    assert edit.baseline == VENV_BUILD.edit and edit.baseline_name == "plain source edit"
    names = [row.name for row in table]
    assert names.index(cold.name) == names.index("two-platform push") + 1


def test_sizes_over_their_bases_and_content() -> None:
    table = rows(MEASURED)
    venv = row_of(table, "size over base", VENV.label)
    assert venv.measured == pytest.approx(200e6) and venv.baseline == pytest.approx(120e6)
    assert venv.dockerize == pytest.approx(120e6)
    single = row_of(table, "size over base", CONDA.label, "conda single-stage over its base")
    assert single.ratio == pytest.approx(300 / 280)
    content = row_of(table, "size over content", CONDA.label)
    assert content.ratio == pytest.approx(300 / 280) and content.target == 1.1
    assert content.result == "PASS"
    assert row_of(table, "size over content", VENV.label).result == "stated"
    # poetry-dockerize's figures stand beside the venv rows only
    assert row_of(table, "cold build", VENV.label).dockerize == 27.0
    assert row_of(table, "cold build", CONDA.label).dockerize is None
    assert row_of(table, "no-change build", VENV.label).dockerize == 0.36


def test_the_floor_rows_add_poetry_check_to_the_docker_command() -> None:
    table = rows(MEASURED)
    build = row_of(table, "no-change build, floor", VENV.label)
    assert build.baseline == pytest.approx(0.5 + 0.1) and build.ratio == pytest.approx(0.44 / 0.6)
    assert build.target == 0.75 and build.result == "PASS"
    # 0.8 of the floor: a PASS under the old target (1.1), a MISS under the 0.75
    slower = replace(
        MEASURED, builds={**MEASURED.builds, VENV.key: replace(VENV_BUILD, no_change=0.48)}
    )
    assert row_of(rows(slower), "no-change build, floor", VENV.label).result == "MISS"
    assert row_of(table, "no-change build, floor", CONDA.label).result == "MISS"
    run = row_of(table, "fresh run, floor", VENV.label)
    assert run.baseline == pytest.approx(0.5 + 0.3) and run.ratio == pytest.approx(1.125)
    assert run.target == 1.1 and run.result == "MISS"
    names = [row.name for row in table]
    assert names.index("no-change build, floor") > names.index("size over content")


def test_today_beside_the_record(tmp_path: Path) -> None:
    """The quick run's comparison: each row's recorded cells beside today's, matched by name,
    manager and baseline; a row the record lacks says so."""
    table = rows(MEASURED)
    readme = tmp_path / "README.md"
    readme.write_text(f"{RECORD_BEGIN}\n{RECORD_END}\n")
    recorded_rows = [row for row in table if row.name != "activation"]
    then = [replace(row, measured=row.measured and row.measured * 2) for row in recorded_rows]
    record(table_lines(then), 5, "machine: then", PROVENANCE, readme)
    lines = comparison_lines(table, read_record(readme))
    assert "recorded at 0123456789ab" in lines[0]
    edit = next(x for x in lines if x.startswith("| source edit ") and VENV.label in x)
    assert "| 1.80 s, 0.18, MISS " in edit and "| 0.90 s, 0.09, PASS " in edit
    activation = next(x for x in lines if x.startswith("| activation "))
    assert "| not recorded " in activation
    assert len(lines) == len(table) + 2


def test_the_subject_follows_the_plugin_the_benchmark_and_the_example(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    names = (
        "src/pkg/mod.py",
        "bench/report.py",
        "examples/sample-app/pyproject.toml",
        "bench/projects/layers-app/poetry.lock",
    )
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    first = subject_digest(root)
    (root / "src" / "pkg" / "__pycache__").mkdir()
    (root / "src" / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    (root / "bench" / "work").mkdir()
    (root / "bench" / "work" / "scratch.py").write_text("y = 1\n")
    assert subject_digest(root) == first, "byte-code and the benchmark's scratch are not"
    for name in names:
        (root / name).write_text("x = 2\n")
        assert subject_digest(root) != first, name
        first = subject_digest(root)
