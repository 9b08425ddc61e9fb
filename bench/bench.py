"""Benchmark: what poetry-docker-plugin costs over the tools it drives, and how fast it rebuilds.

Run from the repository root (``bash scripts/dev bench`` sets up Docker, the offline test base
image and .venv first)::

    .venv/bin/python bench/bench.py [--quick] [--reps N]

Every row is measured in this run and printed as the median of its repetitions, divided by a
baseline measured in the same run, so that the ratio holds on any machine. The build rows are
measured once per environment manager (venv on the offline test base; conda on the offline
Miniforge stand-in with its runtime stage on the test base), each row saying which; conda
single-stage (runtime-base = "base") adds its cold build and sizes only. bench/README.md says
what each row compares and why. Work happens in bench/work/ (git-ignored), on copies of
examples/sample-app: the example itself is never touched. A missed target is reported, not
failed: the exit status is non-zero only when something crashes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
SAMPLE = ROOT / "examples" / "sample-app"
POETRY = ROOT / ".venv" / "bin" / "poetry"
DOCKER = os.environ.get("POETRY_DOCKER_ENGINE") or "/usr/bin/docker"
BASE_IMAGE = os.environ.get("TEST_BASE_IMAGE") or "poetry-docker-test-base:bookworm"
PYTHON = "3.11"  # the Python of the test base image (Debian bookworm)
# The offline Miniforge stand-in (design.md): a real conda whose local channel has python 3.11,
# pip and actdemo only (actdemo's activate.d script exports ACTDEMO=1).
CONDA_BASE_IMAGE = os.environ.get("CONDA_TEST_BASE_IMAGE") or "miniforge-standin:25.3.1"
# Our images get names of their own, so that the benchmark never replaces anyone's sample-app.
IMAGE = "poetry-docker-bench/sample-app"
BASELINE_IMAGE = "poetry-docker-bench/docker-build"
# A small pure package that is not in the sample's lock yet (six is: python-dateutil needs it).
EXTRA_PACKAGE = "tabulate (>=0.9,<1)"
DOCKERIZE = ("poetry==1.8.5", "poetry-dockerize-plugin==1.3.1")
DOCKERIZE_IMAGE = "poetry-docker-bench/dockerize-sample-app"
# poetry-dockerize's default base is python:3.11-slim-bookworm, which no registry serves here:
# a stand-in under a name of the benchmark's own (DOCKERIZE_BASE_IMAGE points the plugin at it).
STAND_IN = f"poetry-docker-bench/python:{PYTHON}-slim-bookworm"
STAND_IN_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
# Like the python images: a pip-enabled python first on PATH, no EXTERNALLY-MANAGED marker.
RUN python3 -m venv /usr/local
# Poetry inside the image uses requests: trust the test base image's CA bundle there too.
ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
"""


@dataclass(frozen=True)
class Manager:
    """An environment manager on its base image(s): the build rows are measured once per
    manager, each on a copy of the example whose [tool.poetry-docker] names them, and an image
    name of its own."""

    key: str  # names the manager's working copy, logs and --output context under bench/work
    name: str  # the env-manager setting
    base: str
    image: str
    env_step: str  # what the environment's RUN step runs: a lock change must leave it CACHED
    settings: dict[str, Any] = field(default_factory=dict)  # more [tool.poetry-docker] keys
    # Variables that only the entrypoint's activation sets (activate.d scripts): a check that
    # it ran, beside the activation row's timing.
    activated: tuple[tuple[str, str], ...] = ()
    # The runtime-base setting (conda): an image for the runtime stage, or "base" for a single
    # stage; empty: not set (venv images have one stage anyway).
    runtime_base: str = ""
    # Only the cold build and the sizes, not every row: a variant compared by size.
    cold_only: bool = False

    @property
    def final_base(self) -> str:
        """The base of the image's final stage: what its size over its base is counted from."""
        return self.base if self.runtime_base in ("", "base") else self.runtime_base

    @property
    def label(self) -> str:
        if self.runtime_base == "base":
            return f"{self.name} single-stage, {self.base}"
        if self.runtime_base:
            return f"{self.name}, {self.base} -> {self.runtime_base}"
        return f"{self.name}, {self.base}"


