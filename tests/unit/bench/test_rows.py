"""The benchmark's rows of the foreign platform (issue 32) and of the bytes pushed per change
(issue 33), without an engine: their arithmetic on results built in memory, how the bytes a
registry received are counted, and the bumped locks' rule (one package changed, no other)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import REPO

# bench/ is a package at the repository's root (run as `python -m bench`), not installed.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import pushes
from bench.bumps import PreparedBumps, bump_chain
from bench.config import LARGE_BUMP, LAYERS_EDITED, SMALL_BUMP, VENV_ARM64
from bench.push_rows import FOREIGN_LABEL, LAYERS_LABEL, foreign_rows, layer_rows
from bench.pushes import CHANGES, push_sequence
from bench.registry import LocalRegistry
from bench.report import fmt, table_lines
from bench.results import BuildChecks, BuildTimes, ForeignTimes, LayerPushes, PushBytes, Row, Unit

NATIVE = BuildTimes(
    cold=40.0,
    size=400e6,
    base_size=200e6,
    content=190e6,
    content_paths="/opt/venv + /app",
    checks=BuildChecks(),
    no_change=0.5,
    edit=2.0,
)
FOREIGN = ForeignTimes(cold=200.0, no_change=0.6, edit=20.0)
OURS = PushBytes(cold=156e6, no_change=0, edit=63e3, small_bump=30e6, large_bump=30e6)
PUSHES = LayerPushes(
    ours=OURS,
    cold=30.0,
    small_bump=15.0,
    environment=120e6,
    wheel=3e3,
    large_package=72e6,
)


def named(table: list[Row], name: str) -> Row:
    (row,) = [row for row in table if row.name == name]
    return row


def test_the_foreign_platform_against_the_native_builds() -> None:
    """Each foreign build over the same native build, against 1.3 (native speed); the
    two-platform push over one native cold build, against 2.5, n/a until measured."""
    table = foreign_rows(NATIVE, FOREIGN)
    cold = named(table, "cold build, linux/arm64")
    assert cold.ratio == pytest.approx(5.0) and cold.result == "MISS"
    no_change = named(table, "no-change build, linux/arm64")
    assert no_change.ratio == pytest.approx(1.2) and no_change.result == "PASS"
    assert no_change.baseline_name == "native no-change build"
    edit = named(table, "source edit, linux/arm64")
    assert edit.ratio == pytest.approx(10.0) and edit.result == "MISS"
    assert {row.manager for row in table[:3]} == {FOREIGN_LABEL}
    emulated = named(table, "cold build, linux/arm64, all emulated")
    assert emulated.measured is None and emulated.result == "n/a"
    assert emulated.manager == VENV_ARM64.label
    stated = named(foreign_rows(NATIVE, replace(FOREIGN, cold_emulated=200.0)), emulated.name)
    assert stated.ratio == pytest.approx(5.0) and stated.result == "stated"
    two = named(table, "two-platform push")
    assert two.measured is None and two.result == "n/a" and two.target == 2.5
    measured = foreign_rows(NATIVE, replace(FOREIGN, two_platform_push=96.0))
    two = named(measured, "two-platform push")
    assert two.ratio == pytest.approx(2.4) and two.result == "PASS"
    assert "linux/amd64,linux/arm64" in two.manager


def test_a_no_change_build_that_rebuilt_is_a_miss() -> None:
    rebuilt = replace(FOREIGN, no_change_check="the no-change build rebuilt: an input changed")
    row = named(foreign_rows(NATIVE, rebuilt), "no-change build, linux/arm64")
    assert row.ratio == pytest.approx(1.2) and row.result == "MISS"


def test_the_bytes_pushed_against_the_issues_allowances() -> None:
    """Cold: stated with no baseline; no change: 0 bytes passes and one byte fails; a source
    edit against the wheel + 1 MB; the small bump against 5% of the environment; the large
    bump against its own size + 5%; the small bump's rebuild time against 0.3 of the cold."""
    table = layer_rows(PUSHES)
    assert {row.manager for row in table} == {LAYERS_LABEL}
    cold = named(table, "push bytes, cold")
    assert cold.measured == 156e6 and cold.result == "-"
    no_change = named(table, "push bytes, no change")
    assert no_change.ratio == 0 and no_change.result == "PASS"
    one_byte = layer_rows(replace(PUSHES, ours=replace(OURS, no_change=1)))
    assert named(one_byte, "push bytes, no change").result == "MISS"
    edit = named(table, "push bytes, source edit")
    assert edit.baseline == pytest.approx(1.003e6) and edit.result == "PASS"
    small = named(table, "push bytes, small compiled bump")
    assert small.baseline == pytest.approx(6e6) and small.ratio == pytest.approx(5.0)
    assert small.result == "MISS"
    large = named(table, "push bytes, large package bump")
    assert large.baseline == pytest.approx(78e6) and large.result == "PASS"
    rebuild = named(table, "rebuild, small compiled bump")
    assert rebuild.ratio == pytest.approx(0.5) and rebuild.result == "MISS"
    assert rebuild.unit is Unit.SECONDS and rebuild.target == 0.3


