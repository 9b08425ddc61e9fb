"""What a failed build's output says is missing, as one paragraph naming the setting that adds
it: read from the end of the engine's output (``BuildFailed.output``), for the causes users meet
every day. None when no known cause is found: the engine's own words then stand alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from poetry_docker_plugin.names import SETTINGS_TABLE
from poetry_docker_plugin.system.packages import (
    PKG_CONFIG_PACKAGES,
    PROGRAM_PACKAGES,
    SDIST_BUILD_NEEDS,
    header_package,
)

# The library check's own paragraph (resources/check_libraries.py), said as it is.
LIBRARY_CHECK = re.compile(r"poetry-docker: (missing shared libraries: .*)")
INSTALLED = re.compile(r"^poetry-docker: (installed the Debian package .*)$", re.MULTILINE)
HEADER = re.compile(r"fatal error: ([\w./+-]+\.h[hp]*): No such file or directory")
PROGRAM_PATTERNS = (
    re.compile(r"([\w.+-]+) executable not found"),  # psycopg2: pg_config
    re.compile(r"error: command '([^']+)' failed: No such file or directory"),
    re.compile(r"unable to execute '([^']+)': No such file or directory"),
    re.compile(r"(?:sh|bash): (?:\d+: |line \d+: )?([\w.+-]+): (?:command )?not found"),
    re.compile(r"\b([\w.+-]+_config) not found"),  # mysqlclient: mysql_config not found
)
RUST = re.compile(r"can(?:'|no)t find Rust compiler|error: cargo.*not found", re.IGNORECASE)
NO_C_COMPILER = re.compile(r"No CMAKE_C(?:XX)?_COMPILER could be found")
PKG_CONFIG = (
    re.compile(r"Package '?([\w.+-]+?)'?,? (?:required by '[^']*', )?(?:was )?not found"),
)
CONDA_NOT_FOUND = re.compile(
    r"PackagesNotFoundError: The following packages are not available from current "
    r"channels:\s*\n((?:\s*-\s*\S+\s*\n?)+)"
)
# A conda spec as the paragraph may repeat it: the build's output is a stranger's (a channel's,
# a base image's), so nothing else of it reaches the terminal.
CONDA_SPEC = r"[\w.=<>!*,|+:-]+"
MAMBA_NOT_FOUND = re.compile(
    rf"(?:nothing provides requested|└─) ({CONDA_SPEC})(?: [^\n]*)? does not exist"
)
NO_APT = re.compile(r"(?:sh|bash): (?:\d+: |line \d+: )?apt-get: (?:command )?not found")
UNTRUSTED = re.compile(r"CERTIFICATE_VERIFY_FAILED")
UNRESOLVED_HOST = (
    re.compile(r"Could not resolve host: ([\w.-]+)"),
    re.compile(r"Temporary failure resolving '([\w.-]+)'"),
    re.compile(r"Failed to resolve '([\w.-]+)'"),
    re.compile(r"HTTPSConnectionPool\(host='([\w.-]+)'.*(?:NameResolutionError|Errno -[23])"),
)
UNREACHABLE = re.compile(
    r"Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Failed to establish a new connection"
)
BUILDING = (
    re.compile(r"Failed to build ([\w.-]+)"),
    re.compile(r"Failed building wheel for ([\w.-]+)"),
    re.compile(r"Building wheel for ([\w.-]+) \("),
    re.compile(r"Collecting ([\w.-]+)(?:==| @)"),
)
TABLE = SETTINGS_TABLE


@dataclass(frozen=True)
class Missing:
    """One thing a failed step lacked, and the Debian package that ships it (if known)."""

    what: str  # "the C header `lber.h`"
    debian: str | None


# BuildKit's plain progress starts each line of a step with its number and time.
STEP_PREFIX = re.compile(r"^#\d+ [\d.]+ ?", re.MULTILINE)


def explain(output: str) -> str | None:
    """One paragraph on what the failed step lacked and the setting that adds it; None when
    the output shows none of the known causes."""
    output = STEP_PREFIX.sub("", output)
    checked = LIBRARY_CHECK.findall(output)
    if checked:
        return f"The image would not import: {checked[-1]}"
    if UNTRUSTED.search(output):
        return (
            "A download failed certificate verification (CERTIFICATE_VERIFY_FAILED): behind "
            f"an intercepting proxy, set `ca-bundle` in [{TABLE}] to the PEM file of the "
            "proxy's certificate authority (pip before Python 3.10 and conda do not use the "
            "system's trust store)."
        )
    conda = _conda_not_found(output)
    if conda:
        return conda
    if NO_APT.search(output):
        return (
            "The base image has no apt-get, with which the image's build steps install system "
            "packages (the compiler and headers that building sdists needs, `apt-packages`, "
            "`build-apt-packages`). Choose a Debian or Ubuntu based image with `base-image` "
            f"(or `runtime-base`) in [{TABLE}], or, on a conda base, give what building needs "
            "as `conda-packages` (conda-forge's compilers, and the libraries) instead."
        )
    missing = _missing_for_build(output)
    if missing:
        return _build_paragraph(missing, _being_built(output))
    return _network(output)


def notes(output: str) -> list[str]:
    """What the library check did that the user should know (``installed the Debian package
    libgomp1 for libgomp.so.1 ...``), once each, in order."""
    found = INSTALLED.findall(STEP_PREFIX.sub("", output))
    return [f"Added for the wheels: {note}" for note in dict.fromkeys(found)]


def _missing_for_build(output: str) -> Missing | None:
    found: list[tuple[int, Missing]] = []
    for match in HEADER.finditer(output):
        header = match.group(1)
        found.append((match.start(), Missing(f"the C header `{header}`", header_package(header))))
    for pattern in PROGRAM_PATTERNS:
        for match in pattern.finditer(output):
            program = _program_name(match.group(1))
            if program in PROGRAM_PACKAGES:
                what = f"the program `{program}`"
                found.append((match.start(), Missing(what, PROGRAM_PACKAGES[program])))
    for pattern in PKG_CONFIG:
        for match in pattern.finditer(output):
            module = match.group(1)
            what = f"the pkg-config module `{module}`"
            found.append((match.start(), Missing(what, PKG_CONFIG_PACKAGES.get(module))))
    for match in NO_C_COMPILER.finditer(output):
        found.append((match.start(), Missing("a C compiler", "build-essential")))
    for match in RUST.finditer(output):
        found.append((match.start(), Missing("a Rust compiler", "rustc cargo")))
    return max(found, key=lambda item: item[0])[1] if found else None


def _program_name(command: str) -> str:
    """``/usr/bin/x86_64-linux-gnu-gcc`` -> ``gcc``: the program whatever its path or triplet."""
    name = PurePosixPath(command).name
    return re.sub(r"^[a-z0-9_]+-linux-gnu[a-z]*-", "", name)


def _being_built(output: str) -> str | None:
    for pattern in BUILDING:
        names = pattern.findall(output)
        if names:
            return str(names[-1])
    return None


def _build_paragraph(missing: Missing, package: str | None) -> str:
    building = f"Building {package} from its source distribution" if package else "The build"
    text = f"{building} needs {missing.what}, which the image's build stage lacks."
    if missing.debian:
        packages = missing.debian.split()
        quoted = ", ".join(f'"{p}"' for p in packages)
        text += (
            f" Debian's {' '.join(packages)} provides it: add it to `build-apt-packages` in "
            f"[{TABLE}] (build-apt-packages = [{quoted}]); those packages reach only the stage "
            "that builds wheels, never the runtime image."
        )
    else:
        text += (
            f" Add the Debian package that ships it to `build-apt-packages` in [{TABLE}] "
            "(https://packages.debian.org finds it by file name); it reaches only the stage "
            "that builds wheels, never the runtime image."
        )
    needs = SDIST_BUILD_NEEDS.get((package or "").lower())
    if needs and needs.conda:
        text += (
            f" On a conda base, conda-forge's {', '.join(needs.conda)} in `conda-packages` "
            "serve too."
        )
    if missing.what == "a Rust compiler":
        text += (
            " Debian's Rust may be older than the package needs: a version of the package "
            "with wheels for this platform (`poetry update`) avoids the build."
        )
    return text


def _conda_not_found(output: str) -> str | None:
    specs: list[str] = []
    listed = CONDA_NOT_FOUND.search(output)
    if listed:
        specs = re.findall(rf"-\s*({CONDA_SPEC})", listed.group(1))
    specs += MAMBA_NOT_FOUND.findall(output)
    if not specs:
        return None
    python = next((s for s in specs if re.match(r"python(?:[=<>~ ]|$)", s)), None)
    if python:
        return (
            f"The conda channels have no {python.replace('=', ' ', 1)}. Choose a Python they "
            f"carry with `python` in [{TABLE}] or --python (the default is the newest the "
            "project allows), or add a channel that has it with `conda-channels`."
        )
    return (
        f"The conda channels have none of {', '.join(specs)}. Fix the spec in `conda-packages` "
        f"in [{TABLE}], or add the channel that carries it with `conda-channels`."
    )


def _network(output: str) -> str | None:
    hosts = [host for pattern in UNRESOLVED_HOST for host in pattern.findall(output)]
    if not hosts and not UNREACHABLE.search(output):
        return None
    where = f" {hosts[-1]}" if hosts else " a host"
    return (
        f"A build step could not reach{where} (the name did not resolve or the connection "
        "failed): builds use the engine's network, not this shell's. Give the build a network "
        "that reaches it with --network (for example `--network host`); behind a proxy, pass "
        "it with `--build-arg HTTPS_PROXY=...` (and HTTP_PROXY, NO_PROXY); for a private "
        "package index, declare it as a source of the project (`poetry source add`) so that "
        "the lock names it. Git dependencies need the git host to be reachable from the build."
    )
