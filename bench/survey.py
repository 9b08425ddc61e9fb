"""The survey of real projects: does a public Poetry project build and import on the first try,
with nothing set but the base image?

The projects are listed in ``bench/survey/projects.toml`` (repository, commit, the subdirectory
holding the project's pyproject.toml, the kind of project, the modules to import, and the result
recorded before and after a change). No third-party code is kept in this repository: the
checkouts live in a folder of your own, one subfolder per project, named as in the list.

Getting the checkouts. For each project, clone its repository (or use any bare mirror of it)
and extract the listed commit, limited to the listed ``paths`` when there are any (the rest of
those repositories holds large test data and documentation that the build never reads)::

    git clone --bare https://github.com/OWNER/NAME /tmp/mirrors/OWNER+NAME
    mkdir -p CHECKOUTS/PROJECT
    git --git-dir=/tmp/mirrors/OWNER+NAME archive COMMIT [PATHS...] | tar -x -C CHECKOUTS/PROJECT

or let the script do it from such mirrors (``{owner}`` and ``{name}`` are filled in)::

    .venv/bin/python -m bench.survey CHECKOUTS --extract '/tmp/mirrors/{owner}+{name}'

A checkout that exists is used as it is. Extraction makes a plain folder, not a git work tree,
as a downloaded source archive would be.

Running it (the engine and the offline base images as for the tests: ``bash scripts/dev test``
sets them up; builds take minutes each, so run it alone on a small machine)::

    .venv/bin/python -m bench.survey CHECKOUTS                  # venv on the test base
    .venv/bin/python -m bench.survey CHECKOUTS --manager conda  # the conda stand-in
    .venv/bin/python -m bench.survey CHECKOUTS --only prs --only ezid --logs /tmp/survey-logs
    .venv/bin/python -m bench.survey --recorded   # the recorded results as a table; no build
    .venv/bin/python -m bench.survey CHECKOUTS --cold  # --no-cache: a first try's seconds
    .venv/bin/python -m bench.survey CHECKOUTS --poetry OTHER/bin/poetry  # another plugin

For each project it runs ``poetry docker build`` with the base image (and, for conda,
``--python 3.11 --runtime-base`` the test base, since the stand-in's channel holds Python 3.11
only), then runs ``python -c "import ..."`` with the listed modules in the image it built (through
its entrypoint, as ``poetry docker run`` would; that command takes no ``--tag``), and prints
a Markdown table: the outcome, the first line that says why a step failed (the plugin's
message or the engine's failing step), and the build's wall-clock seconds, beside the results
recorded in projects.toml. Each image is tagged ``poetry-docker-survey/PROJECT:MANAGER`` (so no
one else's image is replaced) and removed afterwards unless ``--keep-images``; the engine's
build cache stays, so a second run of the same project is faster than its first try unless
``--cold`` (Poetry's ``--no-cache``, which the plugin passes to ``docker build``). The full
output of every command goes to ``--logs`` (default ``bench/work/survey-logs``). It is not run
by CI: it needs the network (PyPI and Debian's mirror) and about an hour.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomllib

from bench.commands import env
from bench.config import BASE_IMAGE, CONDA_BASE_IMAGE, DOCKER, POETRY, PYTHON, ROOT, WORK

PROJECTS = ROOT / "bench" / "survey" / "projects.toml"
IMAGE_PREFIX = "poetry-docker-survey"
# Lines that say why a step failed, most telling first: the engine's own words from the failing
# step (compiler, linker, pip, conda, the network, the import), then the plugin's message.
CAUSE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"fatal error: .*",
        r"Error: pg_config executable not found\.?",
        r"mysql_config: not found|mysql_config not found",
        r"(?:sh|bash): (?:\d+: )?[\w.+-]+: (?:command )?not found",
        r"ERROR: Dependency lookup for .*",
        r"Exception: Can not find valid pkg-config name\.?",
        r"Package '?[\w.+-]+'?,? .*not found|Package [\w.+-]+ was not found in the pkg-config",
        r"\w+\.so[.\d]*: cannot open shared object file.*",
        r"(ModuleNotFoundError|ImportError|SyntaxError|OSError): .*",
        r"Could not resolve host: .*",
        r"PackagesNotFoundError: .*",
        r"BackendUnavailable: .*",
        r"command '[^']+' failed.*|error: command .* failed.*",
        r"ERROR: (Could not|No matching|Failed).*",
        r"error: .*",
        r"Error: .*",
    )
)
# BuildKit's plain progress prefixes each line of a step with its number and a time.
STEP_PREFIX = re.compile(r"^#\d+ [\d.]+ ")


@dataclass(frozen=True)
class Recorded:
    """A result written down in projects.toml: ``ok`` or ``fail``, why, and the build's seconds."""

    result: str
    cause: str
    seconds: float | None


