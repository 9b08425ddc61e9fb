"""The user on the host who runs ``poetry docker shell``, whom the development image mirrors."""

from __future__ import annotations

import re

from poetry_docker_plugin.plan.model import HostUser


def current_host_user() -> HostUser | None:
    """The host's user, when the development image should run as them (see
    ``maps_host_user``); None when it runs as the image's own runtime user."""
    import getpass
    import os
    import sys

    if not maps_host_user(sys.platform) or not hasattr(os, "getuid"):
        return None
    try:
        name = getpass.getuser()
    except (KeyError, OSError, ImportError):  # no passwd entry on the host either
        name = "dev"
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", name):
        name = "dev"
    return HostUser(os.getuid(), os.getgid(), name)


def maps_host_user(platform: str) -> bool:
    """Whether the development image gets an account with the host user's uid and gid.

    Only a Linux host needs it: there the engine runs on the same kernel, so the bind-mounted
    working tree keeps the host's ownership, and files the shell writes must be the host
    user's. Docker Desktop on macOS and Windows shares files into its VM and maps their
    ownership itself (what the Dev Containers CLI relies on: its ``updateRemoteUserUID`` applies
    on Linux only); a Windows host has no uid at all. ``platform`` is a ``sys.platform`` value.
    """
    return platform.startswith("linux")
