"""Where the engine runs: this machine, or another reached over the network (where it cannot
see this machine's files)."""

from __future__ import annotations

import json
import os
from pathlib import Path

# Hosts a client reaches over the network: the engine does not see this machine's files.
REMOTE_SCHEMES = ("tcp", "ssh", "http", "https")


def remote_host(host: str | None) -> str | None:
    """``host`` (a DOCKER_HOST value or a context's endpoint) when it is reached over the
    network, else None (``unix://`` and ``npipe://`` sockets are this machine's engine).

    A ``tcp://`` host is remote even on 127.0.0.1: it may be a tunnel to another machine.
    """
    scheme = (host or "").partition("://")[0].lower()
    return host if scheme in REMOTE_SCHEMES else None


def docker_config_dir() -> Path:
    """The docker client's configuration directory: ``DOCKER_CONFIG`` or ``~/.docker``."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def current_context(config_dir: Path) -> str | None:
    """The context ``docker context use`` chose (``currentContext`` of config.json)."""
    try:
        config = json.loads((config_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    context = config.get("currentContext") if isinstance(config, dict) else None
    return context if isinstance(context, str) and context else None
