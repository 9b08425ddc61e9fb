"""Timing the plugin: the sub-second commands, every manager's builds and runs, the cost of
activation, a no-change run on a large project, and the images' sizes, into ``results``.

Each measurement checks the side condition that makes its figure mean what the row says (a
no-change build that did not rebuild, a source edit that kept the dependencies CACHED...); a
failed check is kept as a reason, with the build's output under bench/work/run/logs.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import time
from pathlib import Path

from bench.commands import image_id, image_size, sh, timed
from bench.config import (
    BASELINE_IMAGE,
    DOCKER,
    LARGE,
    MANAGERS,
    POETRY,
    ROOT,
    SMALL,
    VENV,
    VENV_ARM64,
    WORK,
    Manager,
)
from bench.preparation import configure, copy_sample, make_large_copy
from bench.results import (
    BuildChecks,
    BuildTimes,
    CommandTimes,
    LargeProjectTimes,
    ReproducibleTimes,
)


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {key: statistics.median(values) for key, values in samples.items()}


def cached(output: str, instruction: str) -> list[bool]:
    """For each build step running ``instruction``: whether BuildKit's plain progress shows it
    CACHED."""
    steps = [
        re.search(rf"^#{match[1]} CACHED$", output, re.MULTILINE) is not None
        for match in re.finditer(r"^#(\d+) \[[^\]]*\] RUN (.*)$", output, re.MULTILINE)
        if instruction in match[2]
    ]
    if not steps:
        raise RuntimeError(f"no build step runs {instruction!r}; the Dockerfile changed?")
    return steps


def measure_commands(project: Path, samples: int) -> CommandTimes:
    """The sub-second rows, measured and baseline interleaved so that drift hits both.

    Start-up compares two venvs that differ only by the plugin (and what it pulls in), not
    .venv, whose dev tools would slow Poetry's scan of entry points too.
    """
    plain = WORK / "poetry-plain" / "bin" / "poetry"
    with_plugin = WORK / "poetry-plugin" / "bin" / "poetry"
    pairs: dict[str, tuple[list[str | Path], list[str | Path]]] = {
        "start-up": ([with_plugin, "--version"], [plain, "--version"]),
        "render": ([POETRY, "docker", "build", "--print"], [POETRY, "check", "--lock"]),
    }
    times: dict[str, list[float]] = {}
    for name, (measured, baseline) in pairs.items():
        timed(*measured, cwd=project)  # warm-up: byte-compilation, page cache
        timed(*baseline, cwd=project)
        for _ in range(samples):
            times.setdefault(name, []).append(timed(*measured, cwd=project)[0])
            times.setdefault(name + "/", []).append(timed(*baseline, cwd=project)[0])
    median = medians(times)
    return CommandTimes(
        startup=median["start-up"],
        plain_startup=median["start-up/"],
        render=median["render"],
        check_lock=median["render/"],
    )


class BuildLog:
    """The failed side conditions of one manager's rows, with the output that showed each kept
    in bench/work/run/logs/MANAGER/ to look at."""

    def __init__(self, manager: Manager) -> None:
        self.folder = WORK / "run" / "logs" / manager.key
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.problems: dict[str, set[str]] = {}

    def check(self, row: str, ok: bool, problem: str, log: str, rep: int) -> None:
        """Records a failed side condition of ``row``, with the build's output."""
        if not ok:
            path = self.folder / f"{row.replace(' ', '-')}-{rep}.log"
            path.write_text(log)
            self.problems.setdefault(row, set()).add(f"{problem}, see {path.relative_to(ROOT)}")

    def reason(self, row: str) -> str:
        return "; ".join(sorted(self.problems.get(row, ())))

    def checks(self) -> BuildChecks:
        return BuildChecks(
            no_change_build=self.reason("no-change build"),
            source_edit=self.reason("source edit"),
            dependency_change=self.reason("dependency change"),
            run=self.reason("run"),
            activation=self.reason("activation"),
        )


