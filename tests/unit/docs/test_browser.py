"""The documentation site in headless Chromium (Debian's ``chromium``, which scripts/dev test
installs): the home page and the settings reference render, and search finds "apt-packages"
on the settings page (scripts/docs_browser_check.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_site_renders_and_its_search_finds_a_setting(tmp_path: Path) -> None:
    screenshot = tmp_path / "search.png"
    checked = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "docs_browser_check.py"),
         "--screenshot", str(screenshot)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "search finds apt-packages" in checked.stdout
    assert screenshot.read_bytes().startswith(b"\x89PNG")
