"""Multi-platform references: a manifest list (an image index) made of pushed images.

Docker 20.10 has no buildx here, so the per-platform images are built and pushed one by one
and the list is made by the client's ``docker manifest`` (experimental in 20.10, so enabled
for the call): it reads each image's platform from the registry and pushes the list with the
engine's own credentials, which keeps this module free of registry protocol and of secrets.
Podman makes the same with ``podman manifest``.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.refs import ImageReference
from poetry_docker_plugin.errors import PushFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from poetry_docker_plugin.engine.client import Engine

DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


def is_loopback_registry(reference: str) -> bool:
    """Whether the reference's registry is on this machine (127.0.0.0/8, localhost, ::1):
    the engine talks to those without TLS by default, and the manifest commands must be told
    to do the same."""
    import ipaddress

    registry = ImageReference.parse(reference).registry or ""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def push_manifest_list(engine: Engine, reference: str, images: Sequence[str]) -> str:
    """Pushes ``reference`` as a list of ``images`` (pushed references, by digest); its digest.

    The list is made anew each time (``--amend`` replaces a leftover of an earlier call) and
    not kept on this machine after the push.
    """
    insecure = is_loopback_registry(reference)
    if engine.named_podman:
        return _podman_list(engine, reference, images, insecure)
    environment = {**os.environ, "DOCKER_CLI_EXPERIMENTAL": "enabled"}
    flags = ["--insecure"] if insecure else []
    _run(engine, ["manifest", "create", "--amend", *flags, reference, *images], environment)
    pushed = _run(engine, ["manifest", "push", "--purge", *flags, reference], environment)
    found: list[str] = DIGEST_RE.findall(pushed)
    if not found:
        raise PushFailed(reference, f"the engine's client said no digest ({pushed.strip()!r})")
    return found[-1]


def _podman_list(engine: Engine, reference: str, images: Sequence[str], insecure: bool) -> str:
    from poetry_docker_plugin.util.tempdirs import temp_dir

    engine.capture(["manifest", "rm", reference])  # a leftover of an earlier call
    _run(engine, ["manifest", "create", reference])
    try:
        for image in images:
            _run(engine, ["manifest", "add", reference, f"docker://{image}"])
        with temp_dir("manifest", "the pushed list's digest") as scratch:
            digest_file = scratch / "digest"
            flags = ["--tls-verify=false"] if insecure else []
            command = ["manifest", "push", "--all", *flags, "--digestfile", str(digest_file)]
            _run(engine, [*command, reference, f"docker://{reference}"])
            found: list[str] = DIGEST_RE.findall(digest_file.read_text())
    finally:
        engine.capture(["manifest", "rm", reference])
    if not found:
        raise PushFailed(reference, "podman wrote no digest for the pushed list")
    return found[-1]


def _run(engine: Engine, arguments: list[str], environment: dict[str, str] | None = None) -> str:
    """One manifest command; its output. A failure names the reference and the engine's
    reason, as a failed push does."""
    engine.show(arguments)
    result = subprocess.run(
        [engine.executable, *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    if result.returncode != 0:
        engine.diagnose()
        reason = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        target = next((word for word in arguments[2:] if not word.startswith("-")), "")
        raise PushFailed(target, reason)
    return result.stdout
