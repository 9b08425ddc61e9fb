"""Which locked wheels share a layer of the image: decided from the lock alone, stable from one
lock to the next, so that a dependency bump rebuilds and re-pushes a small layer, never the
environment.

Each group is installed by a stage of its own (``pip install --root /layer``: only files), and
the final stage copies the groups' files in one layer each (``COPY --from``). A stage whose
requirements did not change is not rebuilt, and its layer keeps its digest, so the registry
already has it.

The rule:

- a large package (its wheel for the target at least ``LARGE_WHEEL_BYTES``, by the size the
  index gives for the locked file) gets a layer of its own, for the ``MAX_OWN_LAYERS`` largest;
- every other package goes to one of ``BUCKETS`` groups chosen by a hash of its name alone,
  so that adding, removing or bumping a package touches its own group and no other;
- pip, setuptools and wheel are already in the environment (venv and conda put them there):
  they are installed over it in the final stage, as before, so that one environment never
  holds two versions of them.

At most ``MAX_OWN_LAYERS + BUCKETS`` layers (48), well under overlay's 127 with the rest of the
image, whatever the size of the lock.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from poetry_docker_plugin.lock.wheels import wheel_tags

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.lock.wheels import Target

# A wheel this large (compressed, as the index serves it) is a layer of its own: numpy's,
# pandas', scipy's, torch's and the nvidia-* wheels are; PyYAML's or pydantic-core's are not.
LARGE_WHEEL_BYTES = 8 * 2**20
MAX_OWN_LAYERS = 32
BUCKETS = 16
# Installed with the environment itself (venv's ensurepip, conda's pip): replaced in place.
SEEDED = frozenset({"pip", "setuptools", "wheel"})
# The directory of a group's stage that holds the files it installed, as paths of the image.
LAYER_ROOT = "/layer"


@dataclass(frozen=True)
class LayerGroup:
    """Locked wheels installed together and copied into the image as one layer."""

    key: str  # a package's normalised name, or "bucket-NN"
    requirements: tuple[LockedRequirement, ...]
    size: int  # the bytes of the wheels whose size is known (0: none is)

    @property
    def stage(self) -> str:
        """The name of the stage that installs the group (a valid stage name: [a-z0-9-])."""
        return f"layer-{self.key}"

    @property
    def file(self) -> str:
        """The group's requirements file in the build context."""
        return f"requirements-layer-{self.key}.txt"

    @property
    def own(self) -> bool:
        """Whether it is one large package's layer."""
        return not self.key.startswith("bucket-")


@dataclass(frozen=True)
class CrossInstall:
    """The groups' stages run on the build platform for a target of another (``--platform``):
    pip there downloads the target's locked wheels (hashes checked) and PyPA's installer
    unpacks them into the target's venv layout; nothing of the target runs."""

    build_platform: str  # "linux/amd64": the engine's own
    python: str  # X.Y, the same on both platforms' bases (checked when the plan is made)
    prefix: str  # the venv's path, the same in both
    platform_tags: tuple[str, ...]  # pip download --platform: the target's, most specific first

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")


@dataclass(frozen=True)
class LayersPlan:
    """The groups, in the order the final stage copies them, and how it copies them."""

    groups: tuple[LayerGroup, ...] = ()
    # Requirements of packages the environment already holds (pip, setuptools, wheel).
    seeded: tuple[LockedRequirement, ...] = ()
    # ``COPY --link``: each layer independent of those below it (BuildKit's Dockerfile
    # frontend 1.4 and later; Docker 20.10's built-in one refuses the flag).
    copy_link: bool = False
    cross: CrossInstall | None = None


NO_LAYERS = LayersPlan()


def wheel_size(requirement: LockedRequirement, target: Target, sizes: Mapping[str, int]) -> int:
    """The size of the wheel pip installs on ``target`` (the largest of its locked wheels that
    fit, which differ little), 0 when the index gave none."""
    supported = target.tags
    return max(
        (
            sizes.get(name, 0)
            for name in requirement.files
            if (tags := wheel_tags(name)) and tags & supported
        ),
        default=0,
    )