def measure_builds(
    reps: int, manager: Manager, changed: Path, output: Path, built: set[str]
) -> BuildTimes:
    """Cold, no-change, source-edit and dependency-change builds, the fresh run, the cost of
    activation and the image's sizes, with one manager on its base(s); only the cold build and
    the sizes for a ``cold_only`` manager.

    Each repetition starts cold (build cache pruned, fresh image name, fresh copy), so that
    the source edit and the lock change are real changes every time. ``output`` is the
    manager's ``--output`` context (the no-change baseline; unused when ``cold_only``).
    ``built`` collects the ids of the images, for ``clean_ours``.
    """
    times: dict[str, list[float]] = {}
    run_error = ""
    log_of = BuildLog(manager)
    check = log_of.check
    final = f"{manager.image}:latest"

    def add(key: str, seconds: float) -> None:
        times.setdefault(key, []).append(seconds)

    for rep in range(reps):
        print(f"  our builds ({manager.label}), repetition {rep + 1}/{reps}", flush=True)
        project = copy_sample(WORK / "run" / manager.key, manager)

        def poetry_docker(command: str, *args: str, project: Path = project) -> tuple[float, str]:
            result = timed(POETRY, "docker", command, *args, cwd=project)
            tags = [args[i + 1] for i, arg in enumerate(args) if arg == "--tag"]
            built.add(image_id(tags[0] if tags else f"{manager.image}:latest"))
            return result

        sh(DOCKER, "builder", "prune", "--all", "--force")
        add("cold", poetry_docker("build", "--tag", f"{manager.image}:cold-{rep}")[0])
        if manager.cold_only:
            final = f"{manager.image}:cold-{rep}"
            add("size", image_size(final))
            continue
        final = f"{manager.image}:latest"
        poetry_docker("build")  # under the default tags, which `run` looks for
        seconds, log = poetry_docker("build")
        add("no-change", seconds)
        skipped = "Building " not in log  # the plugin's sources edited meanwhile, for one
        check("no-change build", skipped, "it rebuilt: an input changed", log, rep)
        baseline = f"{BASELINE_IMAGE}:{manager.key}-{rep}"
        timed(DOCKER, "build", "--tag", baseline, output)  # warm-up: the same steps, cached
        seconds, log = timed(DOCKER, "build", "--tag", baseline, output)
        add("docker build", seconds)
        # A baseline that rebuilt something (a busy engine, a base re-tagged meanwhile) is no
        # baseline: say so rather than show a flattering ratio.
        ok = all(cached(log, ""))
        check("no-change build", ok, "the baseline docker build was not fully cached", log, rep)
        built.add(image_id(baseline))
        # Every step again, but pip's (and conda's) caches warm: a cold build without the
        # downloads, the baseline that network time does not flatter.
        add("warm", poetry_docker("build", "--no-cache", "--tag", f"{manager.image}:warm-{rep}")[0])
        if not run_error:
            try:
                poetry_docker("run", "--", "true")  # warm-up, and: is `run` there yet?
                seconds, log = poetry_docker("run", "--", "true")
                add("run", seconds)
                add("docker run", timed(DOCKER, "run", "--rm", final, "true")[0])
                check("run", "Building " not in log, "run rebuilt an up-to-date image", log, rep)
            except RuntimeError as error:
                lines = str(error).splitlines()
                run_error = next((x for x in lines if "ERROR" in x), lines[-1])[:200]
        for key, seconds in measure_activation(manager, final, rep, log_of):
            add(key, seconds)
        add("size", image_size(final))

        source = project / "src" / "sample_app" / "stats.py"
        source.write_text(source.read_text() + f"# benchmark edit {rep} {time.time()}\n")
        seconds, log = poetry_docker("build", "--tag", f"{manager.image}:edit-{rep}")
        add("edit", seconds)
        ok = all(cached(log, "--require-hashes"))
        check("source edit", ok, "locked dependencies re-installed", log, rep)

        for name in ("pyproject.toml", "poetry.lock"):
            shutil.copy(changed / name, project / name)
        configure(project, manager)  # the prepared pyproject was written for the venv rows
        seconds, log = poetry_docker("build", "--tag", f"{manager.image}:dependency-{rep}")
        add("dependency", seconds)
        ok = all(cached(log, manager.env_step))
        check("dependency change", ok, "the environment re-created", log, rep)
        ok = not all(cached(log, "--require-hashes"))
        check("dependency change", ok, "nothing installed: not a change?", log, rep)
    median = medians(times)
    content, content_paths = content_size(final)  # the last repetition's image
    return BuildTimes(
        cold=median["cold"],
        size=median["size"],
        base_size=image_size(manager.final_base),
        content=content,
        content_paths=content_paths,
        checks=log_of.checks(),
        no_change=median.get("no-change"),
        docker_build=median.get("docker build"),
        warm=median.get("warm"),
        edit=median.get("edit"),
        dependency=median.get("dependency"),
        run=median.get("run"),
        docker_run=median.get("docker run"),
        activation=median.get("activation"),
        bare_entrypoint=median.get("entrypoint true"),
        run_error=run_error,
    )


def measure_reproducible(reps: int, built: set[str]) -> ReproducibleTimes:
    """The venv cold build and source edit with ``--reproducible``, started as the plain ones
    are (build cache pruned, fresh copy, the same one-line edit): what the bit-identical image
    costs on this engine, where the image is saved, rewritten and loaded after each build."""
    times: dict[str, list[float]] = {}
    for rep in range(reps):
        print(f"  the reproducible builds (venv), {rep + 1}/{reps}", flush=True)
        project = copy_sample(WORK / "run" / f"{VENV.key}-reproducible", VENV)
        sh(DOCKER, "builder", "prune", "--all", "--force")
        for key in ("cold", "edit"):
            if key == "edit":
                source = project / "src" / "sample_app" / "stats.py"
                source.write_text(source.read_text() + f"# benchmark edit {rep} {time.time()}\n")
            tag = f"{VENV.image}:reproducible-{key}-{rep}"
            build = (POETRY, "docker", "build", "--reproducible", "--tag", tag)
            times.setdefault(key, []).append(timed(*build, cwd=project)[0])
            built.add(image_id(tag))
    median = medians(times)
    return ReproducibleTimes(cold=median["cold"], edit=median["edit"])


