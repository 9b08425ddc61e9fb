"""The report: the rows a run's measurements make, each a figure over its baseline against a
target, the Markdown table of them, and today's figures beside docs/benchmarks.md's record.

Arithmetic only, on the typed values of ``results``: no command runs here, so that the tests
can check the ratios and the PASS/MISS of every kind of row on results built in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.config import CONDA, CONDA_SINGLE, LARGE_FILES, MANAGERS, VENV
from bench.push_rows import foreign_rows, layer_rows
from bench.recorded import Record, RecordedRow
from bench.results import (
    BuildTimes,
    DockerizeTimes,
    ForeignTimes,
    Measurements,
    ReproducibleTimes,
    Row,
    Unit,
)

TABLE_HEADER = (
    "row",
    "manager, base",
    "measured",
    "baseline",
    "ratio",
    "target",
    "result",
    "poetry-dockerize 1.3.1",
)
# The floor rows' targets (issue 20): a no-change build costs at most 0.75 of what Poetry's
# start-up and project load plus the cached `docker build` cost, so it must skip part of that
# load (it MISSes until the plugin does); the fresh run stays within 1.1 of its floor.
NO_CHANGE_BUILD_FLOOR = 0.75
FRESH_RUN_FLOOR = 1.1


@dataclass(frozen=True)
class TimedRow:
    """A kind of build row measured for every manager with every row: what it divides by
    what, against which target, and which side condition can turn it into a MISS."""

    name: str
    measured: Callable[[BuildTimes], float | None]
    baseline: Callable[[BuildTimes], float | None]
    baseline_name: str
    target: float
    check: Callable[[BuildTimes], str]
    dockerize: Callable[[DockerizeTimes], float] | None = None  # beside the venv row


TIMED_ROWS = (
    TimedRow(
        "no-change build",
        lambda b: b.no_change,
        lambda b: b.docker_build,
        "docker build",
        1.3,
        lambda b: b.checks.no_change_build,
        lambda d: d.no_change,
    ),
    TimedRow(
        "source edit",
        lambda b: b.edit,
        lambda b: b.cold,
        "cold build",
        0.10,
        lambda b: b.checks.source_edit,
        lambda d: d.edit,
    ),
    TimedRow(
        "source edit",
        lambda b: b.edit,
        lambda b: b.warm,
        "--no-cache build, caches warm",
        0.2,
        lambda b: b.checks.source_edit,
    ),
    TimedRow(
        "dependency change",
        lambda b: b.dependency,
        lambda b: b.cold,
        "cold build",
        0.5,
        lambda b: b.checks.dependency_change,
    ),
    TimedRow(
        "dependency change",
        lambda b: b.dependency,
        lambda b: b.warm,
        "--no-cache build, caches warm",
        0.5,
        lambda b: b.checks.dependency_change,
    ),
    TimedRow(
        "fresh run",
        lambda b: b.run,
        lambda b: b.docker_run,
        "docker run --rm",
        1.3,
        lambda b: b.checks.run,
    ),
    TimedRow(
        "activation",
        lambda b: b.activation,
        lambda b: b.bare_entrypoint,
        "--entrypoint true",
        1.15,
        lambda b: b.checks.activation,
    ),
)


def fmt(value: float | None, unit: Unit) -> str:
    """A figure as the table shows it: seconds to the hundredth, sizes in MB (the small ones,
    bytes pushed, in kB or to the hundredth of a MB)."""
    if value is None:
        return "n/a"
    if unit is Unit.SECONDS:
        return f"{value:.2f} s"
    if value == 0:
        return "0 B"
    if abs(value) < 1e6:
        return f"{value / 1e3:.1f} kB"
    return f"{value / 1e6:.2f} MB" if abs(value) < 10e6 else f"{value / 1e6:.0f} MB"


def rows(measured: Measurements) -> list[Row]:
    """Every row of the table, in its order: start-up and render, the build and size rows,
    the floor rows, the large project, the bytes pushed per change."""
    commands = measured.commands
    return [
        Row("start-up", commands.startup, commands.plain_startup, "plain Poetry", 1.03),
        Row(
            "render",
            commands.render,
            commands.check_lock,
            "poetry check --lock",
            1.5,
            manager=VENV.label,
        ),
        *build_rows(measured.builds, measured.dockerize, measured.foreign, measured.reproducible),
        *floor_rows(measured.builds, commands.check_lock),
        Row(
            f"no-change run, {LARGE_FILES:,} more files",
            measured.large.large,
            measured.large.small,
            "the same on the example",
            1.3,
            manager=VENV.label,
        ),
        *layer_rows(measured.layers),
    ]


def build_rows(
    builds: dict[str, BuildTimes],
    dockerize: DockerizeTimes,
    foreign: ForeignTimes,
    reproducible: ReproducibleTimes,
) -> list[Row]:
    """The build and size rows, each kind once per manager that measured it, in the order of
    MANAGERS (venv, conda with its runtime stage, then conda single-stage, which has only the
    cold build and the sizes). poetry-dockerize's numbers go beside the venv rows only: both
    build on the same Debian Python, the like-for-like comparison; its image is the baseline
    of every manager's sizes, totals and over each image's own base, so that a larger base is
    not counted against (or for) a manager. The foreign platform's rows follow the native cold
    builds."""
    full = [m for m in MANAGERS if not m.cold_only]
    table = [
        Row(
            "cold build",
            builds[m.key].cold,
            None,
            "",
            None,
            dockerize=dockerize.cold if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    table += foreign_rows(builds[VENV.key], foreign)
    table += reproducible_rows(builds[VENV.key], reproducible)
    for kind in TIMED_ROWS:
        table += [
            Row(
                kind.name,
                kind.measured(builds[m.key]),
                kind.baseline(builds[m.key]),
                kind.baseline_name,
                kind.target,
                check=kind.check(builds[m.key]),
                dockerize=kind.dockerize(dockerize) if kind.dockerize and m is VENV else None,
                manager=m.label,
            )
            for m in full
        ]
    table += [
        Row(
            "image size",
            builds[m.key].size,
            dockerize.size,
            "poetry-dockerize",
            None,
            unit=Unit.BYTES,
            dockerize=dockerize.size if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    table += [
        Row(
            "size over base",
            builds[m.key].over_base,
            dockerize.over_base,
            "poetry-dockerize over its base",
            None,
            unit=Unit.BYTES,
            dockerize=dockerize.over_base if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    # What the runtime stage saves: the same environment, over the base of each final stage.
    table.append(
        Row(
            "size over base",
            builds[CONDA.key].over_base,
            builds[CONDA_SINGLE.key].over_base,
            "conda single-stage over its base",
            None,
            unit=Unit.BYTES,
            manager=CONDA.label,
        )
    )
    # The runtime stage's promise: little in the image but the environment and the project.
    table += [
        Row(
            "size over content",
            builds[m.key].over_base,
            builds[m.key].content,
            "du: environment + workdir",
            1.1 if m is CONDA else None,
            unit=Unit.BYTES,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    return table


def reproducible_rows(plain: BuildTimes, reproducible: ReproducibleTimes) -> list[Row]:
    """The venv cold build and source edit with ``--reproducible`` over the plain ones: what
    a bit-identical image costs here (stated; it is the default only where this is small)."""
    return [
        Row("cold build, --reproducible", reproducible.cold, plain.cold, "plain cold build",
            None, manager=VENV.label),
        Row("source edit, --reproducible", reproducible.edit, plain.edit, "plain source edit",
            None, manager=VENV.label),
    ]  # fmt: skip


def floor_rows(builds: dict[str, BuildTimes], check_lock: float) -> list[Row]:
    """The no-change build and the fresh run against the floor of any Poetry plugin: Poetry's
    own start-up and project load (``poetry check --lock``) plus the one docker command it
    stands for, both measured in this run. What is left above 1 is the plugin's own work; the
    no-change build's target below 1 asks it to skip part of Poetry's own load."""
    table = []
    for m in MANAGERS:
        if m.cold_only:
            continue
        ours = builds[m.key]
        for name, measured, floor, command, target in (
            (
                "no-change build, floor",
                ours.no_change,
                ours.docker_build,
                "docker build",
                NO_CHANGE_BUILD_FLOOR,
            ),
            ("fresh run, floor", ours.run, ours.docker_run, "docker run", FRESH_RUN_FLOOR),
        ):
            table.append(
                Row(
                    name,
                    measured,
                    None if floor is None else check_lock + floor,
                    f"poetry check --lock + {command}",
                    target,
                    manager=m.label,
                )
            )
    return table


def markdown(header: tuple[str, ...], lines: Sequence[tuple[str, ...]]) -> list[str]:
    """A Markdown table whose columns line up in plain text too."""
    everything = [header, *lines]
    widths = [max(len(line[i]) for line in everything) for i in range(len(header))]
    text = []
    for number, line in enumerate(everything):
        text.append(
            "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        )
        if number == 0:
            text.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return text


def ratio_text(row: Row) -> str:
    return "-" if row.ratio is None else f"{row.ratio:.3g}"


def target_text(row: Row) -> str:
    return "-" if row.target is None else f"<= {row.target:g}"


def table_lines(table: list[Row]) -> list[str]:
    """The table, in Markdown: what is printed, and what ``--record`` writes."""
    lines = [
        (
            row.name,
            row.manager or "-",
            fmt(row.measured, row.unit),
            f"{fmt(row.baseline, row.unit)} ({row.baseline_name})" if row.baseline_name else "-",
            ratio_text(row),
            target_text(row),
            row.result + (f" ({row.check})" if row.check else ""),
            "" if row.dockerize is None else fmt(row.dockerize, row.unit),
        )
        for row in table
    ]
    return markdown(TABLE_HEADER, lines)


def comparison_lines(table: list[Row], recorded: Record) -> list[str]:
    """Today's figures beside the recorded ones, row by row (matched by name, manager and
    baseline), against today's targets: what a quick run says about the code since the
    record. A row the record lacks says so."""
    by_key: dict[tuple[str, str, str], RecordedRow] = {row.key: row for row in recorded.rows}
    lines = []
    for row in table:
        then = by_key.get(row.key)
        lines.append(
            (
                row.name,
                row.manager or "-",
                row.baseline_name or "-",
                target_text(row),
                f"{then.measured}, {then.ratio}, {then.result}" if then else "not recorded",
                f"{fmt(row.measured, row.unit)}, {ratio_text(row)}, {row.result}",
            )
        )
    header = (
        "row",
        "manager, base",
        "baseline",
        "target today",
        f"recorded at {recorded.commit} (measured, ratio, result)",
        "today (measured, ratio, result)",
    )
    return markdown(header, lines)
