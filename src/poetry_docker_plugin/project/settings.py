"""Settings: ``[tool.poetry-docker]`` plus command-line options, validated once.

Every value that later reaches a Dockerfile or a shell script is checked here, so that the
templates can rely on it: names are matched against the grammar Docker, Debian or conda give
them, and free text (environment values, labels) may not hold control characters, which could
otherwise end a Dockerfile instruction and start another.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.engine.refs import IMAGE_NAME_RE, IMAGE_REFERENCE_RE, TAG_RE
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import SETTINGS_TABLE
from poetry_docker_plugin.platforms import Platform, parse_platforms

if TYPE_CHECKING:
    from poetry_docker_plugin.project.facts import ProjectFacts

TABLE = SETTINGS_TABLE
ENV_MANAGERS = ("conda", "micromamba", "venv")

ENV_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
APT_PACKAGE_RE = re.compile(r"[a-z0-9][a-z0-9+.-]+(?:=[A-Za-z0-9.+:~-]+)?")
_CONDA_CHANNEL_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)*"
# A package spec, optionally qualified by the channel it must come from (conda-forge::gdal).
CONDA_SPEC_RE = re.compile(
    rf"(?:{_CONDA_CHANNEL_NAME}::)?"
    r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:[=<>!~]=?[A-Za-z0-9_.*+!<>=,|-]*)?"
)
# A channel name, an http(s) URL (credentials are taken out of it for the build), or a
# file:// URL of a channel inside the base image.
CONDA_CHANNEL_RE = re.compile(
    rf"{_CONDA_CHANNEL_NAME}|https?://[A-Za-z0-9._~:/%@+-]+|file:///[A-Za-z0-9._~/%+-]*"
)
WORKDIR_RE = re.compile(r"/[A-Za-z0-9._/-]*")
# Directories of the system that a working directory may not be or lie in: the runtime user
# would own it, and could replace system files (/etc/passwd) or programs.
SYSTEM_DIRECTORIES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt/conda",
    "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var",
)  # fmt: skip
# A soname, or a glob of them (libcuda.so.1, libnvidia-*.so*).
SONAME_PATTERN_RE = re.compile(r"[A-Za-z0-9_*?][A-Za-z0-9_.+*?-]*")
PYTHON_RE = re.compile(r"3\.[0-9]{1,2}")
PORT_RE = re.compile(r"([0-9]{1,5})(?:/(tcp|udp|sctp))?")
GROUP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}(?::[0-9]{1,10})?")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Settings:
    """What the user asked for, validated; ``None`` means "let the plan choose"."""

    base_image: str | None = None
    env_manager: str | None = None
    python: str | None = None
    conda_packages: tuple[str, ...] = ()
    conda_channels: tuple[str, ...] = ("conda-forge",)
    apt_packages: tuple[str, ...] = ()
    # Debian packages that only building sdists needs (headers, *-config programs): the wheels
    # stage gets them on every manager, the runtime image never does.
    build_apt_packages: tuple[str, ...] = ()
    # Sonames (glob patterns) that the library check does not look for: the host provides
    # them at run time (a GPU driver's), or nothing loads the files that need them.
    ignore_libraries: tuple[str, ...] = ()
    image: str | None = None
    tags: tuple[str, ...] = ()
    workdir: str = "/app"
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None
    with_groups: tuple[str, ...] = field(default=())
    without_groups: tuple[str, ...] = field(default=())
    extras: tuple[str, ...] = ()
    user: str | None = None
    ca_bundle: str | None = None
    include: tuple[str, ...] = ()
    runtime_base: str | None = None
    # Images in a registry whose inline cache builds may reuse (docker build --cache-from).
    cache_from: tuple[str, ...] = ()
    # What `build --push` publishes, as one multi-platform reference.
    platforms: tuple[Platform, ...] = ()
    # Bit-identical images: times from the inputs, never the clock (``reproducible``).
    reproducible: bool = False

    def override(self, **values: Any) -> Settings:
        """Returns a copy with command-line values (already validated) winning over these."""
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_describe(value)}")
    if _CONTROL_RE.search(value):
        raise ValueError("control characters such as newlines are not allowed")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[object], str]:
    def convert(value: object) -> str:
        text = _string(value)
        if not pattern.fullmatch(text):
            raise ValueError(f"{text!r} is not {what}")
        return text

    return convert


def _list_of(item: Callable[[object], str]) -> Callable[[object], tuple[str, ...]]:
    def convert(value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise ValueError(f"expected a list of strings, got {_describe(value)}")
        return tuple(item(v) for v in value)

    return convert


def _table_of(
    key_pattern: re.Pattern[str], what: str
) -> Callable[[object], tuple[tuple[str, str], ...]]:
    def convert(value: object) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a table of strings, got {_describe(value)}")
        pairs = []
        for key, item in value.items():
            if not key_pattern.fullmatch(key):
                raise ValueError(f"{key!r} is not {what}")
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise ValueError(f"the value of {key!r} must be a string, got {_describe(item)}")
            pairs.append((key, _string(str(item))))
        return tuple(pairs)

    return convert


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def convert(value: object) -> str:
        text = _string(value)
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    return convert


def _workdir(value: object) -> str:
    text = _matching(WORKDIR_RE, "an absolute path of letters, digits, '.', '_', '-'")(value)
    parts = text.split("/")[1:]
    if any(part in ("", ".", "..") for part in parts) or text == "/":
        raise ValueError(
            f"{text!r} is not a plain absolute path (no '.', '..', empty or trailing segments, "
            "not '/')"
        )
    system = next((d for d in SYSTEM_DIRECTORIES if text == d or text.startswith(f"{d}/")), None)
    if system:
        raise ValueError(
            f"{text!r} lies in the system directory {system}, which the runtime user must not "
            "own; use a directory of its own such as /app or /srv/<name>"
        )
    return text


def _include_pattern(value: object) -> str:
    """A pattern of files beside the package, with .dockerignore's syntax, inside the project."""
    from poetry_docker_plugin.project.dockerignore import Pattern, PatternError

    text = _string(value)
    try:
        pattern = Pattern.parse(text)
    except PatternError as error:
        raise ValueError(f"{text!r} is not a valid pattern: {error}") from None
    if pattern is None or pattern.exception:
        raise ValueError(f"{text!r} is not a path or pattern of files to include")
    if pattern.text == ".." or pattern.text.startswith("../"):
        raise ValueError(f"{text!r} lies outside the project")
    return text


