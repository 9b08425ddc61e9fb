"""Installs wheels into another platform's environment without running it (PyPA's installer).

Run by a Python of the build platform, in a stage ``FROM --platform=$BUILDPLATFORM``: a wheel
is a zip of files and metadata, so nothing of the target needs to run. The files land under
``--root`` at the paths they will have in the image: the scheme of a venv at ``--prefix``
with Python ``--python``; console scripts start with ``#!PREFIX/bin/python``; the metadata
is what pip writes for a wheel from an index (RECORD, INSTALLER ``pip``, REQUESTED).
Bytecode is compiled by this Python, which is the target's version (the stage refuses
another, rather than write .pyc the target would not read).

Usage: install_wheels.py --prefix P --python X.Y --root DIR WHEEL...
"""

from __future__ import annotations

import argparse
import sys


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