VENV = Manager("venv", "venv", BASE_IMAGE, IMAGE, "-m venv")
# The stand-in's channel has only 3.11; actdemo shows that activation ran its activate.d.
CONDA_SETTINGS = {"python": PYTHON, "conda-packages": ["actdemo"]}
# The default layout: the environment made FROM the conda base, copied into a runtime stage.
# Its default runtime base (debian:bookworm-slim) cannot be pulled here: the test base instead.
CONDA = Manager(
    "conda",
    "conda",
    CONDA_BASE_IMAGE,
    f"{IMAGE}-conda",
    "conda create",
    CONDA_SETTINGS,
    activated=(("ACTDEMO", "1"),),
    runtime_base=BASE_IMAGE,
)
# runtime-base = "base": one stage FROM the conda base, the layout before the runtime stage.
CONDA_SINGLE = Manager(
    "conda-single",
    "conda",
    CONDA_BASE_IMAGE,
    f"{IMAGE}-conda-single",
    "conda create",
    CONDA_SETTINGS,
    runtime_base="base",
    cold_only=True,
)
MANAGERS = (VENV, CONDA, CONDA_SINGLE)
# The no-change run must cost what changed, not what exists: the example with this many more
# small modules in its package, against the example itself, both on venv, under names of their own.
LARGE_FILES = 20_000
LARGE = Manager("large", "venv", BASE_IMAGE, f"{IMAGE}-large", "-m venv")
SMALL = Manager("small", "venv", BASE_IMAGE, f"{IMAGE}-small", "-m venv")
# README.md's generated table lies between these lines (``--record`` rewrites it).
RECORD_BEGIN = "<!-- bench:begin (generated by bench/bench.py --record; do not edit) -->"
RECORD_END = "<!-- bench:end -->"


@dataclass
class Row:
    """One line of the table; times in seconds, sizes in bytes (``unit`` says which)."""

    name: str
    measured: float | None
    baseline: float | None
    baseline_name: str
    target: float | None  # the highest ratio that passes; None: the ratio is only stated
    unit: str = "s"
    check: str = ""  # a failed side condition, which turns a PASS into a MISS
    dockerize: float | None = None
    manager: str = ""  # the manager and base image the row was measured with, if one


