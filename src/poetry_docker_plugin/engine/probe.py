"""What a base image holds (its Python, glibc, where conda keeps environments), asked of the
image itself once per image id and kept in a JSON cache."""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan.model import BaseImage

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine

# The X.Y of python3, then the glibc version it runs on (empty on other C libraries).
PYTHON_PROBE = [
    "-c",
    "import platform, sys; print('%d.%d' % sys.version_info[:2], platform.libc_ver()[1])",
]


def probe_base_image(
    engine: Engine,
    reference: str,
    manager: str,
    cache: Path | None = None,
    *,
    pull: bool = True,
    refresh: bool = False,
) -> BaseImage:
    """What the plan needs to know of the base image, looked at once per image id.

    Looking means running a container (half a second or more), so the answer is kept in
    ``cache`` (a JSON file) under the reference and the image's id; the caller checks the
    id against the image when it compares fingerprints, and asks again with no cache when
    the base was rebuilt under the same tag (``refresh``). A missing image is pulled
    first, unless ``pull`` is false, when the conventions of the published images are assumed.
    """
    key = f"{manager} {reference}"
    known: dict[str, dict[str, Any]] = {}
    if cache is not None and cache.is_file():
        with contextlib.suppress(ValueError, OSError):
            known = json.loads(cache.read_text())
        if key in known and not refresh:
            return BaseImage.from_facts(reference, known[key])
    config = engine.config_of(reference)
    if config is None:
        if not pull:
            return BaseImage(reference)
        _pull(engine, reference, "runtime-base" if manager == "runtime" else "base-image")
        config = engine.config_of(reference)
    identity, environment, labels = config or ("", {}, {})
    facts: dict[str, Any] = {"id": identity, "label_keys": sorted(labels)}
    if manager == "runtime":  # the runtime stage's base: its glibc, if it says
        libc = engine.capture(
            ["run", "--rm", "--entrypoint", "getconf", reference, "GNU_LIBC_VERSION"]
        )
        facts["glibc"] = libc.stdout.split()[-1] if libc.returncode == 0 else ""
    elif manager == "venv":
        python, _, glibc = _probe(engine, reference, "python3", PYTHON_PROBE, manager).partition(
            " "
        )
        facts["python"], facts["glibc"] = python, glibc.strip()
    elif manager == "conda":
        info = json.loads(_probe(engine, reference, "conda", ["info", "--json"], manager))
        facts["envs_dir"] = info["envs_dirs"][0]
        virtual = {name: version for name, version, *_ in info.get("virtual_pkgs", [])}
        facts["glibc"] = virtual.get("__glibc", "")
    else:  # micromamba: its images say where the root prefix is
        root = environment.get("MAMBA_ROOT_PREFIX", "/opt/conda")
        facts["envs_dir"] = f"{root.rstrip('/')}/envs"
    if cache is not None:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({**known, key: facts}, indent=1))
    return BaseImage.from_facts(reference, facts)


def _pull(engine: Engine, reference: str, setting: str) -> None:
    result = engine.capture(["pull", "--quiet", reference])
    if result.returncode != 0:
        engine.diagnose()
        detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        raise DockerPluginError(
            f"The base image {reference} is not on this machine and could not be pulled "
            f"({detail}). Pull or build it first, or set `{setting}` in "
            f"[tool.poetry-docker] (or --{setting}) to an image you have."
        )


def _probe(engine: Engine, image: str, program: str, arguments: list[str], manager: str) -> str:
    result = engine.capture(["run", "--rm", "--entrypoint", program, image, *arguments])
    if result.returncode != 0 or not result.stdout.strip():
        engine.diagnose()
        raise DockerPluginError(
            f"Could not run `{program}` in the base image {image}: "
            f"{result.stderr.strip() or 'no output'}. The {manager} manager needs a base "
            f"image with {program} on its PATH; choose such a base image (`base-image` in "
            "[tool.poetry-docker]), or another manager (`env-manager`)."
        )
    if program == "python3" and not re.match(r"3\.\d+( |$)", result.stdout.strip()):
        raise DockerPluginError(
            f"python3 in the base image {image} is not a Python 3 that the venv manager "
            f"can use (it says {result.stdout.strip()!r}). Choose another base image."
        )
    return result.stdout
