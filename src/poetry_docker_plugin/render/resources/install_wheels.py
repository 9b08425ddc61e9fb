"""Installs wheels into another platform's environment without running it (PyPA's installer).

Run by a Python of the build platform, in a stage ``FROM --platform=$BUILDPLATFORM``: a wheel
is a zip of files and metadata, so nothing of the target needs to run. The files land under
``--root`` at the paths they will have in the image: the scheme of a venv at ``--prefix``
with Python ``--python``; the metadata is what pip writes for a wheel from an index
(INSTALLER ``pip``, REQUESTED), and the scripts and RECORD are written as pip writes them
(its launcher text, its sorted CSV with the .pyc listed), so that the files are the same
as the target's pip would give.
Bytecode is compiled by this Python, which is the target's version (the stage refuses
another, rather than write .pyc the target would not read).

Usage: install_wheels.py --prefix P --python X.Y --root DIR WHEEL...
"""

from __future__ import annotations

import argparse
import base64
import configparser
import csv
import hashlib
import io
import os
import sys
from pathlib import Path

# pip's launcher for an entry point (distlib's template, as pip writes it on POSIX).
PIP_SCRIPT = """#!{interpreter}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {name}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({call}())
"""


def main() -> int:
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile
    from installer.utils import parse_metadata_file

    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("wheels", nargs="*")
    options = parser.parse_args()
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if running != options.python:
        print(
            f"poetry-docker: the build platform's base has Python {running}, the target's has "
            f"{options.python}: their .pyc files differ. Use a base image that has the same "
            "Python on both platforms (a multi-platform image of one release).",
            file=sys.stderr,
        )
        return 1
    site = f"{options.prefix}/lib/python{options.python}/site-packages"
    for wheel in sorted(options.wheels):
        with WheelFile.open(wheel) as source:
            name = parse_metadata_file(source.read_dist_info("METADATA"))["Name"]
            destination = SchemeDictionaryDestination(
                {
                    "purelib": site,
                    "platlib": site,
                    "headers": f"{options.prefix}/include/site/python{options.python}/{name}",
                    "scripts": f"{options.prefix}/bin",
                    "data": options.prefix,
                },
                interpreter=f"{options.prefix}/bin/python",
                script_kind="posix",
                bytecode_optimization_levels=(0,),
                destdir=options.root,
            )
            install(source, destination, {"INSTALLER": b"pip\n", "REQUESTED": b""})
            dist_info = Path(options.root + site) / source.dist_info_dir
            as_pip_writes(dist_info, f"{options.prefix}/bin/python", options.root + options.prefix)
    return 0


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def as_pip_writes(dist_info: Path, interpreter: str, prefix: Path | str) -> None:
    """The entry points' scripts in pip's words, and RECORD as pip writes it: sorted, with
    each compiled .pyc listed (no hash), CRLF line ends."""
    site = dist_info.parent
    rows = {}
    with (dist_info / "RECORD").open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row:
                rows[row[0]] = [*row, "", ""][:3]
    entry_points = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    entry_points.optionxform = str  # type: ignore[assignment,method-assign]
    entry_points.read(dist_info / "entry_points.txt", encoding="utf-8")
    for section in ("console_scripts", "gui_scripts"):
        if not entry_points.has_section(section):
            continue
        for name, value in entry_points.items(section):
            module, _, attribute = value.split("[")[0].strip().partition(":")
            attribute = attribute.strip() or module.rsplit(".", 1)[-1]
            text = PIP_SCRIPT.format(
                interpreter=interpreter,
                module=module.strip(),
                name=attribute.split(".")[0],
                call=attribute,
            ).encode()
            script = Path(prefix) / "bin" / name
            if not script.is_file():
                continue
            script.write_bytes(text)
            key = os.path.relpath(script, site)  # as RECORD names it: ../../../bin/NAME
            rows[key] = [key, record_hash(text), str(len(text))]
    for path in list(rows):
        if path.endswith(".py"):
            source = site / path
            tag = sys.implementation.cache_tag
            compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            if compiled.is_file():
                key = str(Path(path).parent / "__pycache__" / compiled.name)
                rows[key] = [key, "", ""]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(sorted(tuple(row) for row in rows.values()))
    (dist_info / "RECORD").write_bytes(buffer.getvalue().encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
