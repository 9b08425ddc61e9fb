"""Values of docker options that the client parses itself: volumes, bind mounts, CSV fields."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path, PurePath


def absolute_volume(value: str, *, windows: bool = os.name == "nt") -> str:
    """A ``--volume`` whose source is a relative path (``./src:/mnt``), made absolute.

    docker takes a source without a slash for a named volume, and refuses relative paths. On a
    Windows host the source may start with a drive (``C:\\data:/mnt``, whose first ``:`` is
    the drive's) and use either slash (``.\\data:/mnt``).
    """
    drive = re.match(r"[A-Za-z]:[\\/]", value) if windows else None
    if drive:
        return value  # absolute already: docker's Windows client reads it as it is
    source, separator, rest = value.partition(":")
    slashes = "/\\" if windows else "/"
    relative = source.startswith((".", "~")) or (
        any(s in source for s in slashes) and source[0] not in slashes
    )
    if separator and relative:
        source = str(Path(source).expanduser().resolve())
    return f"{source}{separator}{rest}"


def bind_mount(source: PurePath, target: str, *flags: str) -> str:
    """A ``--mount`` value for a bind mount: unlike ``--volume``, it takes any path (a ``:``
    in it included); its fields are CSV, so each is quoted as CSV quotes.

    The source is the host's own spelling of the path: on Windows ``C:\\Users\\ana\\my app``,
    which Docker Desktop documents it translates into its VM (compose passes such paths
    through unchanged too; ``/c/...`` or ``//c/...`` are only for shells that rewrite
    arguments, such as Git Bash, which no process of Poetry's is).
    """
    return csv_fields("type=bind", f"source={source}", f"target={target}", *flags)


def csv_fields(*fields: str) -> str:
    """Fields of a docker option that the client parses as one CSV line (``--mount``,
    ``--secret``): a field holding ``,`` or ``"`` is quoted, its ``"`` doubled."""
    import csv

    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(fields)
    return line.getvalue()
