"""Renderings kept in the project's cache, by what they are a function of: a call that changes
nothing neither imports Jinja2 nor renders again."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from poetry_docker_plugin.freshness.current import package_stamp
from poetry_docker_plugin.render.dockerfile import RenderedFiles, render

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.project.cache import ProjectCache
    from poetry_docker_plugin.sources.digests import SourceDigests


def render_key(plan: BuildPlan, sources: SourceDigests) -> str:
    """What the rendered files are a function of: the plan, the digests it names, and the
    renderer itself (this package's modules and templates, by size and time), so that a kept
    rendering is never one of other code. Rendering is most of what a call that changes
    nothing would spend after Poetry's own start-up; a key costs a few stats."""
    digest = hashlib.sha256(f"{plan!r}\0{sources!r}\0{package_stamp()}".encode())
    return digest.hexdigest()


def render_kept(plan: BuildPlan, sources: SourceDigests, cache: ProjectCache) -> RenderedFiles:
    """``render``, or the files it gave for the same key at an earlier call (kept in the
    project's cache): a call that changes nothing neither imports Jinja2 nor renders."""
    import dataclasses

    size = len(dataclasses.fields(RenderedFiles))
    texts = cache.kept_texts(
        render_key(plan, sources), size, lambda: list(dataclasses.astuple(render(plan, sources)))
    )
    return RenderedFiles(*texts)
