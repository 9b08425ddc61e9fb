"""Makes this Linux Python lack what a Windows Python lacks, as far as the plugin could touch it.

Put this directory first on PYTHONPATH of a ``poetry`` process (as
tests/engine/test_hosts_engine.py does) and
that process runs the real plugin as a Windows host would meet it, on this machine's engine:

- no ``fcntl``, ``pwd``, ``grp`` or ``termios`` module (importing one fails, as on Windows);
- no ``os.getuid``/``getgid``/``geteuid``/``getegid``/``getgroups``/``killpg``/``setsid``/
  ``getpgid``;
- no ``signal.SIGHUP``, ``SIGQUIT``, ``SIGUSR1``, ``SIGUSR2``, ``SIGWINCH``, ``SIGTSTP``,
  ``SIGCONT``;
- text files opened for writing without ``newline`` get ``\\r\\n`` line ends, as Windows' text
  mode writes them (``os.linesep``).

``sys.platform``, ``os.name`` and the path flavour stay Linux's: Poetry and the engine client
must still run here. Poetry itself needs one piece: on Linux it finds its directories with
platformdirs' Unix flavour, which binds ``os.getuid`` when imported (on Windows it uses the
Windows flavour, which does not). That module is imported first, so it keeps its binding;
everything imported later, the plugin included, finds ``os.getuid`` gone.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys
import warnings
from typing import Any

import platformdirs.unix  # noqa: F401  (before os.getuid goes: see above)

# filelock (Poetry's, and the plugin's lock) says once per process that, without fcntl, it
# falls back to its soft lock; on Windows it uses msvcrt instead and says nothing.
warnings.filterwarnings("ignore", "only soft file lock is available")

for _module in ("fcntl", "pwd", "grp", "termios"):
    sys.modules[_module] = None  # type: ignore[assignment]

for _name in ("getuid", "getgid", "geteuid", "getegid", "getgroups", "killpg", "setsid", "getpgid"):
    if hasattr(os, _name):
        delattr(os, _name)

for _name in ("SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGTSTP", "SIGCONT"):
    if hasattr(signal, _name):
        delattr(signal, _name)

_open = io.open


def _windows_text_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    """``open`` as on Windows: text written without ``newline`` ends its lines with CRLF."""
    positional = ("buffering", "encoding", "errors", "newline", "closefd", "opener")
    kwargs.update(zip(positional, args, strict=False))
    if kwargs.get("newline") is None and "b" not in mode and any(f in mode for f in "wax+"):
        kwargs["newline"] = "\r\n"
    return _open(file, mode, **kwargs)


builtins.open = _windows_text_open
io.open = _windows_text_open
