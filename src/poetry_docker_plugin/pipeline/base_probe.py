"""What a base image holds (its Python, glibc, where conda keeps environments), asked of the
image itself once per image id and kept in a JSON cache."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan.model import BaseImage
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.util.json_cache import read_json, write_json

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine

# The X.Y of python3, 1 if its Python.h is there (else 0), its X.Y.Z and path (a venv records
# both: a build for another platform creates it natively only where they are the same), then
# the glibc version it runs on (empty on other C libraries).
PYTHON_PROBE = [
    "-c",
    "import os, platform, sys, sysconfig; print('%d.%d' % sys.version_info[:2],"
    " int(os.path.isfile(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))),"
    " platform.python_version(), sys.executable or '-', platform.libc_ver()[1])",
]


def probe_base_image(
    engine: Engine,
    reference: str,
    manager: str,
    platform: Platform | None = None,
    cache: Path | None = None,
    *,
    pull: bool = True,
    refresh: bool = False,
) -> BaseImage:
    """What the plan needs to know of the base image, looked at once per image id.

    Looking means running a container (half a second or more), so the answer is kept in
    ``cache`` (a JSON file) under the image's id: the reference is resolved to an id first
    (one ``image inspect``), so a tag that names another image since is probed anew, never
    answered with the facts of the image it named before. ``refresh`` asks again all the
    same. Every value is checked (``checked_facts``) before it is used. A missing image is pulled
    first, unless ``pull`` is false, when the conventions of the published images are assumed.

    ``manager`` "auto" first asks the image which manager it holds (conda, micromamba, else
    a Python for venv). A local image of another platform than ``platform`` is pulled for
    that platform (a local store keeps one platform per tag); the plan refuses a base that
    is still of another platform.
    """
    setting = "runtime-base" if manager == "runtime" else "base-image"
    # The reference is resolved to an id first: the facts are the image's, and a tag that
    # now names another image (re-tagged, rebuilt, pulled anew) is another image.
    config = engine.config_of(reference)
    if config is None:
        if not pull:
            return BaseImage(reference)
        _pull(engine, reference, setting, platform)
        config = engine.config_of(reference)
    elif (
        pull
        and platform is not None
        and Platform.of_image(checked_platform(reference, config.platform)) != platform
    ):
        _pull(engine, reference, setting, platform, have=config.platform)
        config = engine.config_of(reference)
    if config is None:
        raise DockerPluginError(f"The base image {reference} vanished while it was looked at.")
    key = f"{manager} {config.id} {platform or ''}"
    if cache is not None and not refresh and (cached := cached_facts(cache, key)) is not None:
        return BaseImage.from_facts(reference, checked_facts(reference, cached))
    facts: dict[str, Any] = {
        "id": config.id,
        "label_keys": sorted(config.labels),
        "platform": config.platform,
    }
    if manager == "auto":
        manager = facts["manager"] = _manager_found(engine, reference)
    if manager == "runtime":  # the runtime stage's base: its glibc, if it says
        libc = engine.capture(
            ["run", "--rm", "--entrypoint", "getconf", reference, "GNU_LIBC_VERSION"]
        )
        facts["glibc"] = libc.stdout.split()[-1] if libc.returncode == 0 else ""
    elif manager == "venv":
        answer = _probe(engine, reference, "python3", PYTHON_PROBE, manager)
        python, headers, release, executable, *glibc = answer.split()
        facts["python"], facts["glibc"] = python, "".join(glibc)
        facts["python_headers"] = headers == "1"
        facts["python_release"] = release
        facts["python_executable"] = executable
    elif manager == "conda":
        info = json.loads(_probe(engine, reference, "conda", ["info", "--json"], manager))
        facts["envs_dir"] = info["envs_dirs"][0]
        virtual = {name: version for name, version, *_ in info.get("virtual_pkgs", [])}
        facts["glibc"] = virtual.get("__glibc", "")
    else:  # micromamba: its images say where the root prefix is
        root = config.environment.get("MAMBA_ROOT_PREFIX", "/opt/conda")
        facts["envs_dir"] = f"{root.rstrip('/')}/envs"
    checked_facts(reference, facts)
    if cache is not None:
        store_facts(cache, key, facts)
    return BaseImage.from_facts(reference, facts)


# Which environment manager an image holds: the first of these found on its PATH.
MANAGER_PROBE = "for p in conda micromamba; do command -v $p >/dev/null && echo $p && exit; done"


def _manager_found(engine: Engine, reference: str) -> str:
    """conda when the image has conda on its PATH, micromamba when it has that, else venv.

    Asked of the image, never read from its name: ``acme/ds-base`` may well hold conda. An
    image without a shell has neither (the venv probe then says what it lacks).
    """
    result = engine.capture(["run", "--rm", "--entrypoint", "sh", reference, "-c", MANAGER_PROBE])
    found = result.stdout.strip() if result.returncode == 0 else ""
    return found if found in ("conda", "micromamba") else "venv"


# The probe's cache file, in the plugin's cache folder (its name carries the layout's version).
PROBE_CACHE_FILE = "base-images-v5.json"
# The layout of the cache file: {"version": 4, "images": {key: {"facts": ..., "check": ...}}}.
# (5: venv python_release and python_executable; 4: the platform, the manager found, venv
# python_headers; earlier entries lack some of them.)
CACHE_VERSION = 5
# The type of each fact the probe records, and the form of the versions among them.
FACT_TYPES: dict[str, type] = {
    "id": str,
    "label_keys": list,
    "python": str,
    "glibc": str,
    "envs_dir": str,
    "python_headers": bool,
    "python_release": str,
    "python_executable": str,
    "platform": str,
    "manager": str,
}
VERSION_RE = re.compile(r"(\d+\.\d+(\.\d+)?)?")


def _check(key: str, facts: object) -> str:
    """A digest that binds the facts to the image's key and id as the probe wrote them: an
    entry changed afterwards (damaged, edited, or left by a version that probed otherwise)
    no longer matches, and is probed again instead of believed."""
    text = json.dumps([CACHE_VERSION, key, facts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# What a value read from a base image must look like before it reaches a Dockerfile, a script
# or the terminal: the image is a stranger's, like the lock (``settings`` checks the user's).
FACT_FORMS: dict[str, re.Pattern[str]] = {
    "id": re.compile(r"(sha256:)?[0-9a-f]{64}"),
    "platform": re.compile(r"[a-z0-9_]{1,32}(/[a-z0-9_.-]{1,32}){1,2}"),
    "envs_dir": re.compile(r"/[A-Za-z0-9._/-]{0,200}"),
    "label_keys": re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}"),
    "python": VERSION_RE,
    "glibc": VERSION_RE,
    "python_release": re.compile(r"\d+\.\d+\.\d+[a-z0-9+]{0,16}"),
    "python_executable": re.compile(r"/[A-Za-z0-9._/-]{0,200}|-"),
}


def checked_platform(reference: str, platform: str) -> str:
    """The platform an image's config states, refused when it is not one (``FACT_FORMS``)."""
    checked_facts(reference, {"platform": platform})
    return platform


