"""``poetry docker lock``: the conda environment solved by conda itself, and the base digests.

The solve runs conda's own solver (``conda.api.Solver``) with the base image's conda Python,
in one ``docker run`` of the base: it needs nothing the build does not need already (the
base, its channels), and what it finds is what the build's ``conda create`` would have
installed, with the URL and hashes of each package from the channel's repodata. Credentials
of channels reach that container as the build's do (a condarc file mounted read-only), and
are stripped from every URL before anything is kept.

A lock that still fits is kept as it is; a stale one is solved again preferring the locked
builds where they still satisfy the specs (as ``poetry lock`` keeps locked versions), and
``--update`` solves anew and reads the base images' digests again.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import TYPE_CHECKING

from poetry_docker_plugin.conda_lock.file import CondaLock, LockedBase, LockedPackage, checked
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan.pinning import lock_inputs

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.plan.model import BuildPlan

# Run by the base's conda Python: the plain solve, then again with the preferred builds
# pinned (all, then all but the requested names), the first that conda can satisfy winning.
SOLVE_SCRIPT = r"""
import json, sys
from conda.base.context import reset_context
reset_context()  # the condarc files and CONDA_* variables, as the conda command reads them
from conda.api import Solver
from conda.models.match_spec import MatchSpec
a = json.loads(sys.argv[1])
def solve(specs):
    solver = Solver("/tmp/poetry-docker-lock", a["channels"], subdirs=(a["subdir"], "noarch"),
                    specs_to_add=[MatchSpec(s) for s in specs])
    return solver.solve_final_state()
found = solve(a["specs"])
names = {r.name for r in found}
pins = [p for p in a["prefer"] if p[0] in names]
requested = {MatchSpec(s).name for s in a["specs"]}
for chosen in (pins, [p for p in pins if p[0] not in requested]):
    if not chosen:
        continue
    try:
        found = solve(a["specs"] + ["%s==%s=%s" % tuple(p) for p in chosen])
        break
    except Exception:
        pass
print("POETRY-DOCKER-LOCK " + json.dumps([
    {"name": r.name, "version": r.version, "build": r.build, "url": r.url,
     "sha256": r.get("sha256") or "", "md5": r.get("md5") or "",
     "channel": r.channel.canonical_name} for r in found]))
