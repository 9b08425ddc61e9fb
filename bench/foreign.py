"""Timing builds for the foreign platform (issue 32): the venv copy of the example built for
linux/arm64 on this amd64 engine — cold, no change, source edit — and pushed for linux/amd64
and linux/arm64 as one index, into ``results.ForeignTimes``.

A build for another platform runs natively what only places files when its base has a variant
for the engine's platform with the same Python, as a registry's ``python`` or ``debian``
image has: the two test bases, pushed to a registry of the benchmark's own as one reference
(setup, not timed), are that base. The single-platform arm64 test base, which has no such
variant, gives the all-emulated cold build beside it (``--heavy``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from bench.commands import image_id, sh, timed
from bench.config import (
    ARM64_BASE_IMAGE,
    BASE_IMAGE,
    DOCKER,
    FOREIGN_PLATFORM,
    POETRY,
    TWO_PLATFORM_BASE,
    TWO_PLATFORMS,
    VENV,
    VENV_ARM64,
    WORK,
)
from bench.measure import medians
from bench.preparation import copy_sample
from bench.registry import LocalRegistry, local_registry
from bench.results import ForeignTimes

if TYPE_CHECKING:
    from bench.config import Manager


def measure_foreign(reps: int, built: set[str], heavy: bool) -> ForeignTimes:
    """The venv cold build of the example for linux/arm64 from the two test bases pushed as
    one reference (a base with a variant for this engine's platform, as published images
    have), started cold like the native one (build cache pruned, fresh copy, fresh image
    name; the image must come out arm64, or the figure is not what the row says), then a
    no-change build and the same one-line edit as the native source edit; with ``heavy``, the
    cold build on the single-platform arm64 base (every step emulated) and the two-platform
    push."""
    times: dict[str, list[float]] = {}
    checks: set[str] = set()
    with local_registry(WORK / "run" / "registry-two-platforms") as registry:
        base = push_two_platform_base(registry)
        arm64 = replace(VENV_ARM64, base=base)
        for rep in range(reps):
            print(
                f"  the foreign platform's builds ({FOREIGN_PLATFORM}), {rep + 1}/{reps}",
                flush=True,
            )
            times.setdefault("cold", []).append(cold_foreign_build(arm64, f"cold-{rep}", built))
            project = WORK / "run" / arm64.key
            build = (POETRY, "docker", "build", "--platform", FOREIGN_PLATFORM)
            sh(*build, cwd=project)  # under the default tags, which the no-change build checks
            built.add(image_id(f"{arm64.image}:latest"))
            seconds, log = timed(*build, cwd=project)
            times.setdefault("no-change", []).append(seconds)
            if "Building " in log:
                checks.add("the no-change build rebuilt: an input changed")
            source = project / "src" / "sample_app" / "stats.py"
            source.write_text(source.read_text() + f"# benchmark edit {rep} {time.time()}\n")
            tag = f"{arm64.image}:edit-{rep}"
            times.setdefault("edit", []).append(timed(*build, "--tag", tag, cwd=project)[0])
            built.add(image_id(tag))
        if heavy:
            times["cold, emulated"] = [
                cold_foreign_build(VENV_ARM64, f"emulated-{rep}", built) for rep in range(reps)
            ]
            times["two-platform push"] = [
                measure_two_platform_push(registry, base, rep, reps) for rep in range(reps)
            ]
        remove_tags(base)
    median = medians(times)
    return ForeignTimes(
        cold=median["cold"],
        no_change=median["no-change"],
        edit=median["edit"],
        two_platform_push=median.get("two-platform push"),
        no_change_check="; ".join(sorted(checks)),
        cold_emulated=median.get("cold, emulated"),
    )


def cold_foreign_build(manager: Manager, tag: str, built: set[str]) -> float:
    """Seconds of a cold ``poetry docker build --platform linux/arm64`` of a fresh copy of the
    example on ``manager``'s base, after the build cache is pruned; an arm64 image, checked."""
    project = copy_sample(WORK / "run" / manager.key, manager)
    sh(DOCKER, "builder", "prune", "--all", "--force")
    build = (POETRY, "docker", "build", "--platform", FOREIGN_PLATFORM)
    reference = f"{manager.image}:{tag}"
    seconds = timed(*build, "--tag", reference, cwd=project)[0]
    built.add(image_id(reference))
    made = sh(DOCKER, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", reference)
    if made.stdout.strip() != FOREIGN_PLATFORM:
        raise RuntimeError(f"{reference} is {made.stdout.strip()}, not {FOREIGN_PLATFORM}")
    return seconds


def measure_two_platform_push(registry: LocalRegistry, base: str, rep: int, reps: int) -> float:
    """``poetry docker build --platform linux/amd64,linux/arm64 --push`` of a fresh venv copy of
    the example after the build cache is pruned: both images built and pushed as one index, to
    the registry of the benchmark's own that holds the two-platform base."""
    print(f"  the two-platform push ({TWO_PLATFORMS}), {rep + 1}/{reps}", flush=True)
    manager = replace(
        VENV, key="two-platforms", base=base, image=registry.reference(f"{VENV.image}-{rep}")
    )
    project = copy_sample(WORK / "run" / manager.key, manager)
    sh(DOCKER, "builder", "prune", "--all", "--force")
    build = (POETRY, "docker", "build", "--platform", TWO_PLATFORMS, "--push")
    seconds, output = timed(*build, cwd=project)
    if f"{manager.image}@sha256:" not in output:
        raise RuntimeError(f"the two-platform push printed no digest:\n{output[-3000:]}")
    remove_tags(manager.image)
    return seconds


def push_two_platform_base(registry: LocalRegistry) -> str:
    """The two test bases, pushed as one reference (``docker manifest``, as Docker 20.10 makes
    a multi-platform reference without buildx); the local per-platform tags removed again."""
    reference = registry.reference(TWO_PLATFORM_BASE)
    images = []
    for image, architecture in ((BASE_IMAGE, "amd64"), (ARM64_BASE_IMAGE, "arm64")):
        tagged = f"{reference}-{architecture}"
        sh(DOCKER, "tag", image, tagged)
        sh(DOCKER, "push", tagged)
        sh(DOCKER, "image", "rm", tagged)
        images.append(tagged)
    experimental = {"DOCKER_CLI_EXPERIMENTAL": "enabled"}  # docker manifest, on Docker 20.10
    sh(
        DOCKER,
        "manifest",
        "create",
        "--amend",
        "--insecure",
        reference,
        *images,
        extra=experimental,
    )
    sh(DOCKER, "manifest", "push", "--purge", "--insecure", reference, extra=experimental)
    return reference


def remove_tags(*references: str) -> None:
    """Removes every local tag of these repositories (or ``repository:tag``s): the registry's
    host names them, so they are nobody else's; the images they named go at the clean-up."""
    for reference in references:
        listing = sh(DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", reference).stdout
        if listing.split():
            sh(DOCKER, "rmi", *listing.split(), check=False)