def test_an_edit_that_reinstalled_the_dependencies_is_a_miss() -> None:
    """A source edit whose locked-dependencies step ran again (the build cache emptied by
    someone else meanwhile) measured no edit: a MISS with the reason."""
    reason = "locked dependencies re-installed by the edit"
    table = layer_rows(replace(PUSHES, edit_check=reason))
    edit = named(table, "push bytes, source edit")
    assert edit.ratio == pytest.approx(63e3 / 1.003e6) and edit.result == "MISS"
    assert edit.check == reason
    assert named(table, "push bytes, small compiled bump").check == ""


def test_the_edits_log_says_whether_the_dependencies_were_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pushes, "WORK", tmp_path / "work")
    monkeypatch.setattr(pushes, "ROOT", tmp_path)
    step = "#9 [5/8] RUN pip install --no-deps --require-hashes -r requirements.txt\n"
    assert pushes.edit_problems(step + "#9 CACHED\n#10 [6/8] RUN pip install x.whl\n", 0) == set()
    (problem,) = pushes.edit_problems(step + "#9 0.3 Collecting numpy\n", 0)
    assert problem.startswith("locked dependencies re-installed by the edit, see work/run/logs/")
    assert pushes.edit_problems("#3 [2/3] RUN true\n", 0) == set()  # no such step: no claim


def test_poetry_dockerizes_bytes_stand_beside_ours_when_measured() -> None:
    assert all(row.dockerize is None for row in layer_rows(PUSHES))
    theirs = PushBytes(cold=400e6, no_change=0, edit=150e6, small_bump=151e6, large_bump=152e6)
    table = layer_rows(replace(PUSHES, dockerize=theirs))
    assert named(table, "push bytes, source edit").dockerize == 150e6
    assert named(table, "push bytes, no change").dockerize == 0
    assert named(table, "push bytes, large package bump").dockerize == 152e6
    line = next(x for x in table_lines(table) if x.startswith("| push bytes, small"))
    assert line.rstrip(" |").endswith("151 MB")


def test_small_byte_counts_are_readable() -> None:
    assert fmt(0, Unit.BYTES) == "0 B"
    assert fmt(63_074, Unit.BYTES) == "63.1 kB"
    assert fmt(1_003_000, Unit.BYTES) == "1.00 MB"
    assert fmt(156e6, Unit.BYTES) == "156 MB"
    assert fmt(None, Unit.BYTES) == "n/a"


def test_the_registry_counts_what_arrived_during_the_push(tmp_path: Path) -> None:
    """Bytes stored before and after, as du -sb counts them: a blob of 10,000 bytes written
    into an existing folder is 10,000 bytes received; nothing written is 0."""
    storage = tmp_path / "storage"
    registry = LocalRegistry("127.0.0.1:5000", storage)
    assert registry.stored() == 0
    (storage / "blobs").mkdir(parents=True)
    result, received = registry.received(
        lambda: (storage / "blobs" / "b").write_bytes(b"x" * 10_000)
    )
    assert (result, received) == (10_000, 10_000)
    assert registry.received(lambda: None) == (None, 0)
    assert registry.reference("a/b") == "127.0.0.1:5000/a/b"