@dataclass(frozen=True)
class Project:
    """One project of the survey, as projects.toml lists it."""

    name: str
    repo: str
    commit: str
    subdir: str
    kind: str
    paths: tuple[str, ...]
    imports: tuple[str, ...]
    recorded: dict[str, Recorded]


@dataclass(frozen=True)
class Outcome:
    """What one project did now: the step that failed (none when it built and imported)."""

    failed_step: str | None
    cause: str
    seconds: float

    @property
    def result(self) -> str:
        return "ok" if self.failed_step is None else "fail"


def read_projects(path: Path = PROJECTS) -> list[Project]:
    """The survey's projects, each checked for the keys the survey needs."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    projects = []
    for entry in data.get("project", []):
        recorded = {
            column: Recorded(
                result=str(value["result"]),
                cause=str(value.get("cause", "")),
                seconds=float(value["seconds"]) if "seconds" in value else None,
            )
            for column, value in entry.items()
            if isinstance(value, dict) and "result" in value
        }
        projects.append(
            Project(
                name=str(entry["name"]),
                repo=str(entry["repo"]),
                commit=str(entry["commit"]),
                subdir=str(entry.get("subdir", ".")),
                kind=str(entry["kind"]),
                paths=tuple(str(p) for p in entry.get("paths", [])),
                imports=tuple(str(m) for m in entry["imports"]),
                recorded=recorded,
            )
        )
    return projects


def extract(project: Project, checkouts: Path, mirror_template: str) -> None:
    """Extracts the project's commit from a git mirror into its checkout, unless it exists."""
    target = checkouts / project.name
    if target.exists():
        return
    owner, name = project.repo.split("/", 1)
    git_dir = mirror_template.format(owner=owner, name=name)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", project.commit, *project.paths],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)


def manager_options(manager: str) -> list[str]:
    """The options of a first try: the base image, and for conda what the stand-in requires."""
    if manager == "conda":
        return ["--base-image", CONDA_BASE_IMAGE, "--python", PYTHON, "--runtime-base", BASE_IMAGE]
    return ["--base-image", BASE_IMAGE]


def first_cause(output: str) -> str:
    """The line of a failed command's output that best says why it failed."""
    lines = [STEP_PREFIX.sub("", line).strip() for line in output.splitlines()]
    for pattern in CAUSE_PATTERNS:
        for line in lines:
            match = pattern.search(line)
            if match:
                return match.group(0)[:200]
    tail = [line for line in lines if line]
    return tail[-1][:200] if tail else "(no output)"


def run_logged(command: list[str], cwd: Path, log: Path) -> tuple[int, str, float]:
    """Runs a command, writes its output to the log, returns its status, output and seconds."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env(), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    log.write_text(f"$ {' '.join(command)}\n(exit {result.returncode})\n{output}", "utf-8")
    return result.returncode, output, seconds


def survey_one(
    project: Project,
    checkouts: Path,
    manager: str,
    logs: Path,
    cold: bool = False,
    poetry: Path = POETRY,
) -> Outcome:
    """Builds one project with nothing set but the base image, then imports its modules;
    ``cold``: with Poetry's --no-cache (passed to docker build), so that the seconds are a
    first try's even where the engine's cache holds an earlier build's steps."""
    directory = checkouts / project.name / project.subdir
    if not (directory / "pyproject.toml").is_file():
        return Outcome("checkout", f"no pyproject.toml in {directory}", 0.0)
    image = f"{IMAGE_PREFIX}/{project.name}:{manager}"
    code, output, seconds = run_logged(
        [
            str(poetry),
            *(["--no-cache"] if cold else []),
            "docker",
            "build",
            *manager_options(manager),
            "-t",
            image,
        ],
        directory,
        logs / f"{project.name}-{manager}-build.log",
    )
    if code != 0:
        return Outcome("build", first_cause(output), seconds)
    statement = "import " + ", ".join(project.imports) + "; print('imported')"
    # `poetry docker run` takes no --tag, so the image this build tagged is run as it would
    # run it: its entrypoint activates the environment, under the engine's init.
    code, output, _ = run_logged(
        [DOCKER, "run", "--rm", "--init", image, "python", "-c", statement],
        directory,
        logs / f"{project.name}-{manager}-import.log",
    )
    if code != 0 or "imported" not in output:
        return Outcome("import", first_cause(output), seconds)
    return Outcome(None, "", seconds)


