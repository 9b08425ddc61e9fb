"""Timing and weighing the pushes of bench/projects/layers-app (issue 33): the bytes a registry
of the benchmark's own receives per push, one change after the other — cold, no change, a
source edit, a bump of one small compiled package, then of the large one — for our image and,
when asked, for poetry-dockerize's; into ``results.LayerPushes``.

Each repetition starts an empty registry and a cold build cache, so that the cold push sends
the whole image (its base included) and every later push only what the registry lacks.
"""

from __future__ import annotations

import re
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.bumps import PreparedBumps
from bench.commands import image_id, sh, timed
from bench.config import (
    DOCKER,
    DOCKERIZE_IMAGE,
    DOCKERIZE_LAYERS_IMAGE,
    LARGE_BUMP,
    LAYERS,
    LAYERS_EDITED,
    LAYERS_PROJECT,
    POETRY,
    ROOT,
    SMALL_BUMP,
    WORK,
    Manager,
)
from bench.dockerize import clean_dockerize
from bench.foreign import remove_tags
from bench.measure import content_size, medians
from bench.preparation import configure
from bench.registry import LocalRegistry, local_registry
from bench.results import LayerPushes, PushBytes

CHANGES = ("cold", "no change", "edit", "small bump", "large bump")


def change(project: Path, step: str, bumps: PreparedBumps, tool: str, rep: int) -> None:
    """Makes ``step``'s change in ``project``: nothing (cold, no change), a one-line edit of the
    source, or the lock of the next bump."""
    if step == "edit":
        source = project / LAYERS_EDITED
        source.write_text(source.read_text() + f"# benchmark edit {rep} {time.time()}\n")
    elif step in ("small bump", "large bump"):
        package = SMALL_BUMP if step == "small bump" else LARGE_BUMP
        shutil.copy(bumps.lock(tool, package), project / "poetry.lock")


def push_sequence(
    registry: LocalRegistry,
    push: Callable[[], float],
    project: Path,
    bumps: PreparedBumps,
    tool: str,
    rep: int,
    steps: tuple[str, ...] = CHANGES,
) -> dict[str, tuple[float, int]]:
    """Each change of ``steps`` in turn, built and pushed: its seconds and bytes received."""
    received = {}
    for step in steps:
        change(project, step, bumps, tool, rep)
        received[step] = registry.received(push)
    return received


def measure_layers(
    reps: int, bumps: PreparedBumps, built: set[str], dockerize: bool
) -> LayerPushes:
    """Our image's pushes (``poetry docker build --push``, build and push timed together), what
    the targets are counted from (read from the cold image), and poetry-dockerize's pushes when
    ``dockerize``."""
    sent: dict[str, list[float]] = {}
    problems: set[str] = set()
    for rep in range(reps):
        print(f"  the pushes of layers-app (ours), repetition {rep + 1}/{reps}", flush=True)
        with local_registry(WORK / "run" / "registry-layers") as registry:
            manager = replace(LAYERS, image=registry.reference(LAYERS.image))
            project = copy_layers(WORK / "run" / LAYERS.key, manager)
            sh(DOCKER, "builder", "prune", "--all", "--force")
            image = f"{manager.image}:latest"

            logs: list[str] = []

            def push(project: Path = project, image: str = image, logs: list[str] = logs) -> float:
                seconds, log = timed(POETRY, "docker", "build", "--push", cwd=project)
                built.add(image_id(image))
                logs.append(log)
                return seconds

            pushed = push_sequence(registry, push, project, bumps, "ours", rep, CHANGES[:1])
            weigh(image, project, sent)  # the cold image: what the targets are counted from
            pushed |= push_sequence(registry, push, project, bumps, "ours", rep, CHANGES[1:])
            problems.update(edit_problems(logs[CHANGES.index("edit")], rep))
            for step, (seconds, received) in pushed.items():
                sent.setdefault(step, []).append(received)
                sent.setdefault(f"{step} seconds", []).append(seconds)
            remove_tags(manager.image)
    median = medians(sent)
    return LayerPushes(
        ours=PushBytes(*(median[step] for step in CHANGES)),
        cold=median["cold seconds"],
        small_bump=median["small bump seconds"],
        environment=median["environment"],
        wheel=median["wheel"],
        large_package=median["large package"],
        dockerize=measure_dockerize_layers(reps, bumps) if dockerize else None,
        bumps=bumps.describe(),
        edit_check="; ".join(sorted(problems)),
    )


