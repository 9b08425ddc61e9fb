"""Runs inside the image, by the environment's own Python, after the locked dependencies are
installed: finds every shared library that an ELF file of the environment needs and that
nothing in the image provides, installs the Debian package that ships it when the image has
apt, and fails the step with one paragraph when it cannot.

    python -I -B check_libraries.py [--root ROOT] SETTINGS.json

With ``--root``, the image's files are read under ROOT by a Python of another platform (a
build for another platform, ``plan.native``): the same check, but nothing can be installed.

A wheel that links a system library the base lacks (LightGBM's ``libgomp.so.1``) installs
fine and fails at import; this step makes "it builds" mean "it imports". Only the standard
library is used, and nothing newer than Python 3.8's: the environment's Python may be old.

Lines that start with ``poetry-docker:`` are read by the plugin from the build's output.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29
# glibc's own directories, searched after ld.so.cache as the dynamic loader does.
DEFAULT_DIRECTORIES = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
PREFIX = "poetry-docker:"
# Where apt-get is looked for: a base without it gets the paragraph, not an install.
APT_DIRECTORIES = ("/usr/bin", "/bin")
if TYPE_CHECKING:  # (machine, needed sonames, run paths)
    ElfNeeds = tuple[int, list[str], list[str]]


def elf_needs(path: Path) -> ElfNeeds | None:
    """(machine, needed sonames, run paths) of an ELF file; None for any other file."""
    try:
        with path.open("rb") as handle:
            if handle.read(4) != ELF_MAGIC:
                return None
            data = ELF_MAGIC + handle.read()
    except OSError:
        return None
    try:
        return _dynamic_section(data)
    except struct.error:  # truncated: nothing the loader would load either
        return None


def _dynamic_section(data: bytes) -> ElfNeeds:
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    machine = struct.unpack_from(order + "H", data, 18)[0]
    if wide:
        phoff = struct.unpack_from(order + "Q", data, 32)[0]
        phentsize, phnum = struct.unpack_from(order + "HH", data, 54)
        header, entry = order + "IIQQQQQQ", order + "qQ"
    else:
        phoff = struct.unpack_from(order + "I", data, 28)[0]
        phentsize, phnum = struct.unpack_from(order + "HH", data, 42)
        header, entry = order + "IIIIIIII", order + "iI"
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    for index in range(phnum):
        fields = struct.unpack_from(header, data, phoff + index * phentsize)
        if wide:
            kind, offset, vaddr, filesz = fields[0], fields[2], fields[3], fields[5]
        else:
            kind, offset, vaddr, filesz = fields[0], fields[1], fields[2], fields[4]
        if kind == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return machine, [], []  # static: needs nothing
    tags: list[tuple[int, int]] = []
    size = struct.calcsize(entry)
    for at in range(dynamic[0], min(dynamic[0] + dynamic[1], len(data) - size + 1), size):
        tag, value = struct.unpack_from(entry, data, at)
        if tag == DT_NULL:
            break
        tags.append((tag, value))
    strtab = next((value for tag, value in tags if tag == DT_STRTAB), -1)
    base = next((o + strtab - v for v, o, n in loads if v <= strtab < v + n), None)
    if base is None:
        return machine, [], []

    def string(offset: int) -> str:
        end = data.find(b"\0", base + offset)
        return data[base + offset : end].decode("utf-8", "replace")

    needed = [string(value) for tag, value in tags if tag == DT_NEEDED]
    paths = [string(value) for tag, value in tags if tag in (DT_RPATH, DT_RUNPATH)]
    return machine, needed, paths


def under(root: Path, path: str) -> Path:
    """The image's ``path`` as this process sees it: under ``root`` (``/`` inside the image)."""
    return root / path.lstrip("/")