def runtime_base(value: object) -> str:
    text = _string(value)
    if text != "base" and not IMAGE_REFERENCE_RE.fullmatch(text):
        raise ValueError(f'{text!r} is neither "base" nor a valid image reference')
    return text


def _port(value: object) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else _string(value)
    match = PORT_RE.fullmatch(text)
    if not match or not 1 <= int(match.group(1)) <= 65535:
        raise ValueError(f"{text!r} is not a port (1-65535, optionally with /tcp or /udp)")
    return text


def _command(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            words = shlex.split(_string(value))
        except ValueError as error:
            raise ValueError(f"{value!r} cannot be split into words: {error}") from None
    elif isinstance(value, list):
        words = [_string(v) for v in value]
    else:
        raise ValueError(f"expected a string or a list of strings, got {_describe(value)}")
    if not words:
        raise ValueError("the command is empty")
    return tuple(words)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_describe(value)}")
    return value


def _describe(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
    }
    for kind, name in names.items():
        if type(value) is kind:
            return f"{name} ({value!r})"
    return "a table" if isinstance(value, Mapping) else type(value).__name__


image_reference = _matching(IMAGE_REFERENCE_RE, "a valid image reference such as 'name:tag'")
image_name = _matching(
    IMAGE_NAME_RE, "a valid image name (lowercase letters, digits, '.', '_', '-', '/')"
)
python_version = _matching(PYTHON_RE, "a Python version of the form 3.X")
env_manager = _choice(ENV_MANAGERS)
group_names = _list_of(_matching(GROUP_RE, "a dependency group or extra name"))

# key in [tool.poetry-docker] -> (field of Settings, converter)
CONVERTERS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "base-image": ("base_image", image_reference),
    "env-manager": ("env_manager", env_manager),
    "python": ("python", python_version),
    "conda-packages": (
        "conda_packages",
        _list_of(_matching(CONDA_SPEC_RE, "a conda package spec")),
    ),
    "conda-channels": ("conda_channels", _list_of(_matching(CONDA_CHANNEL_RE, "a conda channel"))),
    "apt-packages": ("apt_packages", _list_of(_matching(APT_PACKAGE_RE, "a Debian package name"))),
    "build-apt-packages": (
        "build_apt_packages",
        _list_of(_matching(APT_PACKAGE_RE, "a Debian package name")),
    ),
    "ignore-libraries": (
        "ignore_libraries",
        _list_of(_matching(SONAME_PATTERN_RE, "a shared library's file name or a glob of them")),
    ),
    "image": ("image", image_name),
    "tags": ("tags", _list_of(_matching(TAG_RE, "a valid image tag"))),
    "workdir": ("workdir", _workdir),
    "env": ("env", _table_of(ENV_KEY_RE, "a valid environment variable name")),
    "labels": ("labels", _table_of(LABEL_KEY_RE, "a valid label key")),
    "ports": ("ports", lambda v: tuple(_port(p) for p in _list(v))),
    "command": ("command", _command),
    "with": ("with_groups", group_names),
    "without": ("without_groups", group_names),
    "extras": ("extras", group_names),
    "user": ("user", _matching(USER_RE, "a user name or a uid[:gid]")),
    "ca-bundle": ("ca_bundle", _string),
    "include": ("include", _list_of(_include_pattern)),
    "runtime-base": ("runtime_base", runtime_base),
    "cache-from": ("cache_from", _list_of(image_reference)),
    "platforms": ("platforms", parse_platforms),
    "reproducible": ("reproducible", _boolean),
}


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {_describe(value)}")
    return value


