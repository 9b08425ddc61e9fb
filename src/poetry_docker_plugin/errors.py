"""The one exception type that commands turn into a clear message and a non-zero exit."""

from __future__ import annotations


class DockerPluginError(Exception):
    """A user-facing problem: bad input, a missing lock, an engine that is not there.

    The message is a whole paragraph that names the file, key or option at fault and says how
    to fix it. Commands print it without a traceback and exit with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BuildFailed(DockerPluginError):
    """``docker build`` exited non-zero; ``untrusted`` when a download failed certificate
    checks (the builder adds what fixes that). Exits with the engine's code."""

    def __init__(self, returncode: int, *, untrusted: bool = False) -> None:
        super().__init__(
            f"The image build failed (`docker build` exited with {returncode}); the engine's "
            "output above says which step failed and why.",
            exit_code=returncode,
        )
        self.returncode = returncode
        self.untrusted = untrusted


class PushFailed(DockerPluginError):
    """``docker push`` of ``reference`` failed for ``reason`` (the engine's last line)."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"Pushing {reference} failed: {reason}.")
        self.reference = reference
        self.reason = reason