def edit_problems(log: str, rep: int) -> set[str]:
    """Why the source edit's figures are not what the row says: a locked-dependencies step
    (pip's ``--require-hashes``) that ran again, e.g. because something else emptied the
    engine's build cache meanwhile. The build's output is kept under bench/work/run/logs."""
    steps = [
        match[1]
        for match in re.finditer(r"^#(\d+) \[[^\]]*\] RUN (.*)$", log, re.MULTILINE)
        if "--require-hashes" in match[2]
    ]
    ran = [n for n in steps if not re.search(rf"^#{n} CACHED$", log, re.MULTILINE)]
    if not ran:
        return set()
    path = WORK / "run" / "logs" / LAYERS.key / f"source-edit-{rep}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log)
    return {f"locked dependencies re-installed by the edit, see {path.relative_to(ROOT)}"}


def copy_layers(target: Path, manager: Manager) -> Path:
    """A fresh copy of bench/projects/layers-app, set up for ``manager`` (its registry name)."""
    shutil.rmtree(target, ignore_errors=True)
    ignored = shutil.ignore_patterns("__pycache__", "dist", ".venv")
    shutil.copytree(LAYERS_PROJECT, target, ignore=ignored)
    configure(target, manager)
    return target


def weigh(image: str, project: Path, sent: dict[str, list[float]]) -> None:
    """The environment (its prefix and the workdir, ``du -sbc`` in the image), the large
    package as installed (its folders and its dist-info) and the project's wheel."""
    sent.setdefault("environment", []).append(content_size(image)[0])
    script = (
        'cd "$VIRTUAL_ENV"/lib/python*/site-packages && '
        f"du -sbc {LARGE_BUMP} {LARGE_BUMP}.libs {LARGE_BUMP}-*.dist-info 2>/dev/null; true"
    )
    du = sh(DOCKER, "run", "--rm", "--user", "0", "--entrypoint", "sh", image, "-c", script)
    total = [line for line in du.stdout.splitlines() if line.endswith("\ttotal")]
    if not total or int(total[0].split()[0]) == 0:
        raise RuntimeError(f"{image}: no {LARGE_BUMP} in the environment's site-packages")
    sent.setdefault("large package", []).append(float(total[0].split()[0]))
    wheels = WORK / "run" / "layers-wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    sh(POETRY, "build", "--format", "wheel", "--output", wheels, cwd=project)
    sent.setdefault("wheel", []).append(float(sum(p.stat().st_size for p in wheels.glob("*.whl"))))


def measure_dockerize_layers(reps: int, bumps: PreparedBumps) -> PushBytes:
    """poetry-dockerize 1.3.1's image of the same project through the same changes, each built
    by ``poetry dockerize``, tagged under the registry's name and pushed with ``docker push``."""
    poetry18 = WORK / "poetry18" / "bin" / "poetry"
    sent: dict[str, list[float]] = {}
    try:
        for rep in range(reps):
            print(f"  the pushes of layers-app (poetry-dockerize), {rep + 1}/{reps}", flush=True)
            clean_dockerize()
            with local_registry(WORK / "run" / "registry-dockerize") as registry:
                project = WORK / "run" / "dockerize-layers"
                shutil.rmtree(project, ignore_errors=True)
                shutil.copytree(bumps.dockerize_project, project)
                reference = registry.reference(DOCKERIZE_LAYERS_IMAGE)

                def push(project: Path = project, reference: str = reference) -> float:
                    seconds = timed(poetry18, "dockerize", cwd=project)[0]
                    sh(DOCKER, "tag", f"{DOCKERIZE_IMAGE}:latest", reference)
                    sh(DOCKER, "push", reference)
                    return seconds

                for step, (_, received) in push_sequence(
                    registry, push, project, bumps, "dockerize", rep
                ).items():
                    sent.setdefault(step, []).append(received)
                remove_tags(reference)
    finally:
        clean_dockerize()
    return PushBytes(*(statistics.median(sent[step]) for step in CHANGES))