def load_settings(table: object, pyproject: Path) -> Settings:
    """Validates the ``[tool.poetry-docker]`` table of ``pyproject``."""
    if table is None:
        return Settings()
    if not isinstance(table, Mapping):
        raise DockerPluginError(
            f"`{TABLE}` in {pyproject} must be a table, got {_describe(table)}. "
            f"Write it as a [{TABLE}] section."
        )
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in CONVERTERS:
            known = ", ".join(sorted(CONVERTERS))
            raise DockerPluginError(
                f"Unknown key `{key}` in [{TABLE}] of {pyproject}. Known keys are: {known}. "
                "Fix its spelling or remove it."
            )
        name, convert = CONVERTERS[key]
        try:
            values[name] = convert(raw)
        except ValueError as error:
            raise DockerPluginError(
                f"Invalid value for `{key}` in [{TABLE}] of {pyproject}: {error}. "
                "Fix the value, or remove the key to use the default."
            ) from None
    return Settings(**values)


def parse_option(option: str, convert: Callable[[object], Any], raw: object) -> Any:
    """Validates one command-line value with the same rules as the setting it overrides."""
    try:
        return convert(raw)
    except ValueError as error:
        raise DockerPluginError(f"Invalid value for option --{option}: {error}.") from None


def parse_assignments(
    option: str, raw: list[str], key_pattern: re.Pattern[str]
) -> tuple[tuple[str, str], ...]:
    """Parses repeated ``K=V`` options (``--build-arg``, ``--env``)."""
    pairs = []
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key_pattern.fullmatch(key) or _CONTROL_RE.search(value):
            raise DockerPluginError(
                f"Invalid value for option --{option}: {item!r} is not of the form KEY=VALUE "
                "with a name of letters, digits and '_'."
            )
        pairs.append((key, value))
    return tuple(pairs)


def check_declared_groups(settings: Settings, project: ProjectFacts) -> None:
    """Refuses `with` and `without` groups that the project does not declare."""
    for key, names in (("with", settings.with_groups), ("without", settings.without_groups)):
        unknown = [n for n in names if n not in project.groups]
        if unknown:
            raise DockerPluginError(
                f"Invalid value for `{key}` in [{TABLE}] of {project.pyproject_path}: "
                f"group(s) {', '.join(unknown)} are not declared. Fix the names or declare the "
                "groups."
            )


def ca_bundle_path(settings: Settings, project: ProjectFacts) -> Path | None:
    """The ``ca-bundle`` setting as a file on the host (relative to the project)."""
    if settings.ca_bundle is None:
        return None
    path = (project.root / Path(settings.ca_bundle).expanduser()).resolve()
    if not path.is_file():
        raise DockerPluginError(
            f"Invalid value for `ca-bundle` in [{TABLE}] of {project.pyproject_path}: "
            f"{path} is not a file. Point it at the PEM bundle of your proxy's certificate "
            "authority, or remove the key."
        )
    from poetry_docker_plugin.project.credentials import certificates

    certificates(path, "ca-bundle")  # refused now if it holds none, before anything is staged
    return path


def check_no_runtime_base(settings: Settings, project: ProjectFacts) -> None:
    """Refuses `runtime-base` for the venv manager, which runs on its base's own Python."""
    if settings.runtime_base not in (None, "base"):
        raise DockerPluginError(
            f"Invalid value for `runtime-base` in [{TABLE}] of {project.pyproject_path}: a "
            "runtime stage is made for the conda and micromamba managers; the venv manager "
            "runs on its base image's own Python. Remove the key, or choose the base image "
            "with `base-image`."
        )


def check_workdir(settings: Settings, prefix: str, project: ProjectFacts) -> None:
    """The working directory, which the runtime user owns, must not hold the environment."""
    workdir = settings.workdir
    if workdir == prefix or prefix.startswith(f"{workdir}/") or workdir.startswith(f"{prefix}/"):
        raise DockerPluginError(
            f"Invalid value for `workdir` in [{TABLE}] of {project.pyproject_path}: "
            f"{workdir!r} overlaps the environment at {prefix}, which the runtime user must not "
            "own. Use a directory of its own such as /app."
        )
