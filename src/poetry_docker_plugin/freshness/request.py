"""What a command asks of the image (``BuildRequest``), and a plan made ready to build
(``Prepared``): the values the builder's stages hand each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetry_docker_plugin.freshness.fingerprint import Fingerprint
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.platforms import Platform
    from poetry_docker_plugin.render.dockerfile import RenderedFiles


@dataclass(frozen=True)
class BuildRequest:
    """What the command line asks of the image, beyond the project's settings."""

    groups: frozenset[str]
    tags: tuple[str, ...] = ()
    platform: Platform | None = None  # None: the engine's own
    build_args: tuple[tuple[str, str], ...] = ()
    network: str | None = None
    no_cache: bool = False
    # The development image of ``shell``: the project editable, for the host's user.
    development: bool = False
    # Write BuildKit's inline cache into the image (for pushing), so that another machine's
    # build can reuse its layers through --cache-from.
    inline_cache: bool = False
    # Reproducible builds: the time every file and the image carry (``reproducible``).
    epoch: int | None = None


@dataclass(frozen=True)
class Prepared:
    """A plan with its rendered files and the fingerprint of every input."""

    plan: BuildPlan
    rendered: RenderedFiles
    inputs: Fingerprint

    @property
    def fingerprint(self) -> str:
        return self.inputs.digest
