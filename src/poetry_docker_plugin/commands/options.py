"""The options of the ``poetry docker`` commands, with help that says what each does here.

One place for their words, so that ``--help`` and the generated CLI reference
(docs/reference/cli/, scripts/docs_pages.py) say the same. Names follow Poetry's and Docker's
where the meaning is theirs; the help says where the meaning differs (the groups' default is
the main group alone, as for ``poetry export``; ``--no-cache`` is Poetry's global flag with a
second meaning here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cleo.helpers import option

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cleo.io.inputs.option import Option

# What each kind of command builds its image from, for the groups' help.
RUNTIME_GROUPS = "the main group alone, not every non-optional group as in poetry install"
DEVELOPMENT_GROUPS = "every non-optional group, as in poetry install"

# Said in the help of every command that builds: Poetry's global --no-cache means more here.
NO_CACHE_HELP = """<comment>--no-cache</comment> is Poetry's global option: besides Poetry's
caches, it passes --no-cache to docker build (every step runs again)."""


def group_options(default: str) -> list[Option]:
    """``--with``, ``--without``, ``--only``: Poetry's names, with this command's default."""
    return [
        option(
            "with",
            None,
            f"Add these dependency groups, optional or not, to the default: {default}, plus "
            "the with setting's. Repeatable or comma-separated.",
            flag=False,
            multiple=True,
        ),
        option(
            "without",
            None,
            "Leave these dependency groups out, and the without setting's. Repeatable or "
            "comma-separated.",
            flag=False,
            multiple=True,
        ),
        option(
            "only",
            None,
            "Only these dependency groups (the main group too only when named).",
            flag=False,
            multiple=True,
        ),
        option(
            "all-groups",
            None,
            "Every dependency group, optional ones included (not with --with, --without, --only).",
        ),
    ]


def selection_options(groups: str, network: str) -> list[Option]:
    """What the image is made of and where it is built: every command that plans an image."""
    return [
        *group_options(groups),
        option(
            "extras",
            "E",
            "Extras of the project to install, repeatable or comma-separated (default: the extras "
            "setting, else none).",
            flag=False,
            multiple=True,
        ),
        option("all-extras", None, "Every extra of the project (not with --extras)."),
        option(
            "python",
            None,
            "The image's Python, X.Y (default: the python setting, else the newest that the "
            "project's python constraint and its locked wheels allow).",
            flag=False,
        ),
        option(
            "base-image",
            None,
            "The image to build on (default: the base-image setting, else "
            "condaforge/miniforge3:25.3.1-0; with --env-manager venv, python:X.Y-slim-bookworm).",
            flag=False,
        ),
        option(
            "runtime-base",
            None,
            "conda and micromamba: the image the environment is copied into (default: the "
            'runtime-base setting, else debian:bookworm-slim); the word "base" keeps one stage, '
            "on the base image.",
            flag=False,
        ),
        option(
            "env-manager",
            None,
            "conda, micromamba or venv (default: the env-manager setting, else what the base "
            "image holds: conda, then micromamba, else venv).",
            flag=False,
        ),
        option("network", None, network, flag=False),
    ]


def image_options() -> list[Option]:
    """How ``docker build`` makes the image: the commands that build one."""
    return [
        option(
            "build-arg",
            None,
            "A build-time variable KEY=VALUE, passed to docker build; repeatable.",
            flag=False,
            multiple=True,
        ),
        option(
            "cache-from",
            None,
            "An image in a registry whose layers the build may reuse; repeatable (replaces the "
            "cache-from setting).",
            flag=False,
            multiple=True,
        ),
        option(
            "reproducible",
            None,
            "A bit-identical image: every time in it from the inputs (SOURCE_DATE_EPOCH, else "
            "the last commit), never the clock (default: the reproducible setting, else off).",
        ),
    ]


def platform_option(text: str) -> Option:
    return option("platform", None, text, flag=False)


ONE_PLATFORM = "The image's platform, e.g. linux/arm64 (default: the engine's own)."


def container_options() -> list[Option]:
    """How ``run`` and ``shell`` start the container."""
    return [
        option("rebuild", None, "Build the image even when it is up to date."),
        option("no-build", None, "Fail instead of building when the image is missing or stale."),
        option(
            "env",
            "e",
            "Set a variable in the container, KEY=VALUE, or KEY for the host's value; repeatable.",
            flag=False,
            multiple=True,
        ),
        option(
            "publish",
            "p",
            "Publish a port, as docker run -p; repeatable (replaces the ports setting).",
            flag=False,
            multiple=True,
        ),
        option(
            "volume",
            None,
            "Bind-mount a volume, as docker run -v (a relative source is made absolute); "
            "repeatable. -v is Poetry's verbosity.",
            flag=False,
            multiple=True,
        ),
        option(
            "name",
            None,
            "The container's name (default: the project's name and 8 random hex digits).",
            flag=False,
        ),
        option("gpus", None, "GPUs to add, as docker run --gpus (e.g. all).", flag=False),
    ]


def env_assignments(values: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    """``--env`` of run, shell and devcontainer, checked by one rule: ``KEY=VALUE``, or
    ``KEY`` alone for the value it has here (None), as ``docker run -e KEY``. A name as the
    ``env`` setting's (letters, digits and ``_``, not a digit first), a value without control
    characters (a newline would start another line of whatever it is written into)."""
    from poetry_docker_plugin.project.settings import CONTROL_RE, ENV_KEY_RE

    pairs = []
    for item in values:
        key, sep, value = item.partition("=")
        if not ENV_KEY_RE.fullmatch(key) or CONTROL_RE.search(value):
            raise DockerPluginError(
                f"Invalid value for option --env: {item!r}. Give KEY=VALUE, or KEY alone for "
                "the value it has here, with a KEY of letters, digits and '_' that does not "
                "start with a digit, and a VALUE without control characters (such as a "
                "newline): e.g. --env DEBUG=1."
            )
        pairs.append((key, value if sep else None))
    return tuple(pairs)
