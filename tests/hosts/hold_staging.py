"""Stops a ``poetry`` process (SIGSTOP to itself) as the plugin starts writing the build
context, so that a test can kill it there, in the middle of staging, without racing it.

tests/engine/test_faults.py imports it, then runs Poetry's own script in that process. The
plugin is not changed: its ``write_context`` runs as always once the process is continued.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from poetry_docker_plugin.pipeline import staging

_write_context = staging.write_context


def _stopping_write_context(*arguments: Any, **options: Any) -> None:
    os.kill(os.getpid(), signal.SIGSTOP)
    _write_context(*arguments, **options)


staging.write_context = _stopping_write_context