def env() -> dict[str, str]:
    """One environment for every command: BuildKit with plain progress (parsed for CACHED),
    and Poetry's virtualenvs kept in the scratch directory rather than in the user's cache.

    Python may write byte-code: a plugin installed from its wheel (``poetry self add``) comes
    byte-compiled by pip, as Poetry's own modules do, while the editable install measured here
    would otherwise compile the plugin's modules on every call (about 40 ms) wherever
    PYTHONDONTWRITEBYTECODE is set, as it is on the development machines.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return {
        **environment,
        "POETRY_DOCKER_ENGINE": DOCKER,
        "DOCKER_BUILDKIT": "1",
        "BUILDKIT_PROGRESS": "plain",
        "POETRY_VIRTUALENVS_PATH": str(WORK / "virtualenvs"),
        "PATH": f"{POETRY.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DOCKERIZE_NAME": DOCKERIZE_IMAGE,
        "DOCKERIZE_BASE_IMAGE": STAND_IN,
    }


def sh(*args: str | Path, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a command with its output captured; a failure raises with the output's tail."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env(), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise RuntimeError(f"`{' '.join(map(str, args))}` exited with {result.returncode}:\n{tail}")
    return result


def timed(*args: str | Path, cwd: Path = ROOT) -> tuple[float, str]:
    """Wall-clock seconds of one command (it must succeed), and its combined output."""
    start = time.perf_counter()
    result = sh(*args, cwd=cwd)
    return time.perf_counter() - start, result.stdout + result.stderr


def ensure_venv(name: str, *pip_arguments: str) -> Path:
    """A virtual environment under bench/work, created once, re-created if the pins change."""
    venv = WORK / name
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(pip_arguments)
    if not stamp.is_file() or stamp.read_text() != wanted:
        print(f"setting up {venv}: {' '.join(pip_arguments)}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        sh(sys.executable, "-m", "venv", venv)
        pip = venv / "bin" / "pip"
        sh(pip, "install", "--quiet", "--disable-pip-version-check", *pip_arguments)
        stamp.write_text(wanted)
    return venv


def plugin_pins() -> list[str]:
    """Poetry and the plugin's dependencies at the versions in .venv (this interpreter's)."""
    declared = read_toml(ROOT / "pyproject.toml")["project"]["dependencies"]
    names = ["poetry", *(re.split(r"[\s(<>=~!;\[]", spec, maxsplit=1)[0] for spec in declared)]
    return [f"{name}=={importlib.metadata.version(name)}" for name in dict.fromkeys(names)]


def shared_pins(venv: Path) -> Path:
    """The versions installed in ``venv``, but the plugin's, as a pip constraints file (named by
    its content, so that a change re-creates the venv that uses it): plain Poetry's venv gets
    the very versions of what it shares with the plugin's (filelock, cleo...), so that the two
    differ only by the plugin and what it alone pulls in."""
    frozen = sh(venv / "bin" / "pip", "freeze", "--exclude-editable").stdout
    lines = sorted(x for x in frozen.splitlines() if "==" in x and not x.startswith("poetry=="))
    text = "\n".join(lines) + "\n"
    path = WORK / f"constraints-{hashlib.sha256(text.encode()).hexdigest()[:12]}.txt"
    path.write_text(text)
    return path


def ensure_stand_in() -> None:
    """Builds the offline stand-in for poetry-dockerize's default base image, once."""
    if sh(DOCKER, "image", "inspect", STAND_IN, check=False).returncode == 0:
        return
    context = WORK / "stand-in"
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(STAND_IN_DOCKERFILE)
    sh(DOCKER, "build", "--tag", STAND_IN, context)


def read_toml(path: Path) -> Any:
    return tomlkit.parse(path.read_text())


def write_toml(path: Path, document: Any) -> None:
    path.write_text(tomlkit.dumps(document))