def system_libraries(root: Path) -> set[str]:
    """Every soname the dynamic loader finds outside run paths: ld.so.cache, and its default
    directories and those of /etc/ld.so.conf.d (the cache is built from these, so under
    another root, whose cache this platform's ldconfig may not read, the directories do)."""
    names: set[str] = set()
    if root == Path("/"):
        try:
            listed = subprocess.run(
                ["ldconfig", "-p"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False
            ).stdout.decode("utf-8", "replace")
            names.update(line.split(" (", 1)[0].strip() for line in listed.splitlines()[1:])
        except OSError:
            pass
    directories = [under(root, d) for d in DEFAULT_DIRECTORIES]
    for conf in under(root, "/etc/ld.so.conf.d").glob("*.conf"):
        try:
            lines = conf.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        directories += [under(root, line.strip()) for line in lines if line.startswith("/")]
    for directory in directories:
        with contextlib.suppress(OSError):
            names.update(entry.name for entry in directory.iterdir())
    return names


def owners(prefix: Path) -> dict[Path, str]:
    """Which installed distribution (``name version``) each file of the environment is from,
    as pip's RECORD files and conda-meta say."""
    found: dict[Path, str] = {}
    for record in prefix.glob("lib/python*/site-packages/*.dist-info/RECORD"):
        name, _, version = record.parent.name[: -len(".dist-info")].partition("-")
        site = record.parent.parent
        try:
            lines = record.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            found[Path(os.path.normpath(site / line.rsplit(",", 2)[0]))] = f"{name} {version}"
    for meta in prefix.glob("conda-meta/*.json"):
        try:
            package = json.loads(meta.read_text(encoding="utf-8"))
            owner = f"{package['name']} {package['version']} (conda)"
            found.update({prefix / path: owner for path in package.get("files", ())})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def missing_libraries(
    prefix: Path, ignored: list[str], root: Path = Path("/")
) -> dict[str, list[Path]]:
    """{soname: [files of the environment that need it]} for what no search finds."""
    elves: dict[Path, ElfNeeds] = {}
    present: set[str] = set()
    for folder, subdirectories, files in os.walk(prefix):
        # The interpreter's optional standard modules (dbm.gnu, tkinter) are the base's
        # concern, not the project's: nothing imports them unless asked to.
        subdirectories[:] = [d for d in subdirectories if d != "lib-dynload"]
        for name in files:
            path = Path(folder, name)
            present.add(name)
            found = None if path.is_symlink() else elf_needs(path)
            if found is not None:
                elves[path] = found
    machines = [machine for machine, _, _ in elves.values()]
    machine = max(machines, key=machines.count, default=None)
    system = system_libraries(root)
    missing: dict[str, list[Path]] = {}
    for path, (file_machine, needed, run_paths) in sorted(elves.items()):
        if file_machine != machine:
            continue  # a file for another architecture: nothing here loads it
        origin = str(path.parent)
        run_directories = [
            Path(part.replace("${ORIGIN}", origin).replace("$ORIGIN", origin))
            if "ORIGIN" in part
            else under(root, part)
            for paths in run_paths
            for part in paths.split(":")
            if part
        ]
        for soname in needed:
            if soname in system or soname in present:
                continue
            if any(fnmatch.fnmatchcase(soname, pattern) for pattern in ignored):
                continue
            if "/" in soname and under(root, soname).exists():
                continue
            if any((directory / soname).exists() for directory in run_directories):
                continue
            missing.setdefault(soname, []).append(path)
    return missing


def debian_candidates(soname: str, known: dict[str, str]) -> list[str]:
    """The packages that may ship ``soname``: the plugin's table, else the name Debian's policy
    gives a library package (libfoo.so.1 -> libfoo1, libfoo2.so.3 -> libfoo2-3), also with the
    t64 suffix of Debian's 64-bit time transition."""
    if soname in known:
        return [known[soname]]
    match = re.match(r"^(lib[A-Za-z0-9_.+-]*?)\.so\.([0-9][0-9.]*)$", soname)
    if not match:
        return []
    name = match.group(1).lower().replace("_", "-")
    package = name + ("-" if name[-1].isdigit() else "") + match.group(2)
    return [package, package + "t64"]


def apt_get(*arguments: str) -> subprocess.CompletedProcess[bytes]:
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(
        ["apt-get", *arguments],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )


def known_to_apt(package: str) -> bool:
    shown = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return shown.returncode == 0 and bool(shown.stdout.strip())


def describe(soname: str, paths: list[Path], prefix: Path, owned: dict[Path, str]) -> str:
    """``libgomp.so.1 (needed by lightgbm 4.5.0: lib/python3.11/.../lib_lightgbm.so)``."""
    needers = []
    for path in paths:
        owner = owned.get(Path(os.path.normpath(path)))
        shown = str(path.relative_to(prefix))
        needers.append(f"{owner}: {shown}" if owner else shown)
    more = f" and {len(needers) - 2} more" if len(needers) > 2 else ""
    return f"{soname} (needed by {'; '.join(needers[:2])}{more})"


def install_from_debian(
    missing: dict[str, list[Path]], settings: dict[str, Any]
) -> dict[str, list[str]]:
    """Installs the packages found for ``missing`` (package -> the sonames it is for); leaves
    no package list, cache or log of the clock behind."""
    chosen: dict[str, list[str]] = {}
    if apt_get("update", "-qq").returncode == 0:
        known = settings.get("packages", {})
        for soname in sorted(missing):
            candidates = debian_candidates(soname, known)
            package = next((p for p in candidates if known_to_apt(p)), None)
            if package:
                chosen.setdefault(package, []).append(soname)
        if chosen:
            installed = apt_get("install", "--yes", "--no-install-recommends", *sorted(chosen))
            if installed.returncode != 0:
                sys.stdout.write(installed.stdout.decode("utf-8", "replace"))
                chosen = {}
    apt_get("clean")
    for pattern in ["var/lib/apt/lists/*", "var/cache/apt/*.bin", *settings["clock_files"]]:
        for path in Path("/").glob(pattern.lstrip("/")):
            if path.is_file() and not path.is_symlink():
                path.unlink()
    return chosen


def main(arguments: list[str]) -> int:
    root = Path("/")
    if arguments[:1] == ["--root"]:
        root, arguments = Path(arguments[1]), arguments[2:]
    settings = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    prefix = under(root, settings["prefix"])
    ignored = settings.get("ignore", [])
    missing = missing_libraries(prefix, ignored, root)
    if not missing:
        return 0
    owned = owners(prefix)
    native = root != Path("/")
    has_apt = not native and any(os.access(Path(d, "apt-get"), os.X_OK) for d in APT_DIRECTORIES)
    unfound = missing
    if has_apt:
        chosen = install_from_debian(missing, settings)
        if chosen:
            unfound = missing_libraries(prefix, ignored)
        for package, sonames in sorted(chosen.items()):
            done = [describe(s, missing[s], prefix, owned) for s in sonames if s not in unfound]
            if done:
                print(f"{PREFIX} installed the Debian package {package} for {', '.join(done)}.")
    if not unfound:
        return 0
    listed = "; ".join(describe(s, paths, prefix, owned) for s, paths in sorted(unfound.items()))
    how = (
        "a build for another platform checks the image's files on the build platform, where "
        "nothing is installed into them (`apt-packages` are, by the target's apt)"
        if native
        else "no Debian package that ships it was found"
        if has_apt
        else "the image has no apt-get"
    )
    finder = "https://packages.debian.org finds it by file name"
    if native:
        known = settings.get("packages", {})
        found = (debian_candidates(soname, known) for soname in unfound)
        probable = sorted({candidates[0] for candidates in found if candidates})
        if probable:
            finder = f"probably {', '.join(probable)}; {finder}"
    print(
        f"{PREFIX} missing shared libraries: the environment needs {listed}, which nothing in "
        f"the image provides, and {how}: importing it would fail at run time. Add the package "
        f"that ships it to `apt-packages` in [tool.poetry-docker] ({finder}), or to "
        "`conda-packages` on a conda base; if the library comes from the host at run time (a "
        "GPU driver), add its name to `ignore-libraries`.",
        flush=True,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
