"""scripts/dev sets up what each command needs and only that: `example` asks Debian for the
engine, debootstrap and git alone; `test` for the tools of the tests too (docs/contributing.md
lists them). Run on the script's own function, with apt-get and the emulation stubbed and a
PATH where nothing is installed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import REPO

EXAMPLE = {"docker.io", "debootstrap", "git"}
TESTS_ONLY = {"shellcheck", "tmux", "podman", "buildah", "catatonit", "docker-registry"}
TESTS_ONLY |= {"binfmt-support", "chromium", "pipx"}


def requested(kind: str, tmp_path: Path) -> set[str]:
    """The Debian packages ``install_system_packages KIND`` asks apt-get for."""
    script = (REPO / "scripts" / "dev").read_text()
    function = re.search(r"^install_system_packages\(\) \{\n.*?^\}\n", script, re.M | re.S)
    assert function, "scripts/dev defines install_system_packages"
    log = tmp_path / "apt.log"
    stubs = (
        f'apt-get() {{ [ "$1" = install ] && echo "$@" >> {log}; return 0; }}\n'
        f"enable_emulation() {{ echo emulation >> {log}; }}\n"
    )
    subprocess.run(
        ["/bin/bash", "-c", f"{stubs}{function[0]}install_system_packages {kind}"],
        env={"PATH": str(tmp_path)},  # nothing to be found: every package is missing
        check=True,
    )
    words = log.read_text().split()
    return {w for w in words if not w.startswith("-") and w not in ("install", "emulation")}


def test_example_asks_only_for_what_the_example_needs(tmp_path: Path) -> None:
    assert requested("example", tmp_path) == EXAMPLE
    assert "emulation" not in (tmp_path / "apt.log").read_text()


def test_the_tests_ask_for_their_tools_too(tmp_path: Path) -> None:
    assert requested("tests", tmp_path) >= EXAMPLE | TESTS_ONLY
    assert "emulation" in (tmp_path / "apt.log").read_text()