def checked_facts(reference: str, facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` when each value has the form of its kind; else one paragraph naming the
    image and the value (escaped: a base image's text never reaches the terminal raw)."""
    for name, form in FACT_FORMS.items():
        values = facts.get(name)
        for value in values if isinstance(values, list) else [values]:
            if value is None or (isinstance(value, str) and form.fullmatch(value)):
                continue
            what = name.replace("_", " ").replace("keys", "key")
            raise DockerPluginError(
                f"The base image {reference} states a {what} the plugin will not write into "
                f"the image's files: {ascii(value)[:200]}. Values read from a base image are "
                "checked like values of the lock. Choose another base image (`base-image` "
                "in [tool.poetry-docker], or --base-image), or rebuild it without that value."
            )
    return facts


def _valid(facts: object) -> bool:
    """Whether ``facts`` has the shape and forms the probe writes."""
    if not isinstance(facts, dict) or not isinstance(facts.get("id"), str):
        return False
    for name, value in facts.items():
        kind = FACT_TYPES.get(name)
        if kind is None or not isinstance(value, kind):
            return False
    if not all(isinstance(label, str) for label in facts.get("label_keys", [])):
        return False
    return all(VERSION_RE.fullmatch(facts.get(name, "")) for name in ("python", "glibc"))


def cached_facts(cache: Path, key: str) -> dict[str, Any] | None:
    """The facts kept for ``key``, when the entry is whole and as the probe wrote it."""
    loaded = read_json(cache)
    if not isinstance(loaded, dict) or loaded.get("version") != CACHE_VERSION:
        return None
    images = loaded.get("images")
    entry = images.get(key) if isinstance(images, dict) else None
    if not isinstance(entry, dict):
        return None
    facts = entry.get("facts")
    if not isinstance(facts, dict) or not _valid(facts) or entry.get("check") != _check(key, facts):
        return None
    return facts


def store_facts(cache: Path, key: str, facts: dict[str, Any]) -> None:
    """Keeps ``facts`` under ``key``, with the other entries that are whole; a file of another
    shape or version is replaced. Best effort: an unwritable cache only costs a probe."""
    loaded = read_json(cache)
    images = loaded.get("images") if isinstance(loaded, dict) else None
    kept = {
        name: entry
        for name, entry in (images.items() if isinstance(images, dict) else [])
        if isinstance(entry, dict) and entry.get("check") == _check(name, entry.get("facts"))
    }
    kept[key] = {"facts": facts, "check": _check(key, facts)}
    write_json(cache, {"version": CACHE_VERSION, "images": kept}, indent=1)


def _pull(
    engine: Engine, reference: str, setting: str, platform: Platform | None, have: str = ""
) -> None:
    """Pulls the image (for ``platform``); ``have``: the platform of the local one, if any."""
    command = ["pull", "--quiet", *(["--platform", str(platform)] if platform else []), reference]
    result = engine.capture(command)
    if result.returncode == 0:
        return
    engine.diagnose()
    detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
    if have:
        raise DockerPluginError(
            f"The base image {reference} is a {have} image here, and the image is built for "
            f"{platform}; pulling its {platform} image failed ({detail}). Set `{setting}` in "
            f"[tool.poetry-docker] (or --{setting}) to an image with a {platform} variant, or "
            "build for its platform (--platform)."
        )
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
