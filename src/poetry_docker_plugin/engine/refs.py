"""Image references (``registry:5000/team/app:1.0@sha256:...``): the grammar, and one parser.

Docker's grammar (distribution/reference), read here alone: settings validate with it, tags
are completed with it, and a reference is split into its registry, repository, tag and digest
only by :meth:`ImageReference.parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?)"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Docker's \w is ASCII, Python's is not
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_NAME_RE = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*")
TAG_RE = re.compile(_TAG)
IMAGE_REFERENCE_RE = re.compile(rf"{IMAGE_NAME_RE.pattern}(?::{_TAG})?(?:@{_DIGEST})?")


@dataclass(frozen=True)
class ImageReference:
    """A reference split as Docker splits it. ``registry`` is None for Docker Hub's short form
    (the first component names a host only when it holds a '.' or a ':' or is localhost)."""

    registry: str | None
    path: str  # team/app
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Splits a reference; ValueError when it is not one."""
        if not IMAGE_REFERENCE_RE.fullmatch(text):
            raise ValueError(f"{text!r} is not a valid image reference such as 'name:tag'")
        name, _, digest = text.partition("@")
        head, slash, last = name.rpartition("/")
        last, colon, tag = last.partition(":")
        name = f"{head}{slash}{last}"
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = None, name
        return cls(registry, path, tag if colon else None, digest or None)

    @property
    def repository(self) -> str:
        """``host:5000/team/app``: what a push goes to, without tag or digest."""
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def name(self) -> str:
        """The last component of the path: ``app``."""
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        text = self.repository
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def with_default_tag(text: str) -> str:
    """A reference with ``:latest`` added when it names neither tag nor digest, as docker does."""
    reference = ImageReference.parse(text)
    if reference.tag is None and reference.digest is None:
        return f"{text}:latest"
    return text
