"""The errors that commands turn into a clear message and a non-zero exit.

Every failure meant for the user is a ``DockerPluginError`` (``commands.base`` prints its
message without a traceback and exits with its ``exit_code``). Its subclasses are the same
error with what a caller needs to say more: ``BuildFailed`` (the engine's output, from which
the builder tells what is missing) and ``PushFailed`` (the tag and the engine's reason, to
which publishing adds advice), here because the engine raises them and the pipeline reads
them; ``TagTaken`` (pipeline/tagging.py) stays beside the tag moves it describes, as no other
module catches it. Errors internal to a module (``dockerignore.PatternError``, the settings'
``ValueError``s) become a ``DockerPluginError`` naming the file or option before they leave
their package.
"""

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
    """``docker build`` exited non-zero; ``output`` is the end of what it printed, from which
    the builder tells what is missing (``system.failures``). Exits with the engine's code."""

    def __init__(self, returncode: int, *, output: str = "") -> None:
        if returncode < 0:  # the client was killed: no step failed, and 256-9 is no exit code
            import signal

            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            message = (
                f"The image build did not finish: the `docker build` process was killed by "
                f"{name}, by someone or something other than this plugin (the system's "
                "out-of-memory killer, a timeout, `kill`). No step of the build failed and no "
                "tag was moved; build again."
            )
            exit_code = 128 - returncode
        else:
            message = (
                f"The image build failed (`docker build` exited with {returncode}); the "
                "engine's output above says which step failed and why."
            )
            exit_code = returncode
        super().__init__(message, exit_code=exit_code)
        self.returncode = returncode
        self.output = output


class PushFailed(DockerPluginError):
    """``docker push`` of ``reference`` failed for ``reason`` (the engine's last line)."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"Pushing {reference} failed: {reason}.")
        self.reference = reference
        self.reason = reason
