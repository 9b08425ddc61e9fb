"""Benchmark: what poetry-docker-plugin costs over the tools it drives, and how fast it rebuilds.

Run from the repository root (``bash scripts/dev bench`` sets up Docker, the offline test base
image and .venv first)::

    .venv/bin/python -m bench [--quick] [--reps N] [--record]

Every row is measured in this run and printed as the median of its repetitions, divided by a
baseline measured in the same run, so that the ratio holds on any machine; then the same rows
beside the benchmarks page's record of a full run. The build rows are measured once per environment
manager (venv on the offline test base; conda on the offline Miniforge stand-in with its
runtime stage on the test base), each row saying which; conda single-stage (runtime-base =
"base") adds its cold build and sizes only. bench/README.md says what each row compares and
why. Work happens in bench/work/ (git-ignored), on copies of examples/sample-app: the example
itself is never touched. A missed target is reported, not failed: the exit status is non-zero
only when something crashes.
"""

from __future__ import annotations

import argparse
import shutil
import time

from bench.bumps import prepare_bumps
from bench.commands import commits_since, image_exists, machine, sh
from bench.config import (
    DOCKERIZE,
    LARGE_FILES,
    MANAGERS,
    POETRY,
    ROOT,
    SAMPLES_PER_REP,
    STAND_IN,
    VENV,
    VENV_ARM64,
    WORK,
)
from bench.dockerize import measure_dockerize
from bench.foreign import measure_foreign
from bench.measure import (
    clean_ours,
    measure_builds,
    measure_commands,
    measure_large_project,
    measure_reproducible,
)
from bench.preparation import (
    copy_sample,
    ensure_stand_in,
    ensure_venv,
    pins_for_image,
    plugin_pins,
    prepare,
    shared_pins,
)
from bench.pushes import measure_layers
from bench.recorded import Provenance, Record, read_record, record, subject_digest
from bench.report import comparison_lines, fmt, rows, table_lines
from bench.results import BuildTimes, Measurements, Row, Unit


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition (CI)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every row (default 5)")
    parser.add_argument(
        "--heavy",
        action="store_true",
        help="with --quick: also the heaviest rows, which a full run always measures (the "
        "two-platform push, poetry-dockerize's pushes)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the table into docs/benchmarks.md, with its commit",
    )
    return parser.parse_args()


def measure(reps: int, heavy: bool) -> Measurements:
    """Sets up what is measured (venvs, the stand-in, the projects), then measures it all; the
    heaviest rows only when ``heavy``."""
    for manager in (*MANAGERS, VENV_ARM64):
        for base in dict.fromkeys((manager.base, manager.final_base)):
            if not image_exists(base):
                raise SystemExit(
                    f"No base image {base} ({manager.label}): run `bash scripts/dev bench`."
                )
    WORK.mkdir(parents=True, exist_ok=True)
    pins = plugin_pins()
    plugin_venv = ensure_venv("poetry-plugin", *pins, "--editable", str(ROOT))
    ensure_venv("poetry-plain", pins[0], "--constraint", str(shared_pins(plugin_venv)))
    ensure_venv("poetry18", *DOCKERIZE)
    ensure_stand_in()

    # The --output context of each manager with every row: the no-change build's baseline.
    outputs = {m.key: WORK / "run" / f"docker-build-context-{m.key}" for m in MANAGERS}
    for manager in MANAGERS:
        shutil.rmtree(outputs[manager.key], ignore_errors=True)
        if not manager.cold_only:
            project = copy_sample(WORK / "run" / manager.key, manager)
            sh(POETRY, "docker", "build", "--output", outputs[manager.key], cwd=project)
    changed, dockerize_template = prepare(pins_for_image(outputs[VENV.key]))
    bumps = prepare_bumps()
    # A run that crashed (an engine that went down) left its tags: a "cold" build under such a
    # tag would be skipped as up to date. Cleared before measuring, as after.
    clean_ours(set())

    samples = SAMPLES_PER_REP * reps
    print(f"measuring: {reps} repetition(s), {samples} samples of the sub-second rows", flush=True)
    commands = measure_commands(copy_sample(WORK / "run" / VENV.key, VENV), samples=samples)
    built: set[str] = set()
    builds: dict[str, BuildTimes] = {}
    try:
        print(f"  a no-change run with {LARGE_FILES:,} more files", flush=True)
        large = measure_large_project(samples, built)
        for manager in MANAGERS:
            builds[manager.key] = measure_builds(
                reps, manager, changed, outputs[manager.key], built
            )
        foreign = measure_foreign(reps, built, heavy)
        reproducible = measure_reproducible(reps, built)
        layers = measure_layers(reps, bumps, built, dockerize=heavy)
    finally:
        clean_ours(built)
    dockerize = measure_dockerize(reps, dockerize_template)
    return Measurements(commands, large, builds, dockerize, foreign, reproducible, layers)