"""
# Finds the Python that runs the image's conda: the one its ``conda`` script names.
RUN_WITH_CONDA_PYTHON = 'py=$(sed -n "1s/^#!//p" "$(command -v conda)") && exec $py -I -c "$0" "$@"'


def lock_project(
    engine: Engine,
    plans: list[BuildPlan],
    existing: CondaLock | None,
    *,
    update: bool,
    secrets: Mapping[str, Path],
    network: str | None = None,
) -> CondaLock | None:
    """The lock of the plans (one per platform); None when ``existing`` is current and no
    ``update`` was asked (nothing to write)."""
    platforms = tuple(str(plan.environment.platform) for plan in plans)
    wanted = lock_inputs(plans[0], platforms)
    if existing is not None and not update and existing.inputs == wanted:
        return None
    keep = existing if existing is not None and not update else None
    bases: list[LockedBase] = []
    packages: list[LockedPackage] = []
    for plan in plans:
        environment = plan.environment
        platform = str(environment.platform)
        for base in environment.bases:
            kept = keep.base(base.reference, platform) if keep else None
            bases.append(kept or base_digest(engine, base.reference, platform))
        if environment.manager == "micromamba":
            raise DockerPluginError(
                "`poetry docker lock` solves with conda's own solver, and the base image holds "
                "micromamba. Lock on a conda base (env-manager conda), or build unlocked."
            )
        if environment.manager == "conda":
            preferred = keep.packages_for(environment.platform.conda_subdir) if keep else ()
            packages += solve(engine, plan, preferred, secrets, network)
    return checked(CondaLock(wanted, tuple(dict.fromkeys(bases)), tuple(packages)))


def base_digest(engine: Engine, reference: str, platform: str) -> LockedBase:
    """The registry digest of a base image (from ``RepoDigests``), else its local id."""
    from poetry_docker_plugin.engine.refs import ImageReference

    result = engine.capture(
        ["image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", reference]
    )
    if result.returncode != 0:
        raise DockerPluginError(
            f"The base image {reference} is not on this machine: pull or build it, then run "
            "`poetry docker lock` again."
        )
    identity, _, digests = result.stdout.strip().partition(" ")
    parsed = ImageReference.parse(reference)
    if parsed.digest:
        return LockedBase(reference, platform, parsed.digest, local=False)
    for entry in json.loads(digests) or []:
        repository, _, digest = entry.partition("@")
        if repository == parsed.repository:
            return LockedBase(reference, platform, digest, local=False)
    return LockedBase(reference, platform, identity, local=True)


def solve(
    engine: Engine,
    plan: BuildPlan,
    preferred: tuple[LockedPackage, ...],
    secrets: Mapping[str, Path],
    network: str | None = None,
) -> list[LockedPackage]:
    """The environment's packages, as conda in the base image solves them."""
    from poetry_docker_plugin.names import CONDA_AUTH_SECRET, SECRETS_DIR
    from poetry_docker_plugin.project.credentials import public_url

    environment = plan.environment
    subdir = environment.platform.conda_subdir
    channels = [channel.name for channel in environment.conda_channels]
    arguments: dict[str, object] = {
        "channels": channels,
        "subdir": subdir,
        "specs": [f"python={environment.python}", "pip", *environment.conda_packages],
        "prefer": [[p.name, p.version, p.build] for p in preferred],
    }
    options = ["--rm", "--platform", str(environment.platform), "--entrypoint", "sh"]
    options += ["--env", f"CONDA_SUBDIR={subdir}", *(["--network", network] if network else [])]
    for name, path in secrets.items():
        target = f"{SECRETS_DIR}/{name}"
        options += ["--volume", f"{path}:{target}:ro"]
        if name == CONDA_AUTH_SECRET:
            options += ["--env", f"CONDARC={target}"]
        else:  # the CA bundle, under every name conda's requests may read
            for variable in ("CONDA_SSL_VERIFY", "REQUESTS_CA_BUNDLE"):
                options += ["--env", f"{variable}={target}"]
    command = [*options, environment.base.reference, "-c", RUN_WITH_CONDA_PYTHON, SOLVE_SCRIPT]
    engine.show(["run", *command[:-1], "SCRIPT", json.dumps(arguments)])
    result = subprocess.run(
        [engine.executable, "run", *command, json.dumps(arguments)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("POETRY-DOCKER-LOCK ")]
    if result.returncode != 0 or not lines:
        detail = _error_line(result.stderr)
        raise DockerPluginError(
            f"conda in the base image {environment.base.reference} could not solve python="
            f"{environment.python}, pip and the conda-packages from the channels "
            f"{', '.join(channels)}: {detail}. Nothing was written."
        )
    records = json.loads(lines[-1].partition(" ")[2])

    def public(url: str) -> str:  # no user:password@, no anaconda.org /t/TOKEN
        return re.sub(r"^([a-z]+://[^/]*)/t/[^/]+", r"\1", public_url(url))

    return [
        LockedPackage(
            platform=subdir,
            channel=public(str(record["channel"])),
            name=str(record["name"]),
            version=str(record["version"]),
            build=str(record["build"]),
            url=public(str(record["url"])),
            sha256=str(record["sha256"]),
            md5="" if record["sha256"] else str(record["md5"]),
        )
        for record in records
    ]


def _error_line(stderr: str) -> str:
    """The line of conda's error that says what failed (``CondaHTTPError: HTTP 000
    CONNECTION FAILED for url <...>``), else the last one: conda ends an HTTP error with
    advice and the channel as ``'http//host/...'``, a URL without its colon, which alone
    sends the reader to the wrong place."""
    said = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in said if re.match(r"[A-Za-z]*Error\b", line)]
    return (errors or said or ["no output"])[0 if errors else -1]
