"""A project's ``.dockerignore``, read and matched as Docker itself does.

Users write a ``.dockerignore`` for ``docker build``; when the plugin copies their sources
instead, the same file must leave out the same files, or a secret or a data folder that the
user thought excluded reaches the image. So this follows Docker's rules, not gitignore's:

- one pattern a line; a line whose first character is ``#`` is a comment; surrounding white
  space is trimmed and blank lines are skipped;
- a pattern is a path relative to the context root, cleaned like Go's ``filepath.Clean``
  (so ``./a``, ``/a`` and ``a/`` all mean ``a``);
- ``*`` matches any run of characters but ``/``, ``?`` one character but ``/``, ``[...]`` a
  character class (``^`` negates it), ``\\`` escapes the next character, as in Go's
  ``filepath.Match``; ``**`` matches any number of directories, none included;
- a pattern that matches a directory excludes everything under it; a pattern is matched
  against the whole path only: ``*.csv`` is ``*.csv`` at the root, ``**/*.csv`` anywhere;
- ``!`` makes a pattern an exception, and the last pattern that matches a path (or one of
  its parent directories) decides: an exception can re-include a file in an excluded folder.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from pathlib import Path

DOCKERIGNORE = ".dockerignore"


class PatternError(ValueError):
    """A pattern that Docker would refuse too (its syntax is Go's ``filepath.Match``)."""


@dataclass(frozen=True)
class Pattern:
    """One cleaned line of a ``.dockerignore``: what it matches and whether it re-includes."""

    text: str
    exception: bool
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, line: str) -> Pattern | None:
        """The pattern of a line, or None for a comment or a blank line."""
        if line.startswith("#"):
            return None
        text = line.strip()
        exception = text.startswith("!")
        if exception:
            text = text[1:].strip()
            if not text:
                raise PatternError('"!" alone excludes nothing: Docker refuses it')
        if not text:
            return None
        text = _clean(text)
        if len(text) > 1 and text.startswith("/"):
            text = text[1:]
        return cls(text, exception, re.compile(_translate(text), re.DOTALL))

    def matches(self, path: str) -> bool:
        """Whether this pattern matches ``path`` (relative, with ``/``) itself."""
        return self.regex.fullmatch(path) is not None


@dataclass(frozen=True)
class DockerIgnore:
    """The patterns of a ``.dockerignore``, in order; empty when the project has none."""

    patterns: tuple[Pattern, ...] = ()

    @classmethod
    def parse(cls, text: str, origin: str = DOCKERIGNORE) -> DockerIgnore:
        """Reads patterns from the text of a ``.dockerignore``; ``origin`` names it in errors."""
        patterns = []
        for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
            try:
                pattern = Pattern.parse(line.removesuffix("\r"))
            except PatternError as error:
                raise DockerPluginError(
                    f"{origin}, line {number}: {line.strip()!r} is not a valid pattern: "
                    f"{error}. Fix it (`docker build` would fail on it too)."
                ) from None
            if pattern is not None:
                patterns.append(pattern)
        return cls(tuple(patterns))

    @classmethod
    def read(cls, root: Path) -> DockerIgnore:
        """The ``.dockerignore`` at the root of a directory that is copied as a context."""
        path = root / DOCKERIGNORE
        if not path.is_file():
            return cls()
        return cls.parse(path.read_bytes().decode("utf-8", "replace"), str(path))

    def excludes(self, path: str) -> bool:
        """Whether ``path`` (relative to the root, with ``/``) is left out.

        The last pattern that matches the path or one of its parent directories decides.
        """
        parts = path.split("/")
        candidates = [path, *("/".join(parts[:end]) for end in range(1, len(parts)))]
        excluded = False
        for pattern in self.patterns:
            if any(pattern.matches(candidate) for candidate in candidates):
                excluded = not pattern.exception
        return excluded

    def prunes(self, directory: str) -> bool:
        """Whether nothing under ``directory`` can be copied, so walking it is wasted time.

        Only when no exception exists: an exception may re-include a file deep inside.
        """
        return not any(p.exception for p in self.patterns) and self.excludes(directory)


def _clean(text: str) -> str:
    """Go's ``filepath.Clean`` for ``/`` paths (POSIX keeps a leading ``//``; Go does not)."""
    cleaned = posixpath.normpath(text)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _translate(text: str) -> str:
    """A regular expression for a whole path, from a cleaned pattern."""
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char == "*" and text.startswith("*", index):
            index += 1
            if text.startswith("/", index):
                index += 1
            out.append(".*" if index == len(text) else "(?:.*/)?")
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            index, character_class = _character_class(text, index)
            out.append(character_class)
        elif char == "\\":
            if index == len(text):
                raise PatternError("it ends with an escaping backslash")
            out.append(re.escape(text[index]))
            index += 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _character_class(text: str, index: int) -> tuple[int, str]:
    """A ``[...]`` class of Go's ``filepath.Match`` from ``index`` (after the ``[``).

    Returns the index after its ``]`` and the regular-expression class.
    """
    out = ["["]
    if text.startswith("^", index):
        out.append("^")
        index += 1
    first = True
    while True:
        if index == len(text):
            raise PatternError("a character class has no closing ]")
        if text[index] == "]" and not first:
            return index + 1, "".join(out) + "]"
        low, index = _class_char(text, index)
        if text.startswith("-", index):
            high, index = _class_char(text, index + 1)
            if high < low:
                raise PatternError(f"the range {low}-{high} is empty")
            out.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            out.append(re.escape(low))
        first = False


def _class_char(text: str, index: int) -> tuple[str, int]:
    """One character of a class, unescaped; ``-`` and ``]`` must be escaped where they start."""
    if index == len(text) or text[index] in "-]":
        raise PatternError("a character class is malformed")
    if text[index] == "\\":
        index += 1
        if index == len(text):
            raise PatternError("a character class is malformed")
    return text[index], index + 1