def print_notes(measured: Measurements) -> None:
    """What the table's rows rest on: failed runs, the bases, what the content rows counted."""
    builds, dockerize = measured.builds, measured.dockerize
    for manager in MANAGERS:
        if builds[manager.key].run_error:
            print(f"fresh run ({manager.label}): n/a, {builds[manager.key].run_error}")
    bases = [f"{m.key} {m.final_base} {fmt(builds[m.key].base_size, Unit.BYTES)}" for m in MANAGERS]
    bases.append(f"poetry-dockerize the stand-in {STAND_IN} {fmt(dockerize.base_size, Unit.BYTES)}")
    print(f"bases of the final stages (size over base): {'; '.join(bases)}")
    contents = [f"{m.key} {builds[m.key].content_paths}" for m in MANAGERS]
    print(f"content (du -sbc in the image: size over content): {'; '.join(contents)}")
    layers = measured.layers
    print(
        f"layers-app (push bytes): bumps {layers.bumps}; environment "
        f"{fmt(layers.environment, Unit.BYTES)}, its wheel {layers.wheel / 1e3:.1f} kB, "
        f"the large package {fmt(layers.large_package, Unit.BYTES)}"
        + ("" if layers.dockerize else "; poetry-dockerize's pushes not measured (--heavy)")
    )
    if measured.foreign.two_platform_push is None:
        print("two-platform push: not measured (--quick without --heavy)")
    print(
        f"poetry-dockerize: source edit / its cold build = "
        f"{dockerize.edit / dockerize.cold:.2f}; it left "
        f"{dockerize.stopped_containers} stopped containers per build sequence (removed)"
    )


def print_beside_record(table: list[Row], recorded: Record, provenance: Provenance) -> None:
    """Every row of this run beside the record (docs/benchmarks.md), and how old it is: the quick
    run's way of showing what the code since the record changed, without recording."""
    age = commits_since(recorded.commit)
    subject = (
        "the same as today's"
        if recorded.subject == provenance.subject
        else f"today's is {provenance.subject}"
    )
    print(
        f"beside the benchmarks page's record: commit {recorded.commit} of {recorded.date} "
        f"({'an unknown number of' if age is None else age} commits before this one), "
        f"{recorded.reps} repetition(s), subject {recorded.subject} ({subject})"
    )
    print("\n".join(comparison_lines(table, recorded)))


def main() -> None:
    options = arguments()
    reps = 1 if options.quick else max(1, options.reps)
    started = time.perf_counter()
    provenance = Provenance.current()
    print(f"measuring commit {provenance.commit}, subject {provenance.subject}", flush=True)
    try:
        recorded: Record | None = read_record()
    except ValueError as error:  # tests/unit/bench/test_report.py fails on it too; the run goes on
        print(f"WARNING: no record to compare with: {error}", flush=True)
        recorded = None
    heavy = options.heavy or not options.quick
    measured = measure(reps, heavy)
    table = rows(measured)
    lines = table_lines(table)
    print()
    print(f"poetry-docker-plugin benchmark: medians of {reps} repetition(s), ratio = median/median")
    print("\n".join(lines))
    print()
    print_notes(measured)
    if recorded:
        print()
        print_beside_record(table, recorded, provenance)
    print()
    if subject_digest() != provenance.subject:
        print("WARNING: the plugin's sources changed during the run; the rows mix versions.")
    elif options.record:
        record(lines, reps, machine(), provenance)
        print("recorded in docs/benchmarks.md")
    print(machine())
    print(f"total time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
