"""Timing poetry-dockerize-plugin 1.3.1 on the same project, for comparison, and cleaning up
after it: it builds with the legacy builder and ``rm=False``, so it leaves a stopped container
per build step and images that descend from its base."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.commands import image_size, sh, timed
from bench.config import DOCKER, DOCKERIZE_IMAGE, STAND_IN, WORK
from bench.measure import medians
from bench.results import DockerizeTimes


def measure_dockerize(reps: int, template: Path) -> DockerizeTimes:
    """poetry-dockerize-plugin 1.3.1 on the same project: cold, no-change, source-edit, size."""
    poetry18 = WORK / "poetry18" / "bin" / "poetry"
    times: dict[str, list[float]] = {}
    leftovers = 0
    try:
        for rep in range(reps):
            print(f"  poetry-dockerize builds, repetition {rep + 1}/{reps}", flush=True)
            clean_dockerize()
            project = WORK / "run" / "dockerize"
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(template, project)
            times.setdefault("cold", []).append(timed(poetry18, "dockerize", cwd=project)[0])
            times.setdefault("size", []).append(image_size(f"{DOCKERIZE_IMAGE}:latest"))
            times.setdefault("no-change", []).append(timed(poetry18, "dockerize", cwd=project)[0])
            source = project / "sample_app" / "stats.py"
            source.write_text(source.read_text() + f"# benchmark edit {rep} {time.time()}\n")
            times.setdefault("edit", []).append(timed(poetry18, "dockerize", cwd=project)[0])
            leftovers = len(dockerize_leftovers()[0])
    finally:
        clean_dockerize()
    median = medians(times)
    return DockerizeTimes(
        cold=median["cold"],
        no_change=median["no-change"],
        edit=median["edit"],
        size=median["size"],
        base_size=image_size(STAND_IN),
        stopped_containers=leftovers,
    )


def dockerize_leftovers() -> tuple[list[str], list[str]]:
    """What poetry-dockerize leaves behind (it builds with rm=False): the stopped containers
    and the images that descend from the stand-in base, children first."""
    ancestor = f"ancestor={STAND_IN}"
    containers = sh(DOCKER, "ps", "--all", "--quiet", "--filter", ancestor).stdout.split()
    base = sh(DOCKER, "image", "inspect", "--format", "{{.Id}}", STAND_IN).stdout.strip()
    ids = sorted(set(sh(DOCKER, "images", "--all", "--quiet", "--no-trunc").stdout.split()))
    parent = {}
    if ids:
        listing = sh(DOCKER, "image", "inspect", "--format", "{{.Id}} {{.Parent}}", *ids).stdout
        parent = dict(line.partition(" ")[::2] for line in listing.splitlines())

    def depth(image: str) -> int:
        """Generations below the stand-in, or -1 when the image does not descend from it."""
        generations = 0
        while image and image != base:
            image, generations = parent.get(image, ""), generations + 1
        return generations if image else -1

    images = sorted((i for i in parent if depth(i) > 0), key=depth, reverse=True)
    return containers, images


def clean_dockerize() -> None:
    """Removes poetry-dockerize's leftovers, so that its next build starts cold."""
    containers, images = dockerize_leftovers()
    if containers:
        sh(DOCKER, "rm", "--force", *containers)
    if images:
        sh(DOCKER, "rmi", "--force", *images)