def copy_sample(target: Path, manager: Manager) -> Path:
    """A copy of the example project, set up for ``manager`` (see ``configure``)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "dist", ".venv"))
    configure(target, manager)
    return target


def configure(project: Path, manager: Manager) -> None:
    """Names the manager, its base and the benchmark's own image name in the project's
    [tool.poetry-docker], rather than on every command line, so that ``build``, ``run`` and
    ``--output`` all see the same settings. The lock's content hash does not cover this table,
    so a prepared lock stays valid."""
    pyproject = read_toml(project / "pyproject.toml")
    table = pyproject["tool"]["poetry-docker"]
    table["image"] = manager.image
    table["base-image"] = manager.base
    table["env-manager"] = manager.name
    for key, value in manager.settings.items():
        table[key] = value
    if manager.runtime_base:
        table["runtime-base"] = manager.runtime_base
    write_toml(project / "pyproject.toml", pyproject)


def pins_for_image(context: Path) -> dict[str, str]:
    """The versions our image installs: the requirements files in its build context, the lines
    whose marker holds on PYTHON."""
    environment = {"python_version": PYTHON, "python_full_version": f"{PYTHON}.0"}
    pins = {}
    lines = [x for f in context.glob("requirements*.txt") for x in f.read_text().splitlines()]
    for line in lines:
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)\s*(?:;([^\\]*))?", line)
        if match and (not match[3] or Marker(match[3]).evaluate(environment)):
            pins[canonical(match[1])] = match[2]
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def prepare(pins: dict[str, str]) -> tuple[Path, Path]:
    """Prepares, once per version of the example, the two projects that need a lock made here.

    Both need the lock workaround of design.md (PyPI's JSON API answers 404 here): the
    dependency-change variant adds one package and is locked by tests/fixtures/relock.py, then
    made to look like a default-PyPI project again; the poetry-dockerize copy is a
    ``[tool.poetry]``, flat-layout copy locked by Poetry 1.8.5, keeping the temporary source
    (pip's default index), because Poetry inside that plugin's image installs from the lock and
    meets the same 404 without it.
    """
    key = hashlib.sha256()
    for part in (SAMPLE / "pyproject.toml", SAMPLE / "poetry.lock"):
        key.update(part.read_bytes())
    key.update(repr((IMAGE, EXTRA_PACKAGE, DOCKERIZE, pins)).encode())
    prepared = WORK / f"prepared-{key.hexdigest()[:12]}"
    if not prepared.is_dir():
        print(f"preparing {prepared} (locks made once per version of the example)", flush=True)
        for stale in WORK.glob("prepared-*"):
            shutil.rmtree(stale)
        scratch = prepared.with_name(prepared.name + ".tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        changed = copy_sample(scratch / "dependency-change", VENV)
        pyproject = read_toml(changed / "pyproject.toml")
        pyproject["project"]["dependencies"].append(EXTRA_PACKAGE)
        write_toml(changed / "pyproject.toml", pyproject)
        sh(sys.executable, ROOT / "tests" / "fixtures" / "relock.py", changed)
        make_dockerize_copy(scratch / "dockerize", pins)
        scratch.rename(prepared)
    return prepared / "dependency-change", prepared / "dockerize"


def make_dockerize_copy(target: Path, pins: dict[str, str]) -> None:
    """The example as poetry-dockerize 1.3.1 reads it: [tool.poetry] metadata, flat layout.

    It reads no [project] table and copies ``packages`` from the project root only. The direct
    dependencies are pinned to the versions our image installs, so both images hold the same
    numpy and pandas; python is the image's (numpy's newest needs 3.11 or later).
    """
    sample = read_toml(SAMPLE / "pyproject.toml").unwrap()
    project, tool_poetry = sample["project"], sample["tool"]["poetry"]
    target.mkdir(parents=True)
    packages = []
    for entry in tool_poetry["packages"]:
        package = entry["include"]
        shutil.copytree(SAMPLE / entry.get("from", ".") / package, target / package)
        packages.append({"include": package})
    shutil.copy(SAMPLE / project["readme"], target / project["readme"])
    dependencies = {"python": f"~{PYTHON}"}
    for spec in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", spec)
        assert name, spec
        dependencies[name[0]] = pins[canonical(name[0])]
    from pip._internal.models.index import PyPI  # pip's default index: no host name written here

    write_toml(
        target / "pyproject.toml",
        {
            "tool": {
                "poetry": {
                    "name": project["name"],
                    "version": project["version"],
                    "description": project["description"],
                    "authors": [f"{a['name']} <{a['email']}>" for a in project["authors"]],
                    "license": project["license"],
                    "readme": project["readme"],
                    "packages": packages,
                    "dependencies": dependencies,
                    "scripts": project.get("scripts", {}),
                    "group": tool_poetry.get("group", {}),
                    "source": [
                        {"name": "bench-index", "url": PyPI.simple_url, "priority": "primary"}
                    ],
                }
            },
            "build-system": {
                "requires": ["poetry-core>=1.0.0"],
                "build-backend": "poetry.core.masonry.api",
            },
        },
    )
    sh(WORK / "poetry18" / "bin" / "poetry", "lock", "--no-interaction", cwd=target)


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


def image_size(reference: str) -> float:
    return float(sh(DOCKER, "image", "inspect", "--format", "{{.Size}}", reference).stdout)


def measure_commands(project: Path, samples: int) -> list[Row]:
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
    median = {key: statistics.median(values) for key, values in times.items()}
    return [
        Row("start-up", median["start-up"], median["start-up/"], "plain Poetry", 1.03),
        Row(
            "render",
            median["render"],
            median["render/"],
            "poetry check --lock",
            1.5,
            manager=VENV.label,
        ),
    ]


def measure_builds(
    reps: int, manager: Manager, changed: Path, output: Path, built: set[str]
) -> dict[str, Any]:
    """Cold, no-change, source-edit and dependency-change builds, the fresh run, the cost of
    activation and the image's sizes, with one manager on its base(s); only the cold build and
    the sizes for a ``cold_only`` manager.

    Each repetition starts cold (build cache pruned, fresh image name, fresh copy), so that
    the source edit and the lock change are real changes every time. ``output`` is the
    manager's ``--output`` context (the no-change baseline; unused when ``cold_only``).
    ``built`` collects the ids of the images, for ``clean_ours``.
    """
    times: dict[str, list[float]] = {}
    checks: dict[str, set[str]] = {
        "no-change build": set(),
        "source edit": set(),
        "dependency change": set(),
        "run": set(),
        "activation": set(),
    }
    run_error = ""
    logs = WORK / "run" / "logs" / manager.key
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)

    def check(row: str, ok: bool, problem: str, log: str, rep: int) -> None:
        """Records a failed side condition, with the build's output kept to look at."""
        if not ok:
            path = logs / f"{row.replace(' ', '-')}-{rep}.log"
            path.write_text(log)
            checks[row].add(f"{problem}, see {path.relative_to(ROOT)}")

    for rep in range(reps):
        print(f"  our builds ({manager.label}), repetition {rep + 1}/{reps}", flush=True)
        project = copy_sample(WORK / "run" / manager.key, manager)

        def poetry_docker(command: str, *args: str, project: Path = project) -> tuple[float, str]:
            result = timed(POETRY, "docker", command, *args, cwd=project)
            tags = [args[i + 1] for i, arg in enumerate(args) if arg == "--tag"]
            built.add(image_id(tags[0] if tags else f"{manager.image}:latest"))
            return result

        def add(key: str, seconds: float) -> None:
            times.setdefault(key, []).append(seconds)

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
        for key, seconds in measure_activation(manager, final, rep, check):
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
    medians = {key: statistics.median(values) for key, values in times.items()}
    medians["base size"] = image_size(manager.final_base)
    medians["content"], content = content_size(final)  # the last repetition's image
    problems = {row: "; ".join(sorted(found)) for row, found in checks.items()}
    return {"medians": medians, "checks": problems, "run_error": run_error, "content": content}


def make_large_copy(target: Path) -> Path:
    """The example with LARGE_FILES more small modules in its package (100 per folder)."""
    project = copy_sample(target, LARGE)
    generated = project / "src" / "sample_app" / "generated"
    for number in range(LARGE_FILES):
        folder = generated / f"part{number // 100:03d}"
        if number % 100 == 0:
            folder.mkdir(parents=True)
        (folder / f"module{number % 100:02d}.py").write_text(f"VALUE = {number}\n")
    return project


def measure_large_project(samples: int, built: set[str]) -> Row:
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
    return Row(
        f"no-change run, {LARGE_FILES:,} more files",
        statistics.median(runs[LARGE.key]),
        statistics.median(runs[SMALL.key]),
        "the same on the example",
        1.3,
        manager=VENV.label,
    )


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


def measure_activation(
    manager: Manager, image: str, rep: int, check: Callable[[str, bool, str, str, int], None]
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
        check("activation", seen == value, problem, f"docker run {image} printenv {key}", rep)
    return samples


def image_id(reference: str) -> str:
    return sh(DOCKER, "image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def clean_ours(built: set[str]) -> None:
    """Removes the benchmark's tags, then the images it built that no tag names any more: an
    identical build that someone else tagged stays (identical builds share an id)."""
    for repository in (*(m.image for m in (*MANAGERS, LARGE, SMALL)), BASELINE_IMAGE):
        listing = sh(DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", repository).stdout
        if listing.split():
            sh(DOCKER, "rmi", *listing.split(), check=False)
    for image in built:
        tags = sh(DOCKER, "image", "inspect", "--format", "{{len .RepoTags}}", image, check=False)
        if tags.stdout.strip() == "0":
            sh(DOCKER, "rmi", image, check=False)


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


def measure_dockerize(reps: int, template: Path) -> dict[str, float]:
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
    result = {key: statistics.median(values) for key, values in times.items()}
    result["stopped containers"] = leftovers
    result["base size"] = image_size(STAND_IN)
    return result


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value / 1e6:.0f} MB" if unit == "B" else f"{value:.2f} s"


def table_lines(rows: list[Row]) -> list[str]:
    """The table, in Markdown."""
    header = (
        "row",
        "manager, base",
        "measured",
        "baseline",
        "ratio",
        "target",
        "result",
        "poetry-dockerize 1.3.1",
    )
    lines = [header]
    for row in rows:
        ratio = row.measured / row.baseline if row.measured and row.baseline else None
        if row.baseline is None and row.measured is not None:
            result = "-"
        elif ratio is None:
            result = "n/a"
        elif row.target is None:
            result = "stated"
        else:
            result = "PASS" if ratio <= row.target and not row.check else "MISS"
        lines.append(
            (
                row.name,
                row.manager or "-",
                fmt(row.measured, row.unit),
                f"{fmt(row.baseline, row.unit)} ({row.baseline_name})"
                if row.baseline_name
                else "-",
                "-" if ratio is None else f"{ratio:.3g}",
                "-" if row.target is None else f"<= {row.target:g}",
                result + (f" ({row.check})" if row.check else ""),
                "" if row.dockerize is None else fmt(row.dockerize, row.unit),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = []
    for number, line in enumerate(lines):
        text.append(
            "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        )
        if number == 0:
            text.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return text


def subject_digest() -> str:
    """What the benchmark measures: the plugin's sources, this script and the example project,
    by path (relative) and content. README.md's generated table names the digest it measured,
    and a test compares it with this one, so the table cannot silently outlive its subject."""
    digest = hashlib.sha256()
    trees = (ROOT / "src", ROOT / "bench" / "bench.py", SAMPLE)
    skipped = {"__pycache__", "dist", ".venv", ".pytest_cache"}
    for tree in trees:
        files = [tree] if tree.is_file() else sorted(tree.rglob("*"))
        for path in files:
            if path.is_file() and not skipped.intersection(path.relative_to(ROOT).parts):
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def commit() -> str:
    """The commit measured, and whether the working tree had uncommitted changes."""
    head = sh("git", "rev-parse", "--short=12", "HEAD", check=False).stdout.strip() or "unknown"
    dirty = sh("git", "status", "--porcelain", "--", "src", "bench", "examples", check=False)
    return head + (" with uncommitted changes" if dirty.stdout.strip() else "")


def record(
    lines: list[str], reps: int, machine_line: str, readme: Path = ROOT / "README.md"
) -> None:
    """Writes the table into README.md between RECORD_BEGIN and RECORD_END."""
    text = readme.read_text()
    before, found, rest = text.partition(RECORD_BEGIN)
    _, ended, after = rest.partition(RECORD_END)
    if not (found and ended):
        raise SystemExit(f"{readme} has no {RECORD_BEGIN!r} ... {RECORD_END!r} block to rewrite.")
    block = [
        RECORD_BEGIN,
        f"Measured at commit {commit()}, subject {subject_digest()} (`bench/bench.py "
        f"--reps {reps} --record`, {time.strftime('%Y-%m-%d')}); medians of {reps} "
        "repetition(s), ratio = median / median.",
        "",
        *lines,
        "",
        machine_line,
        RECORD_END,
    ]
    readme.write_text(before + "\n".join(block) + after)


def machine() -> str:
    """What the numbers were measured on: they only compare within one run."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    server = sh(DOCKER, "version", "--format", "{{.Server.Version}}", check=False).stdout.strip()
    client = sh(DOCKER, "version", "--format", "{{.Client.Version}}", check=False).stdout.strip()
    return (
        f"machine: {os.cpu_count()} CPUs (nproc), {int(memory) / 2**20:.1f} GiB memory, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"Docker engine {server} (client {DOCKER} {client})"
    )


def floor_rows(builds: dict[str, dict[str, Any]], check_lock: float) -> list[Row]:
    """The no-change build and the fresh run against the floor of any Poetry plugin: Poetry's
    own start-up and project load (``poetry check --lock``) plus the one docker command it
    stands for, both measured in this run. What is left above 1 is the plugin's own work."""
    rows = []
    for m in MANAGERS:
        if m.cold_only:
            continue
        ours = builds[m.key]["medians"]
        for name, measured, command in (
            ("no-change build, floor", "no-change", "docker build"),
            ("fresh run, floor", "run", "docker run"),
        ):
            floor = ours.get(command)
            rows.append(
                Row(
                    name,
                    ours.get(measured),
                    None if floor is None else check_lock + floor,
                    f"poetry check --lock + {command}",
                    1.1,
                    manager=m.label,
                )
            )
    return rows


def table_rows(builds: dict[str, dict[str, Any]], dockerize: dict[str, float]) -> list[Row]:
    """The build and size rows, each kind once per manager that measured it, in the order of
    MANAGERS (venv, conda with its runtime stage, then conda single-stage, which has only the
    cold build and the sizes). poetry-dockerize's numbers go beside the venv rows only: both
    build on the same Debian Python, the like-for-like comparison; its image is the baseline
    of every manager's sizes, totals and over each image's own base, so that a larger base is
    not counted against (or for) a manager."""
    ours = {m.key: builds[m.key]["medians"] for m in MANAGERS}
    checks = {m.key: builds[m.key]["checks"] for m in MANAGERS}
    extra = {m.key: ours[m.key]["size"] - ours[m.key]["base size"] for m in MANAGERS}
    their_extra = dockerize["size"] - dockerize["base size"]
    full = [m for m in MANAGERS if not m.cold_only]
    rows = [
        Row(
            "cold build",
            ours[m.key]["cold"],
            None,
            "",
            None,
            dockerize=dockerize["cold"] if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    # (row, measured, baseline, its name, target, poetry-dockerize's key): timed, every manager
    # but the cold-only ones.
    timed_rows = (
        ("no-change build", "no-change", "docker build", "docker build", 1.3, "no-change"),
        ("source edit", "edit", "cold", "cold build", 0.10, "edit"),
        ("source edit", "edit", "warm", "--no-cache build, caches warm", 0.2, ""),
        ("dependency change", "dependency", "cold", "cold build", 0.5, ""),
        ("dependency change", "dependency", "warm", "--no-cache build, caches warm", 0.5, ""),
        ("fresh run", "run", "docker run", "docker run --rm", 1.3, ""),
        ("activation", "activation", "entrypoint true", "--entrypoint true", 1.15, ""),
    )
    check_of = {"fresh run": "run"}
    for name, measured, baseline, baseline_name, target, theirs in timed_rows:
        rows += [
            Row(
                name,
                ours[m.key].get(measured),
                ours[m.key].get(baseline),
                baseline_name,
                target,
                check=checks[m.key][check_of.get(name, name)],
                dockerize=dockerize[theirs] if theirs and m is VENV else None,
                manager=m.label,
            )
            for m in full
        ]
    rows += [
        Row(
            "image size",
            ours[m.key]["size"],
            dockerize["size"],
            "poetry-dockerize",
            None,
            unit="B",
            dockerize=dockerize["size"] if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    rows += [
        Row(
            "size over base",
            extra[m.key],
            their_extra,
            "poetry-dockerize over its base",
            None,
            unit="B",
            dockerize=their_extra if m is VENV else None,
            manager=m.label,
        )
        for m in MANAGERS
    ]
    # What the runtime stage saves: the same environment, over the base of each final stage.
    rows.append(
        Row(
            "size over base",
            extra[CONDA.key],
            extra[CONDA_SINGLE.key],
            "conda single-stage over its base",
            None,
            unit="B",
            manager=CONDA.label,
        )
    )
    # The runtime stage's promise: little in the image but the environment and the project.
    rows += [
        Row(
            "size over content",
            extra[m.key],
            ours[m.key]["content"],
            "du: environment + workdir",
            1.1 if m is CONDA else None,
            unit="B",
            manager=m.label,
        )
        for m in MANAGERS
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition (CI)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every row (default 5)")
    parser.add_argument(
        "--record", action="store_true", help="write the table into README.md, with the commit"
    )
    options = parser.parse_args()
    reps = 1 if options.quick else max(1, options.reps)
    started, sources = time.perf_counter(), subject_digest()
    print(f"measuring commit {commit()}, subject {sources}", flush=True)
    for manager in MANAGERS:
        for base in dict.fromkeys((manager.base, manager.final_base)):
            if sh(DOCKER, "image", "inspect", base, check=False).returncode != 0:
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
    outputs = {
        manager.key: WORK / "run" / f"docker-build-context-{manager.key}" for manager in MANAGERS
    }
    for manager in MANAGERS:
        shutil.rmtree(outputs[manager.key], ignore_errors=True)
        if not manager.cold_only:
            project = copy_sample(WORK / "run" / manager.key, manager)
            sh(POETRY, "docker", "build", "--output", outputs[manager.key], cwd=project)
    changed, dockerize_template = prepare(pins_for_image(outputs[VENV.key]))

    print(f"measuring: {reps} repetition(s), {8 * reps} samples of the sub-second rows", flush=True)
    rows = measure_commands(copy_sample(WORK / "run" / VENV.key, VENV), samples=8 * reps)
    built: set[str] = set()
    builds = {}
    try:
        print(f"  a no-change run with {LARGE_FILES:,} more files", flush=True)
        large_row = measure_large_project(8 * reps, built)
        for manager in MANAGERS:
            builds[manager.key] = measure_builds(
                reps, manager, changed, outputs[manager.key], built
            )
    finally:
        clean_ours(built)
    dockerize = measure_dockerize(reps, dockerize_template)
    rows += table_rows(builds, dockerize)
    rows += floor_rows(builds, next(row.baseline or 0.0 for row in rows if row.name == "render"))
    rows.append(large_row)
    lines = table_lines(rows)
    print()
    print(f"poetry-docker-plugin benchmark: medians of {reps} repetition(s), ratio = median/median")
    print("\n".join(lines))
    print()
    for manager in MANAGERS:
        if builds[manager.key]["run_error"]:
            print(f"fresh run ({manager.label}): n/a, {builds[manager.key]['run_error']}")
    bases = [
        f"{m.key} {m.final_base} {fmt(builds[m.key]['medians']['base size'], 'B')}"
        for m in MANAGERS
    ]
    bases.append(f"poetry-dockerize the stand-in {STAND_IN} {fmt(dockerize['base size'], 'B')}")
    print(f"bases of the final stages (size over base): {'; '.join(bases)}")
    contents = [f"{m.key} {builds[m.key]['content']}" for m in MANAGERS]
    print(f"content (du -sbc in the image: size over content): {'; '.join(contents)}")
    print(
        f"poetry-dockerize: source edit / its cold build = "
        f"{dockerize['edit'] / dockerize['cold']:.2f}; it left "
        f"{dockerize['stopped containers']:.0f} stopped containers per build sequence (removed)"
    )
    if subject_digest() != sources:
        print("WARNING: the plugin's sources changed during the run; the rows mix versions.")
    elif options.record:
        record(lines, reps, machine())
        print("recorded in README.md")
    print(machine())
    print(f"total time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
