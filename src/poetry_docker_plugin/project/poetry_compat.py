"""What differs between the Poetry (and poetry-core) releases the plugin supports.

The plugin declares ``poetry (>=2.0,<3)``; every Poetry release pins its own poetry-core, so
that range is also the poetry-core range. Code that depends on which release is installed
lives here, and only here, so that the rest of the plugin reads as if there were one Poetry.

This module is imported by ``plugin.py`` on every Poetry call: it imports nothing at module
level but the standard library.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cleo.commands.command import Command
    from poetry.core.packages.package import Package
    from poetry.core.packages.project_package import ProjectPackage
    from poetry.core.version.markers import BaseMarker

# Keep both in step with `poetry` in pyproject.toml's dependencies and with the table of
# docs/reference/supported-versions.md.
SUPPORTED_RANGE = ">=2.0,<3"
SUPPORTED_MAJOR = 2


def poetry_version() -> str:
    """The running Poetry's version, as Poetry itself reports it.

    ``poetry.__version__`` is already imported by Poetry's application when plugins are
    activated, so reading it costs nothing.
    """
    from poetry.__version__ import __version__

    return str(__version__)


def unsupported_poetry_message(version: str) -> str | None:
    """The one line that refuses ``version``, or None when the plugin supports it.

    Only the major version decides: the range is ``>=2.0,<3``, so 2.0.0 and every later 2.x
    is in and 1.x and 3.0 pre-releases are out. A version that cannot be read is refused too,
    as nothing can be promised about it.
    """
    match = re.match(r"\s*(\d+)\.", version)
    if match and int(match.group(1)) == SUPPORTED_MAJOR:
        return None
    return (
        f"poetry-docker-plugin needs Poetry {SUPPORTED_RANGE}, but this is Poetry {version}: "
        "install a Poetry in that range to use `poetry docker`."
    )


def license_of(package: ProjectPackage) -> str:
    """The project's license as an SPDX expression or name, or "" without one.

    poetry-core 2.2 reads a string ``[project] license`` (PEP 639) into
    ``package.license_expression`` and leaves ``package.license`` unset; poetry-core 2.0 and
    2.1 have no ``license_expression`` and read every license into ``package.license``.
    """
    if package.license is not None:
        return str(package.license.id)
    expression = getattr(package, "license_expression", None)
    return str(expression) if expression else ""


def locked_files(package: Package) -> tuple[dict[str, str], ...]:
    """The package's locked files, each with its ``file`` name and ``hash``.

    The oldest locks (lock-version 1.0) keep bare digests under ``[metadata.hashes]``,
    without file names. Poetry 2.5 reads them as ``{"file": digest, "hash": digest}``; Poetry
    2.0 and 2.1 as ``{"name": digest, "hash": digest}``, with no ``file`` key: read both alike.
    """
    return tuple(
        {"file": str(entry.get("file", entry.get("name", ""))), "hash": str(entry.get("hash", ""))}
        for entry in package.files
    )


def without_chosen_extras(marker: BaseMarker, extras: Iterable[str]) -> BaseMarker:
    """``marker`` of a package the export walker kept, with the chosen ``extras`` applied.

    poetry-plugin-export 1.10 on a poetry-core that has ``BaseMarker.apply`` (2.5 and later)
    already removes ``extra == "x"`` from the markers it yields; 1.9 (the newest that installs
    with Poetry 2.0) only checks them, and leaves ``extra == "fast"`` in place, which pip
    evaluates as false in a requirements file: the extra's packages would silently not be
    installed. Applying the extras again to a marker without any changes nothing.
    """
    apply = getattr(marker, "apply", None)
    if apply is not None:
        applied: BaseMarker = apply({"extra": frozenset(extras)})
        return applied
    # poetry-core before apply(): what poetry-plugin-export 1.10 itself falls back to
    return marker.without_extras()


def command_for_this_poetry(name: str, factory: Callable[[], Command]) -> Callable[[], Command]:
    """``factory`` on a supported Poetry; elsewhere one that makes a command refusing to run.

    The check is made when the plugin is activated (a string comparison), and the refusal
    when a docker command runs, so that every other Poetry command, ``poetry self remove``
    included, still works on a Poetry the plugin does not support. The refusing command
    imports none of the plugin's modules, which may need what that Poetry lacks.
    """
    refusal = unsupported_poetry_message(poetry_version())
    if refusal is None:
        return factory

    def refusing() -> Command:
        from cleo.commands.command import Command
        from cleo.io.outputs.output import Verbosity

        class Refused(Command):
            """Accepts any arguments and options, then prints the refusal."""

            description = f"(unavailable: poetry-docker-plugin needs Poetry {SUPPORTED_RANGE})"

            def __init__(self) -> None:
                super().__init__()
                self.ignore_validation_errors()

            def handle(self) -> int:
                # on stderr even with -q: quiet silences progress, never failures
                self.line_error(f"<error>{refusal}</error>", verbosity=Verbosity.QUIET)
                return 1

        Refused.name = name
        return Refused()

    return refusing