def measure_activation(
    manager: Manager, image: str, rep: int, log_of: BuildLog
) -> list[tuple[str, float]]:
    """What the entrypoint costs a container: ``docker run --rm IMAGE true`` against the same
    with ``--entrypoint true``, which skips activation. Sub-second and noisy like the first
    rows, so 8 samples each, interleaved. Also checks that the entrypoint did activate: the
    variables that only the environment's activate.d scripts set are there."""
    samples: list[tuple[str, float]] = []
    timed(DOCKER, "run", "--rm", image, "true")  # warm-up
    timed(DOCKER, "run", "--rm", "--entrypoint", "true", image)
    for _ in range(8):
        samples.append(("activation", timed(DOCKER, "run", "--rm", image, "true")[0]))
        bare = timed(DOCKER, "run", "--rm", "--entrypoint", "true", image)[0]
        samples.append(("entrypoint true", bare))
    for key, value in manager.activated:
        seen = sh(DOCKER, "run", "--rm", image, "printenv", key, check=False).stdout.strip()
        problem = f"{key}={seen or '(unset)'} after activation, not {value}"
        log_of.check(
            "activation", seen == value, problem, f"docker run {image} printenv {key}", rep
        )
    return samples


def measure_large_project(samples: int, built: set[str]) -> LargeProjectTimes:
    """A no-change ``run -- true`` on the example with 20,000 more files against the same on
    the example, interleaved: what a no-change call costs must not grow with the project."""
    small = copy_sample(WORK / "run" / SMALL.key, SMALL)
    large = make_large_copy(WORK / "run" / LARGE.key)
    runs: dict[str, list[float]] = {}
    for manager, project in ((SMALL, small), (LARGE, large)):
        sh(POETRY, "docker", "build", cwd=project)
        built.add(image_id(f"{manager.image}:latest"))
        # Twice: the first call after a build records the files' times (the stat cache trusts
        # only times older than 2 s), as any second call of a user's would have.
        for _ in range(2):
            timed(POETRY, "docker", "run", "--", "true", cwd=project)
        runs[manager.key] = []
    for _ in range(samples):
        for manager, project in ((SMALL, small), (LARGE, large)):
            seconds, log = timed(POETRY, "docker", "run", "--", "true", cwd=project)
            if "Building " in log:
                raise RuntimeError(f"{manager.key}: a no-change run rebuilt:\n{log}")
            runs[manager.key].append(seconds)
    median = medians(runs)
    return LargeProjectTimes(large=median[LARGE.key], small=median[SMALL.key])


def content_size(image: str) -> tuple[float, str]:
    """What the image holds of the project: the environment's prefix (the locked dependencies
    and the project's installed wheel; for conda also the environment's own Python) and the
    working directory (the project's ``include``d files: none in the example), in bytes, as
    ``du --apparent-size`` counts them (hard-linked files once), the way layers count bytes.
    Also says what it measured."""
    config = json.loads(
        sh(DOCKER, "image", "inspect", "--format", "{{json .Config}}", image).stdout
    )
    variables = dict(item.partition("=")[::2] for item in config.get("Env") or [])
    prefix = variables.get("CONDA_PREFIX") or variables.get("VIRTUAL_ENV")
    if not prefix:
        raise RuntimeError(f"{image}: neither CONDA_PREFIX nor VIRTUAL_ENV in its Env")
    paths = [prefix, config.get("WorkingDir") or "/app"]
    du = sh(DOCKER, "run", "--rm", "--user", "0", "--entrypoint", "du", image, "-sbc", *paths)
    total = next(line for line in du.stdout.splitlines() if line.endswith("\ttotal"))
    return float(total.split()[0]), " + ".join(paths)


def clean_ours(built: set[str]) -> None:
    """Removes the benchmark's tags, then the images it built that no tag names any more: an
    identical build that someone else tagged stays (identical builds share an id)."""
    managers = (*MANAGERS, LARGE, SMALL, VENV_ARM64)
    for repository in (*(m.image for m in managers), BASELINE_IMAGE):
        listing = sh(DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout
        if listing.split():
            sh(DOCKER, "rmi", *listing.split(), check=False)
    for image in built:
        tags = sh(DOCKER, "image", "inspect", "--format", "{{len .RepoTags}}", image, check=False)
        if tags.stdout.strip() == "0":
            sh(DOCKER, "rmi", image, check=False)
