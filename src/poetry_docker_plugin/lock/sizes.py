"""The sizes of the locked wheels, which poetry.lock does not record: asked of the index's JSON
simple API (PEP 691, ``size`` per file by PEP 700) once per ``name==version`` and kept in the
user's cache, so that later builds ask nothing.

Only for packages locked from PyPI (no source of the project's): another index may need
credentials, which never reach the host's side of the build. A size that cannot be had is
simply not known, and the package is grouped as a small one (``plan.layers``): sizes decide
layers, never what is installed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from poetry_docker_plugin.util.json_cache import read_json, write_json

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from poetry_docker_plugin.lock.model import LockedRequirement

PYPI_SIMPLE = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TIMEOUT_SECONDS = 5.0
WORKERS = 8
# An index that did not answer is not asked again for this long (kept in the cache file), so
# that a machine without PyPI waits for it once, not on every call.
UNREACHABLE_KEY = "unreachable-until"
RETRY_AFTER_SECONDS = 600


def index_sizes(page: object, files: Iterable[str]) -> dict[str, int]:
    """The sizes of ``files`` that a simple API JSON page lists (a stranger's: checked)."""
    wanted = set(files)
    found: dict[str, int] = {}
    entries = page.get("files") if isinstance(page, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        name, size = entry.get("filename"), entry.get("size")
        if name in wanted and isinstance(size, int) and not isinstance(size, bool) and size >= 0:
            found[name] = size
    return found


def _fetch(requirement: LockedRequirement, index: str) -> dict[str, int] | None:
    import urllib.request
    from urllib.parse import quote

    from packaging.utils import canonicalize_name

    url = f"{index}/{quote(canonicalize_name(requirement.name))}/"
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            page = json.loads(answer.read())
    except (OSError, ValueError):
        return None
    return index_sizes(page, requirement.files)


def locked_sizes(requirements: Iterable[LockedRequirement], cache: Path) -> dict[str, int]:
    """The sizes of the locked files by file name, from the cache or PyPI (see the module).

    The first missing package is asked alone: when the index does not answer, no other is
    asked, and none is until ``RETRY_AFTER_SECONDS`` have passed."""
    import time

    kept = read_json(cache)
    known: dict[str, object] = kept if isinstance(kept, dict) else {}
    asked = [r for r in requirements if r.kind == "index" and not r.source_url and r.files]
    missing = [r for r in asked if not isinstance(known.get(f"{r.name}=={r.version}"), dict)]
    until = known.get(UNREACHABLE_KEY)
    if missing and not (isinstance(until, int | float) and time.time() < until):
        first = _fetch(missing[0], PYPI_SIMPLE)
        answers: list[dict[str, int] | None] = [first]
        if first is None:
            known[UNREACHABLE_KEY] = time.time() + RETRY_AFTER_SECONDS
            missing = missing[:1]
        elif len(missing) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(WORKERS) as pool:
                answers += pool.map(lambda r: _fetch(r, PYPI_SIMPLE), missing[1:])
        for requirement, answer in zip(missing, answers, strict=True):
            if answer is not None:
                known[f"{requirement.name}=={requirement.version}"] = answer
        write_json(cache, known)
    sizes: dict[str, int] = {}
    for r in asked:
        entry = known.get(f"{r.name}=={r.version}")
        if isinstance(entry, dict):
            sizes.update(
                (name, size)
                for name, size in entry.items()
                if isinstance(name, str) and isinstance(size, int) and name in r.files
            )
    return sizes