def lock_text(versions: dict[str, str], content_hash: str = "h") -> str:
    packages = "".join(
        f'[[package]]\nname = "{n}"\nversion = "{v}"\n\n' for n, v in versions.items()
    )
    return f'{packages}[metadata]\ncontent-hash = "{content_hash}"\n'


def test_each_bump_changes_its_package_alone(tmp_path: Path) -> None:
    """The chain of bumped locks: the small package, then the large one on top of it, each
    with the project's content hash; a relock that moves another package is refused."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\n")
    versions = {SMALL_BUMP: "6.0.4", LARGE_BUMP: "2.4.6", "six": "1.17.0"}
    (project / "poetry.lock").write_text(lock_text(versions))
    previous = {SMALL_BUMP: "6.0.3", LARGE_BUMP: "2.4.5"}
    done: list[str] = []  # the bumps relocked so far: a resolution keeps them

    def relock(scratch: Path, name: str, version: str) -> None:
        (scratch / "pyproject.toml").write_text(f"[project]\n# {name} < {version}\n")
        locked = {**versions, **{n: previous[n] for n in done}, name: previous[name]}
        done.append(name)
        (scratch / "poetry.lock").write_text(lock_text(locked, content_hash="new"))

    into = tmp_path / "locks"
    into.mkdir()
    bump_chain(tmp_path / "scratch", project, into, relock)
    small = (into / f"bumped-{SMALL_BUMP}.lock").read_text()
    large = (into / f"bumped-{LARGE_BUMP}.lock").read_text()
    assert small == lock_text({**versions, SMALL_BUMP: "6.0.3"})  # the project's hash again
    assert large == lock_text({**versions, **previous})

    def careless(scratch: Path, name: str, version: str) -> None:
        (scratch / "poetry.lock").write_text(lock_text({**versions, name: "0", "six": "1.16.0"}))

    with pytest.raises(RuntimeError, match=r"changed \['pyyaml', 'six'\]"):
        bump_chain(tmp_path / "scratch2", project, into, careless)


def test_the_changes_in_turn_each_pushed(tmp_path: Path) -> None:
    """Cold and no change touch nothing; the edit appends to the source; each bump puts its
    prepared lock in place; each change is pushed once, with its seconds and bytes received."""
    project = tmp_path / "project"
    (project / LAYERS_EDITED).parent.mkdir(parents=True)
    (project / LAYERS_EDITED).write_text("x = 1\n")
    (project / "poetry.lock").write_text("original")
    bumps = PreparedBumps(tmp_path / "prepared", {})
    for package in (SMALL_BUMP, LARGE_BUMP):
        bumps.lock("ours", package).parent.mkdir(parents=True, exist_ok=True)
        bumps.lock("ours", package).write_text(f"bumped {package}")
    storage = tmp_path / "storage"
    storage.mkdir()
    seen = []

    def push() -> float:
        """A push that stores as many bytes as the pushes before it, and sees the project."""
        lines = (project / LAYERS_EDITED).read_text().count("\n")
        seen.append((lines, (project / "poetry.lock").read_text()))
        (storage / str(len(seen))).write_bytes(b"x" * 100 * (len(seen) - 1))
        return float(len(seen))

    registry = LocalRegistry("127.0.0.1:5000", storage)
    pushed = push_sequence(registry, push, project, bumps, "ours", 0)
    assert seen == [
        (1, "original"),
        (1, "original"),
        (2, "original"),
        (2, f"bumped {SMALL_BUMP}"),
        (2, f"bumped {LARGE_BUMP}"),
    ]
    assert list(pushed) == list(CHANGES)
    assert list(pushed.values()) == [(1.0, 0), (2.0, 100), (3.0, 200), (4.0, 300), (5.0, 400)]
