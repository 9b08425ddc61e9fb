"""Target platforms (``linux/arm64``): parsed once into a value, spelled as each tool wants.

Docker and OCI name architectures as Go does (``amd64``, ``arm64``); wheel tags and
``platform.machine()`` as the kernel does (``x86_64``, ``aarch64``); conda by its subdirs
(``linux-64``, ``linux-aarch64``); Debian by dpkg's names (``ppc64el``). The one value here
answers in each spelling, so that a platform read from ``--platform``, the engine or a base
image compares equal to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Go's names, as Docker's --platform and an image's config spell them -> (machine, conda
# subdir, Debian's architecture)
ARCHITECTURES = {
    "amd64": ("x86_64", "linux-64", "amd64"),
    "arm64": ("aarch64", "linux-aarch64", "arm64"),
    "ppc64le": ("ppc64le", "linux-ppc64le", "ppc64el"),
    "s390x": ("s390x", "linux-s390x", "s390x"),
    "386": ("i686", "linux-32", "i386"),
    "arm": ("armv7l", "linux-armv7l", "armhf"),
}
# Other spellings people and tools use for the same architectures.
ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "i386": "386",
    "i686": "386",
    "armhf": "arm",
    "armv7l": "arm",
}
PLATFORM_RE = re.compile(r"([a-z0-9]+)/([a-z0-9_-]+)(?:/(v[0-9]+))?", re.ASCII)


@dataclass(frozen=True, order=True)
class Platform:
    """An OS, an architecture in Go's spelling, and the variant some architectures have."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/arm64``, ``linux/arm/v7`` or ``linux/x86_64`` (aliases are normalised).

        Only Linux is built for: the images hold a Linux userland (and conda, or a venv).
        Raises ValueError naming what is accepted.
        """
        match = PLATFORM_RE.fullmatch(text.strip().lower())
        architecture = ALIASES.get(match.group(2), match.group(2)) if match else ""
        if match is None or architecture not in ARCHITECTURES:
            known = ", ".join(f"linux/{name}" for name in ARCHITECTURES)
            raise ValueError(
                f"{text!r} is not a platform this plugin builds for; give one of {known} "
                "(os/architecture, as `docker build --platform` takes it)"
            )
        if match.group(1) != "linux":
            raise ValueError(
                f"{text!r} names the OS {match.group(1)!r}, and the images are Linux images "
                f"(Docker Desktop runs them on Windows and macOS too); give linux/{architecture}"
            )
        variant = match.group(3) or ("v7" if architecture == "arm" else "")
        if architecture == "arm64" and variant == "v8":  # the only arm64 there is
            variant = ""
        return cls("linux", architecture, variant)

    @classmethod
    def of_image(cls, text: str) -> Platform | None:
        """As an engine or an image's config says it (``linux/amd64``); None when it says
        nothing, or a platform not built for."""
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    @property
    def machine(self) -> str:
        """As ``platform.machine()`` says it on this platform, and as wheel tags spell it."""
        return ARCHITECTURES[self.architecture][0]

    @property
    def conda_subdir(self) -> str:
        return ARCHITECTURES[self.architecture][1]

    @property
    def debian_architecture(self) -> str:
        """As dpkg names it (``arm64``, ``ppc64el``): what ``apt-get download`` asks for."""
        return ARCHITECTURES[self.architecture][2]

    @property
    def tag_suffix(self) -> str:
        """What a per-platform tag ends with (``1.0-arm64``), as multi-arch images name them."""
        return f"{self.architecture}{self.variant}"


def parse_platforms(value: object) -> tuple[Platform, ...]:
    """Platforms given as a list, or comma-separated (``linux/amd64,linux/arm64``), each
    once, in the order given; ValueError for anything else."""
    values = value if isinstance(value, list) else [value]
    texts = [item for item in values if isinstance(item, str)]
    if len(texts) != len(values):
        raise ValueError("expected platforms such as linux/amd64, as strings")
    words = [word for item in texts for word in item.split(",") if word.strip()]
    if not words:
        raise ValueError("no platform given; give one such as linux/amd64")
    return tuple(dict.fromkeys(Platform.parse(word) for word in words))


def host_platform() -> Platform:
    """This machine's, for when no engine can be asked (files written without building)."""
    import platform

    return Platform.of_image(f"linux/{platform.machine().lower()}") or Platform("linux", "amd64")