def remove_image(project: Project, manager: str) -> None:
    """Removes the survey's tag of the project (the image goes with it when nothing else
    names it)."""
    subprocess.run(
        [DOCKER, "image", "rm", f"{IMAGE_PREFIX}/{project.name}:{manager}"],
        capture_output=True,
        check=False,
    )


def cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def recorded_cell(recorded: Recorded | None) -> str:
    if recorded is None:
        return ""
    seconds = f", {recorded.seconds:.0f} s" if recorded.seconds is not None else ""
    why = f": {recorded.cause}" if recorded.cause else ""
    return cell(f"{recorded.result}{seconds}{why}")


def table(rows: Sequence[tuple[Project, Outcome]], manager: str) -> str:
    """The Markdown table of this run, with the results recorded for the same manager."""
    before, after = f"before-{manager}", f"after-{manager}"
    lines = [
        f"| project | kind | now ({manager}) | build s | why | recorded before | recorded after |",
        "| --- | --- | --- | ---: | --- | --- | --- |",
    ]
    for project, outcome in rows:
        now = outcome.result if outcome.failed_step is None else f"fail ({outcome.failed_step})"
        lines.append(
            f"| {cell(project.name)} | {cell(project.kind)} | {now} | {outcome.seconds:.0f} | "
            f"{cell(outcome.cause)} | {recorded_cell(project.recorded.get(before))} | "
            f"{recorded_cell(project.recorded.get(after))} |"
        )
    passed = sum(1 for _, outcome in rows if outcome.failed_step is None)
    lines.append("")
    lines.append(f"{passed} of {len(rows)} built and imported on the first try ({manager}).")
    return "\n".join(lines)


def recorded_table(projects: Sequence[Project]) -> str:
    """The Markdown table of the results recorded in projects.toml, for README: no build."""
    columns = ("before-venv", "before-conda", "after-venv", "after-conda")
    lines = [
        "| project | kind | commit | " + " | ".join(columns) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for project in projects:
        commit = f"[{project.repo}@{project.commit[:8]}](https://github.com/{project.repo}"
        commit += f"/tree/{project.commit}/{project.subdir})".replace("/.)", ")")
        cells = [recorded_cell(project.recorded.get(column)) for column in columns]
        row = [cell(project.name), cell(project.kind), commit, *cells]
        lines.append("| " + " | ".join(row) + " |")
    for column in columns:
        results = [p.recorded[column].result for p in projects if column in p.recorded]
        if results:
            lines.append("")
            lines.append(f"{column}: {results.count('ok')} of {len(results)} ok.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.survey", description=__doc__)
    parser.add_argument(
        "checkouts", type=Path, nargs="?", help="the folder of checkouts, one per project"
    )
    parser.add_argument("--manager", choices=("venv", "conda"), default="venv")
    parser.add_argument("--only", action="append", default=[], help="a project's name")
    parser.add_argument("--extract", metavar="MIRROR", help="git dir, with {owner} and {name}")
    parser.add_argument("--logs", type=Path, default=WORK / "survey-logs")
    parser.add_argument("--keep-images", action="store_true")
    parser.add_argument("--cold", action="store_true", help="build with --no-cache")
    parser.add_argument(
        "--poetry", type=Path, default=POETRY, help="the Poetry (and plugin) to run"
    )
    parser.add_argument("--projects", type=Path, default=PROJECTS)
    parser.add_argument(
        "--recorded", action="store_true", help="print the recorded results only; build nothing"
    )
    args = parser.parse_args(argv)
    projects = read_projects(args.projects)
    if args.recorded:
        print(recorded_table(projects))
        return 0
    if args.checkouts is None:
        parser.error("give the folder of checkouts (or --recorded)")
    unknown = set(args.only) - {p.name for p in projects}
    if unknown:
        parser.error(f"not in {args.projects}: {', '.join(sorted(unknown))}")
    chosen = [p for p in projects if not args.only or p.name in args.only]
    args.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for project in chosen:
        if args.extract:
            extract(project, args.checkouts, args.extract)
        print(f"{project.name}: building ({args.manager})", file=sys.stderr, flush=True)
        outcome = survey_one(
            project, args.checkouts, args.manager, args.logs, args.cold, args.poetry
        )
        print(
            f"{project.name}: {outcome.result} in {outcome.seconds:.0f} s {outcome.cause}",
            file=sys.stderr,
            flush=True,
        )
        if not args.keep_images:
            remove_image(project, args.manager)
        rows.append((project, outcome))
    print(table(rows, args.manager))
    return 0


if __name__ == "__main__":
    sys.exit(main())
