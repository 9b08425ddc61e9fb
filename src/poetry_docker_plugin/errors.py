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
