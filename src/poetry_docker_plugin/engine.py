"""Engine: the docker (or podman) command line, and nothing else.

The engine is found through ``POETRY_DOCKER_ENGINE`` (a command name or path) or as
``docker`` on PATH. Builds run with BuildKit (``DOCKER_BUILDKIT=1``) for cache and bind mounts;
podman builds with buildah, whose cache the Dockerfile's ``: inputs=DIGEST`` no-ops serve.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from poetry_docker_plugin.plan import BaseImage

ENGINE_VARIABLE = "POETRY_DOCKER_ENGINE"
# The X.Y of python3, then the glibc version it runs on (empty on other C libraries).
PYTHON_PROBE = [
    "-c",
    "import platform, sys; print('%d.%d' % sys.version_info[:2], platform.libc_ver()[1])",
]
# Seconds a container gets to stop after a signal before it is removed by force.
STOP_TIMEOUT = 10
# What podman prints when the init binary of `run --init` (catatonit) is missing.
# The last line of `docker push` (and podman's "Writing manifest"): the manifest's digest.
PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
PODMAN_INIT_MISSING = re.compile(rb"container-init binary not found on the host: ([^\n]*)")


@dataclass(frozen=True)
class InspectedImage:
    """What ``docker image inspect`` says of one image."""

    id: str
    labels: dict[str, str]


@dataclass(frozen=True)
class PendingInspect:
    """A ``docker image inspect`` under way."""

    engine: Engine
    references: tuple[str, ...]
    process: subprocess.Popen[str]

    def result(self) -> list[InspectedImage] | None:
        """The id and labels of each image, in order; None when any is missing."""
        stdout, _ = self.process.communicate()
        if self.process.returncode != 0:
            self.engine.diagnose()
            return None
        images = []
        for line in stdout.splitlines():
            if line.strip():
                identity, _, labels = line.partition(" ")
                images.append(InspectedImage(identity, json.loads(labels) or {}))
        return images

    def cancel(self) -> None:
        self.process.kill()
        self.process.communicate()


@dataclass(frozen=True)
class Engine:
    """A container engine's command-line client."""

    executable: str
    echo: bool = False  # print each command line to stderr (poetry -vv)

    @classmethod
    def find(cls, *, echo: bool = False) -> Engine:
        """The client named by POETRY_DOCKER_ENGINE, else ``docker`` on PATH.

        The daemon is not asked anything up front (that would cost every call a round trip):
        when a command fails, ``diagnose`` tells why.
        """
        name = os.environ.get(ENGINE_VARIABLE) or "docker"
        executable = shutil.which(name)
        if executable is None:
            raise DockerPluginError(
                f"The container engine command {name!r} was not found on PATH. Install Docker "
                f"(or podman), or set {ENGINE_VARIABLE} to the path of its command-line client."
            )
        return cls(executable, echo)

    def diagnose(self, *, building: bool = False) -> None:
        """Raises the clear error for an engine that is down, or a client that cannot build."""
        result = self._capture(["version", "--format", "{{.Server.Version}}"])
        if result.returncode != 0 or not result.stdout.strip():
            detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
            if "permission denied" in detail.lower():
                raise DockerPluginError(
                    f"Your user may not use the Docker engine through {self.executable} "
                    f"({detail}). Add yourself to the docker group (`sudo usermod -aG docker "
                    '"$USER"`, then log in again), or use rootless Docker or podman.'
                )
            raise DockerPluginError(
                f"The Docker engine is not reachable through {self.executable} ({detail}). "
                "Start the Docker daemon (for example `sudo systemctl start docker`), or point "
                "DOCKER_HOST at a running one, then try again."
            )
        if not building:
            return
        # A docker client of 23 or later needs the buildx component for BuildKit builds.
        client = self._capture(["version", "--format", "{{.Client.Version}}"]).stdout.strip()
        major = client.split(".")[0]
        if (
            major.isdigit()
            and int(major) >= 23
            and "docker" in Path(self.executable).name
            and self._capture(["buildx", "version"]).returncode != 0
        ):
            raise DockerPluginError(
                f"The docker client {self.executable} ({client}) has no buildx "
                "component, which its BuildKit builds need. Install buildx (Debian: "
                f"docker-buildx), or set {ENGINE_VARIABLE} to a client with BuildKit built "
                "in, such as /usr/bin/docker from Debian's docker.io."
            )

    def build(
        self,
        context: Path,
        tags: Sequence[str],
        labels: Mapping[str, str],
        *,
        no_cache: bool = False,
        platform: str | None = None,
        build_args: Sequence[tuple[str, str]] = (),
        secrets: Mapping[str, Path] | None = None,
        network: str | None = None,
        quiet: bool = False,
        ssh: Sequence[str] = (),
        cache_from: Sequence[str] = (),
    ) -> str:
        """Builds ``context`` with the engine's progress streamed to the terminal; the image id.

        ``ssh`` names the dependencies fetched over SSH: the user's SSH agent is forwarded to
        the build (``--ssh default``), so that their keys authenticate without entering it.
        ``cache_from`` names images (in a registry) whose inline cache the build may reuse.
        """
        with tempfile.TemporaryDirectory(prefix="poetry-docker-iid-") as scratch:
            iidfile = Path(scratch) / "iid"
            command = ["build", "--file", str(context / "Dockerfile"), "--iidfile", str(iidfile)]
            for tag in tags:
                command += ["--tag", tag]
            for key, value in sorted(labels.items()):
                command += ["--label", f"{key}={value}"]
            for key, value in build_args:
                command += ["--build-arg", f"{key}={value}"]
            if no_cache:
                command.append("--no-cache")
            if platform:
                command += ["--platform", platform]
            for name, path in sorted((secrets or {}).items()):
                command += ["--secret", csv_fields(f"id={name}", f"src={path}")]
            if network:
                command += ["--network", network]
            if ssh:
                command += ["--ssh", "default"]
            for reference in cache_from:
                command += ["--cache-from", reference]
            if quiet:
                command.append("--quiet")
            command.append(str(context))
            self._show(command)
            returncode, untrusted = self._stream_build(command, quiet)
            if returncode != 0:
                self.diagnose(building=True)
                hint = (
                    " A download failed certificate verification (CERTIFICATE_VERIFY_FAILED): "
                    "behind an intercepting proxy, set `ca-bundle` in [tool.poetry-docker] to "
                    "the PEM file of the proxy's certificate authority (pip before Python 3.10 "
                    "and conda do not use the system's trust store)."
                    if untrusted
                    else ""
                )
                raise DockerPluginError(
                    f"The image build failed (`docker build` exited with {returncode}); the "
                    f"engine's output above says which step failed and why.{hint}",
                    exit_code=returncode,
                )
            return iidfile.read_text().strip()

    def _stream_build(self, command: list[str], quiet: bool) -> tuple[int, bool]:
        """Runs ``docker build``, its progress going to stderr (stdout holds only what the
        plugin prints); the exit code, and whether a download failed certificate checks.

        On a terminal the engine draws its live progress itself; elsewhere (CI, pipes) its
        plain output is passed through line by line and read for that failure.
        """
        environment = {**os.environ, "DOCKER_BUILDKIT": "1"}
        stdout = subprocess.DEVNULL if quiet else sys.stderr.fileno()
        if sys.stderr.isatty():
            run = subprocess.run([self.executable, *command], env=environment, stdout=stdout)
            return run.returncode, False
        untrusted = False
        with subprocess.Popen(
            [self.executable, *command], env=environment, stdout=stdout, stderr=subprocess.PIPE
        ) as process:
            assert process.stderr is not None
            for line in process.stderr:
                sys.stderr.buffer.write(line)
                sys.stderr.buffer.flush()
                untrusted = untrusted or b"CERTIFICATE_VERIFY_FAILED" in line
        return process.returncode, untrusted

    def remote_host(self) -> str | None:
        """The engine's host when it is not this machine's (``tcp://``, ``ssh://``), else None.

        As the client decides: ``DOCKER_HOST`` first, then the context that ``DOCKER_CONTEXT``
        or the client's config names (podman: ``CONTAINER_HOST``). Asking the client about a
        context costs a process, so it is asked only when a context other than the default
        is chosen.
        """
        if "podman" in Path(self.executable).name:
            return remote_host(os.environ.get("CONTAINER_HOST"))
        if os.environ.get("DOCKER_HOST"):
            return remote_host(os.environ["DOCKER_HOST"])
        context = os.environ.get("DOCKER_CONTEXT") or current_context(docker_config_dir())
        if not context or context == "default":
            return None
        result = self._capture(
            ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}", context]
        )
        return remote_host(result.stdout.strip()) if result.returncode == 0 else None

    def push(self, reference: str, *, quiet: bool = False) -> str:
        """Pushes one tag with the engine's own credentials (``docker login``); its digest.

        The engine's progress goes to stderr as it comes; a failure names the tag and the
        engine's reason.
        """
        command = ["push", reference]
        self._show(command)
        # One stream (the engine's error comes last), read to its end: no pipe fills up.
        with subprocess.Popen(
            [self.executable, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                if not quiet:
                    sys.stderr.write(line)
                    sys.stderr.flush()
        digest = PUSHED_DIGEST.search("".join(lines))
        if process.returncode == 0 and digest:
            return digest.group(1)
        self.diagnose()
        reason = ([line.strip() for line in lines if line.strip()] or ["no answer"])[-1]
        raise DockerPluginError(push_failure(reference, reason))

    @staticmethod
    def check_ssh_agent(ssh: Sequence[str]) -> None:
        """Refuses, before anything is staged, a build that needs the SSH agent without one.

        ``ssh`` names the dependencies fetched over SSH.
        """
        if ssh and not os.environ.get("SSH_AUTH_SOCK"):
            names = (
                f"dependency {ssh[0]} is" if len(ssh) == 1 else f"dependencies {', '.join(ssh)} are"
            )
            raise DockerPluginError(
                f"The git {names} fetched over SSH, which the build does through your SSH agent "
                "(`docker build --ssh default`), but SSH_AUTH_SOCK is not set. Start an agent "
                'and add the key that can read the repository (`eval "$(ssh-agent -s)"`, then '
                "`ssh-add ~/.ssh/id_ed25519`), then build again; the key never enters the image."
            )

    def run(self, arguments: Sequence[str], name: str) -> int:
        """Runs ``docker run ARGUMENTS`` in the foreground; returns the container's exit code.

        SIGINT, SIGTERM and SIGHUP sent to this process are passed to the client, which
        passes them to the container (PID 1 is docker's init). If the container has not
        stopped a few seconds later it is removed by force, so that no container outlives
        the command. Only the signals the host has are watched (``watched_signals``); on
        Windows the console delivers Ctrl-C and Ctrl-Break to the client itself, so they are
        only noted there, to start the countdown to the forced removal.
        """
        self._show(["run", "--name", name, *arguments])
        # The client's stderr is passed through as it comes, its end kept to tell why a run
        # failed; stdin and stdout (the terminal, with --tty) are the client's own.
        process = subprocess.Popen(
            [self.executable, "run", "--name", name, *arguments], stderr=subprocess.PIPE
        )
        tail = bytearray()
        relay = threading.Thread(target=_relay, args=(process.stderr, tail), daemon=True)
        relay.start()
        received: list[int] = []

        def force_stop() -> None:
            self._capture(["rm", "--force", name])
            process.kill()

        # Started by the first signal: the container then has STOP_TIMEOUT seconds to stop.
        deadline = threading.Timer(STOP_TIMEOUT, force_stop)
        deadline.daemon = True

        def forward(signum: int, _frame: object) -> None:
            received.append(signum)
            if process.poll() is None and os.name != "nt":
                process.send_signal(signum)
            if len(received) == 1:
                deadline.start()

        previous = {signum: signal.signal(signum, forward) for signum in watched_signals()}
        try:
            # A blocking wait returns the moment the client exits (a polling one would add
            # up to its interval to every run); signals still reach ``forward`` meanwhile.
            returncode = process.wait() if os.name != "nt" else _wait_on_windows(process)
        finally:
            deadline.cancel()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            relay.join(timeout=5)
        if received:
            self._capture(["rm", "--force", name])
        if returncode == 125:  # the engine's own failure, not the command's
            missing = PODMAN_INIT_MISSING.search(tail)
            if missing and "--init" in arguments and self.is_podman():
                self._no_init_binary(missing.group(1).decode(errors="replace").strip())
            self.diagnose()
        return 128 - returncode if returncode < 0 else returncode

    def is_podman(self) -> bool:
        """Whether the client is podman: by its name, or ``docker`` being podman's docker shim
        (its ``version`` says Podman). Asked only when something failed, never up front."""
        if "podman" in Path(self.executable).name:
            return True
        return "podman" in self._capture(["version"]).stdout.lower()

    def _no_init_binary(self, detail: str) -> None:
        client = "podman" if "podman" in Path(self.executable).name else self.executable
        shim = "" if client == "podman" else " (podman's docker shim)"
        raise DockerPluginError(
            f"{client}{shim} could not start the container because its init binary is missing "
            f"({detail}). `poetry docker run` and `poetry docker shell` start containers with "
            "--init, so that signals reach the command and zombies are reaped, and podman's "
            "--init runs catatonit: install catatonit (Debian/Ubuntu: apt-get install "
            "catatonit), or point `init_path` in containers.conf at it, then try again.",
            exit_code=125,
        )

    def inspect(self, *references: str) -> list[InspectedImage] | None:
        """The id and labels of local images, one per reference; None when any is missing."""
        return self.start_inspect(*references).result()

    def start_inspect(self, *references: str) -> PendingInspect:
        """``inspect``, started now and answered by ``result()``, so that the caller can work
        meanwhile."""
        arguments = ["image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}"]
        self._show([*arguments, *references])
        process = subprocess.Popen(
            [self.executable, *arguments, *references],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return PendingInspect(self, references, process)

    def base_image(
        self,
        reference: str,
        manager: str,
        cache: Path | None = None,
        *,
        pull: bool = True,
        refresh: bool = False,
    ) -> BaseImage:
        """What the plan needs to know of the base image, looked at once per image id.

        Looking means running a container (half a second or more), so the answer is kept in
        ``cache`` (a JSON file) under the reference and the image's id; the caller checks the
        id against the image when it compares fingerprints, and asks again with no cache when
        the base was rebuilt under the same tag (``refresh``). A missing image is pulled
        first, unless
        ``pull`` is false, when the conventions of the published images are assumed.
        """
        from poetry_docker_plugin.plan import BaseImage

        key = f"{manager} {reference}"
        known: dict[str, dict[str, Any]] = {}
        if cache is not None and cache.is_file():
            with contextlib.suppress(ValueError, OSError):
                known = json.loads(cache.read_text())
            if key in known and not refresh:
                return BaseImage.from_facts(reference, known[key])
        config = self._config_of(reference)
        if config is None:
            if not pull:
                return BaseImage(reference)
            self._pull(reference, "runtime-base" if manager == "runtime" else "base-image")
            config = self._config_of(reference)
        identity, environment, labels = config or ("", {}, {})
        facts: dict[str, Any] = {"id": identity, "label_keys": sorted(labels)}
        if manager == "runtime":  # the runtime stage's base: its glibc, if it says
            libc = self._capture(
                ["run", "--rm", "--entrypoint", "getconf", reference, "GNU_LIBC_VERSION"]
            )
            facts["glibc"] = libc.stdout.split()[-1] if libc.returncode == 0 else ""
        elif manager == "venv":
            python, _, glibc = self._probe(reference, "python3", PYTHON_PROBE, manager).partition(
                " "
            )
            facts["python"], facts["glibc"] = python, glibc.strip()
        elif manager == "conda":
            info = json.loads(self._probe(reference, "conda", ["info", "--json"], manager))
            facts["envs_dir"] = info["envs_dirs"][0]
            virtual = {name: version for name, version, *_ in info.get("virtual_pkgs", [])}
            facts["glibc"] = virtual.get("__glibc", "")
        else:  # micromamba: its images say where the root prefix is
            root = environment.get("MAMBA_ROOT_PREFIX", "/opt/conda")
            facts["envs_dir"] = f"{root.rstrip('/')}/envs"
        if cache is not None:
            with contextlib.suppress(OSError):
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps({**known, key: facts}, indent=1))
        return BaseImage.from_facts(reference, facts)

    def read_file(self, image: str, path: str) -> bytes | None:
        """The content of one file of an image; None when the image has no such file.

        Read from a container that is created and never started (``cp`` takes a tar stream
        from it), so the image needs no shell or ``cat``; the container is removed after.
        """
        import tarfile

        created = self._capture(["create", image])
        if created.returncode != 0:
            self.diagnose()
            raise DockerPluginError(
                f"Could not create a container of {image} to read {path} from it: "
                f"{created.stderr.strip() or 'no output'}."
            )
        container = created.stdout.strip()
        try:
            self._show(["cp", f"{container}:{path}", "-"])
            copied = subprocess.run(
                [self.executable, "cp", f"{container}:{path}", "-"],
                capture_output=True,
                check=False,
            )
        finally:
            self._capture(["rm", "--force", container])
        if copied.returncode != 0:
            return None
        with tarfile.open(fileobj=io.BytesIO(copied.stdout)) as archive:
            member = archive.next()
            stream = archive.extractfile(member) if member is not None else None
            return stream.read() if stream is not None else None

    def image_id(self, reference: str) -> str | None:
        """The id of a local image; None when there is none of that name."""
        config = self._config_of(reference)
        return config[0] if config else None

    def _config_of(self, reference: str) -> tuple[str, dict[str, str], dict[str, str]] | None:
        """A local image's id, environment variables and labels; None when it is missing."""
        result = self._capture(
            ["image", "inspect", "--format", "{{.Id}}\t{{json .Config}}", reference]
        )
        if result.returncode != 0:
            return None
        identity, _, text = result.stdout.strip().partition("\t")
        config = json.loads(text) or {}
        pairs = (item.partition("=") for item in config.get("Env") or [])
        return identity, {k: v for k, _, v in pairs}, config.get("Labels") or {}

    def _pull(self, reference: str, setting: str) -> None:
        result = self._capture(["pull", "--quiet", reference])
        if result.returncode != 0:
            self.diagnose()
            detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
            raise DockerPluginError(
                f"The base image {reference} is not on this machine and could not be pulled "
                f"({detail}). Pull or build it first, or set `{setting}` in "
                f"[tool.poetry-docker] (or --{setting}) to an image you have."
            )

    def _probe(self, image: str, program: str, arguments: list[str], manager: str) -> str:
        result = self._capture(["run", "--rm", "--entrypoint", program, image, *arguments])
        if result.returncode != 0 or not result.stdout.strip():
            self.diagnose()
            raise DockerPluginError(
                f"Could not run `{program}` in the base image {image}: "
                f"{result.stderr.strip() or 'no output'}. The {manager} manager needs a base "
                f"image with {program} on its PATH; choose such a base image (`base-image` in "
                "[tool.poetry-docker]), or another manager (`env-manager`)."
            )
        if program == "python3" and not re.match(r"3\.\d+( |$)", result.stdout.strip()):
            raise DockerPluginError(
                f"python3 in the base image {image} is not a Python 3 that the venv manager "
                f"can use (it says {result.stdout.strip()!r}). Choose another base image."
            )
        return result.stdout

    def _show(self, arguments: Sequence[str]) -> None:
        if self.echo:
            words = [self.executable, *arguments]
            line = subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)
            print(f"$ {line}", file=sys.stderr, flush=True)

    def _capture(self, arguments: list[str]) -> subprocess.CompletedProcess[str]:
        self._show(arguments)
        return subprocess.run(
            [self.executable, *arguments], capture_output=True, text=True, check=False
        )


def watched_signals(signals: object = signal) -> list[int]:
    """The signals ``run`` passes on that this host has: SIGINT and SIGTERM everywhere,
    SIGHUP (a closed terminal) on POSIX hosts, SIGBREAK (Ctrl-Break) on Windows.

    ``signals`` is the ``signal`` module, or a stand-in for a host this one is not.
    """
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
    return [getattr(signals, name) for name in names if hasattr(signals, name)]


def _wait_on_windows(process: subprocess.Popen[bytes]) -> int:
    """Waits in short steps: Windows' infinite wait would hold off Python's Ctrl-C handler,
    and with it the countdown to the forced removal, until the client exits."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(timeout=0.2)


def _relay(stream: IO[bytes] | None, tail: bytearray) -> None:
    """Copies what a client writes to its stderr to ours as it comes (a prompt without a
    newline included), keeping its last few KiB in ``tail``; closes ``stream`` at its end."""
    assert isinstance(stream, io.BufferedReader)
    with stream:
        while chunk := stream.read1(65536):
            tail += chunk
            del tail[:-4096]
            with contextlib.suppress(OSError, ValueError):  # our stderr closed: drain on
                sys.stderr.buffer.write(chunk)
                sys.stderr.buffer.flush()


def absolute_volume(value: str, *, windows: bool = os.name == "nt") -> str:
    """A ``--volume`` whose source is a relative path (``./src:/mnt``), made absolute.

    docker takes a source without a slash for a named volume, and refuses relative paths. On a
    Windows host the source may start with a drive (``C:\\data:/mnt``, whose first ``:`` is
    the drive's) and use either slash (``.\\data:/mnt``).
    """
    drive = re.match(r"[A-Za-z]:[\\/]", value) if windows else None
    if drive:
        return value  # absolute already: docker's Windows client reads it as it is
    source, separator, rest = value.partition(":")
    slashes = "/\\" if windows else "/"
    relative = source.startswith((".", "~")) or (
        any(s in source for s in slashes) and source[0] not in slashes
    )
    if separator and relative:
        source = str(Path(source).expanduser().resolve())
    return f"{source}{separator}{rest}"


def bind_mount(source: PurePath, target: str) -> str:
    """A ``--mount`` value for a bind mount: unlike ``--volume``, it takes any path (a ``:``
    in it included); its fields are CSV, so each is quoted as CSV quotes.

    The source is the host's own spelling of the path: on Windows ``C:\\Users\\ana\\my app``,
    which Docker Desktop documents it translates into its VM (compose passes such paths
    through unchanged too; ``/c/...`` or ``//c/...`` are only for shells that rewrite
    arguments, such as Git Bash, which no process of Poetry's is).
    """
    return csv_fields("type=bind", f"source={source}", f"target={target}")


def csv_fields(*fields: str) -> str:
    """Fields of a docker option that the client parses as one CSV line (``--mount``,
    ``--secret``): a field holding ``,`` or ``"`` is quoted, its ``"`` doubled."""
    import csv

    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(fields)
    return line.getvalue()


def repository_of(reference: str) -> str:
    """The repository of a reference: ``host:5000/team/app:1.0`` is ``host:5000/team/app``."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def registry_of(reference: str) -> str | None:
    """The registry host a reference names, or None for Docker Hub's short form.

    As Docker reads it: the first component is a host when it holds a '.' or a ':' or is
    ``localhost``.
    """
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def push_failure(reference: str, reason: str) -> str:
    """The paragraph for a tag the engine could not push, with what usually fixes it."""
    message = f"Pushing {reference} failed: {reason}."
    lowered = reason.lower()
    if registry_of(reference) is None:
        message += (
            f" The tag names no registry, so the engine pushed it to Docker Hub (docker.io). To "
            f"push to your registry, name it in the tag (--tag registry.example.com/team/"
            f"{repository_of(reference).rsplit('/', 1)[-1]}:TAG, or `image` in "
            "[tool.poetry-docker])."
        )
    if any(word in lowered for word in ("denied", "unauthorized", "authentication required")):
        message += (
            " Log in to the registry with `docker login HOST` (the plugin uses the engine's "
            "credentials and never reads them), or check that you may push to that repository."
        )
    elif any(word in lowered for word in ("connection refused", "no such host", "timeout")):
        message += " Check that the registry is running and reachable from the engine."
    return message


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