def bucket_of(name: str, buckets: int = BUCKETS) -> int:
    """The group of a small package: a hash of its normalised name, nothing else (so neither
    its version nor the rest of the lock moves it)."""
    digest = hashlib.sha256(canonicalize_name(name).encode()).digest()
    return int.from_bytes(digest[:4], "big") % buckets


def plan_layers(
    requirements: Iterable[LockedRequirement],
    target: Target,
    sizes: Mapping[str, int],
    *,
    copy_link: bool = False,
    large: int = LARGE_WHEEL_BYTES,
    max_own: int = MAX_OWN_LAYERS,
    buckets: int = BUCKETS,
) -> LayersPlan:
    """Groups the hashed wheels that apply on ``target`` into layers (see the module's rule).

    ``sizes`` are the bytes of locked files by file name (``lock.sizes``); a package whose
    size is not known is counted small.
    """
    wanted = [r for r in requirements if r.applies_to(target)]
    seeded = tuple(r for r in wanted if canonicalize_name(r.name) in SEEDED)
    rest = [r for r in wanted if r not in seeded]
    measured = {r: wheel_size(r, target, sizes) for r in rest}
    large_ones = sorted(
        (r for r in rest if measured[r] >= large), key=lambda r: (-measured[r], r.name)
    )[:max_own]
    by_key: dict[str, list[LockedRequirement]] = {}
    for r in rest:
        key = (
            str(canonicalize_name(r.name))
            if r in large_ones
            else f"bucket-{bucket_of(r.name, buckets):02d}"
        )
        by_key.setdefault(key, []).append(r)
    # Large packages first (by name), then the buckets: the order depends on names alone.
    order = sorted(by_key, key=lambda key: (key.startswith("bucket-"), key))
    groups = tuple(
        LayerGroup(key, tuple(by_key[key]), sum(measured[r] for r in by_key[key])) for key in order
    )
    return LayersPlan(groups=groups, seeded=seeded, copy_link=copy_link)


def copy_link_supported(engine: str, server_version: str) -> bool:
    """Whether the engine's built-in Dockerfile frontend takes ``COPY --link``: Docker 23 and
    later (BuildKit 0.11, frontend 1.5); not Docker 20.10 (frontend 1.2), nor buildah 1.28."""
    if engine != "docker":
        return False
    major = server_version.split(".")[0]
    return major.isdigit() and int(major) >= 23


def cross_install(
    layers: LayersPlan, target: Target, prefix: str, build_platform: str, build_python: str | None
) -> tuple[LayersPlan, str]:
    """``layers`` with their stages on the build platform when that can give the same files,
    and why not when it cannot (said with ``-v``).

    It can for a venv whose base has the target's Python on the build platform too (a
    multi-platform base image), and wheels from indexes (one locked by URL would need its
    direct_url.json, which only pip writes)."""
    if build_python != target.python:
        return layers, (
            f"the base image has no {build_platform} variant with Python {target.python} "
            f"(found: {build_python or 'none'})"
        )
    if any(r.kind != "index" for g in layers.groups for r in g.requirements):
        return layers, "a wheel is locked by URL"
    platforms = {str(t.platform) for t in target.tags} - {"any"}
    cross = CrossInstall(build_platform, target.python, prefix, tuple(sorted(platforms, key=_rank)))
    return dataclasses.replace(layers, cross=cross), ""


def _rank(platform: str) -> tuple[int, int, str]:
    """pip's preference: the newest manylinux_2_N first, then the legacy names, linux_ last."""
    if platform.startswith("manylinux_2_"):
        return 0, -int(platform.split("_")[2]), platform
    return (2 if platform.startswith("linux_") else 1), 0, platform
