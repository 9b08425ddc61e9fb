"""A fake engine for unit tests of the orchestration: images kept in memory, every call
recorded by its docker sub-command, containers as the test makes them (``existing``), and
faults injected at a named sub-command (``save``, ``load``, ``tag``, ``push``, ``manifest``,
``run``, ``build``, ``inspect``, ``ps``, ``rm``): fail it, raise an
interrupt in it, or hold it at a gate until the test opens it. No sleeps: a test waits on
``reached`` (an event set when the call starts) and releases with ``gate.set()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.engine.client import Engine
from poetry_docker_plugin.engine.containers import ContainerState
from poetry_docker_plugin.engine.images import ImageConfig, InspectedImage
from poetry_docker_plugin.errors import DockerPluginError, PushFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


def image_id(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


@dataclass
class FakeImage:
    id: str
    platform: str = "linux/amd64"
    labels: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    # What a command run in the image prints: by its program (``sh``, ``python3``, ``conda``).
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeContainer:
    id: str
    image: str  # its image's id
    labels: dict[str, str] = field(default_factory=dict)
    running: bool = False


@dataclass
class Fault:
    """What happens at a sub-command's ``nth`` call (1-based; 0: every call)."""

    # "fail", "sigint" (a real SIGINT to this process), "sigint+fail" (the client dies of it
    # too, as a terminal's Ctrl-C reaches it), "interrupt", "hold"
    action: str
    nth: int = 1
    reached: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class FakeEngine(Engine):
    executable: str = "fake-docker"
    images: dict[str, FakeImage] = field(default_factory=dict)  # by id
    tags: dict[str, str] = field(default_factory=dict)  # reference -> id
    calls: list[tuple[str, ...]] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    pushed: dict[str, str] = field(default_factory=dict)  # reference -> id
    # What ``pull --platform P REF`` finds: (reference, platform) -> id of an image added.
    registry: dict[tuple[str, str], str] = field(default_factory=dict)
    built: list[Mapping[str, str]] = field(default_factory=list)  # labels of each build
    platform: str = "linux/amd64"  # the engine's own (``docker version``)
    version: str = "20.10.24"
    existing: dict[str, FakeContainer] = field(default_factory=dict)  # containers, by id

    # -- set-up -------------------------------------------------------------------------
    def add(self, reference: str, name: str, **facts: Any) -> FakeImage:
        image = FakeImage(image_id(name), **facts)
        self.images[image.id] = image
        self.tags[reference] = image.id
        return image

    def publish(self, reference: str, name: str, **facts: Any) -> FakeImage:
        """An image that a pull finds (the first of a reference is also local)."""
        image = FakeImage(image_id(name), **facts)
        self.images[image.id] = image
        self.registry[reference, image.platform] = image.id
        self.tags.setdefault(reference, image.id)
        return image

    def fault(self, command: str, action: str, nth: int = 1) -> Fault:
        self.faults[command] = fault = Fault(action, nth)
        return fault

    def count(self, command: str) -> int:
        return sum(1 for call in self.calls if call[0] == command)

    # -- the injection point --------------------------------------------------------------
    def _call(self, command: str, *arguments: str) -> None:
        self.calls.append((command, *arguments))
        fault = self.faults.get(command)
        if fault is None or (fault.nth and self.count(command) != fault.nth):
            return
        fault.reached.set()
        if fault.action == "hold":
            assert fault.gate.wait(30), f"the gate of {command} was never opened"
        elif fault.action in ("sigint", "sigint+fail"):  # +fail: the client dies of it too
            os.kill(os.getpid(), signal.SIGINT)
            if fault.action == "sigint+fail":
                raise DockerPluginError(f"fake engine: {command} was killed by SIGINT")
        elif fault.action == "interrupt":
            raise KeyboardInterrupt
        elif fault.action == "fail":
            raise DockerPluginError(f"fake engine: {command} failed")

    # -- Engine ---------------------------------------------------------------------------
    def _resolve(self, reference: str) -> FakeImage | None:
        found = self.tags.get(reference) or (reference if reference in self.images else None)
        return self.images.get(found) if found else None

    def config_of(self, reference: str) -> ImageConfig | None:
        self._call("inspect", reference)
        image = self._resolve(reference)
        if image is None:
            return None
        return ImageConfig(image.id, image.platform, dict(image.environment), dict(image.labels))

    def inspect(self, *references: str) -> list[InspectedImage] | None:
        self._call("inspect", *references)
        images = [self._resolve(reference) for reference in references]
        if any(image is None for image in images):
            return None
        return [InspectedImage(i.id, dict(i.labels)) for i in images if i is not None]

    def tag(self, image_id: str, reference: str) -> None:
        self._call("tag", image_id, reference)
        assert image_id in self.images
        self.tags[reference] = image_id

    def push(self, reference: str, *, quiet: bool = False) -> str:
        self._call("push", reference)
        if reference not in self.tags:
            raise PushFailed(reference, "An image does not exist locally with the tag")
        self.pushed[reference] = self.tags[reference]
        return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()

    def build(self, context: Path, tags: Sequence[str], labels: Mapping[str, str], **_: Any) -> str:
        self._call("build", str(context))
        image = FakeImage(image_id(f"built {len(self.built)} {json.dumps(dict(labels))}"))
        image.labels.update(labels)
        self.images[image.id] = image
        self.built.append(dict(labels))
        return image.id

    def containers(self, labels: Mapping[str, str]) -> list[ContainerState]:
        self._call("ps", *(f"label={key}={value}" for key, value in labels.items()))
        return [
            ContainerState(c.id, c.image, c.running)
            for c in self.existing.values()
            if labels.items() <= c.labels.items()
        ]

    def remove_container(self, container: str) -> bool:
        self._call("rm", container)
        if self.existing[container].running:
            return False
        del self.existing[container]
        return True

    def capture(
        self, arguments: list[str], *, shown: Sequence[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        self._call(arguments[0], *arguments[1:])
        if arguments[0] == "run":
            program = arguments[arguments.index("--entrypoint") + 1]
            image = self._resolve(arguments[arguments.index("--entrypoint") + 2])
            answer = image.answers.get(program) if image else None
            if answer is None:
                return subprocess.CompletedProcess(arguments, 127, "", f"{program}: not found")
            return subprocess.CompletedProcess(arguments, 0, answer, "")
        if arguments[0] == "pull":
            found = self.registry.get((arguments[-1], arguments[arguments.index("--platform") + 1]))
            if found is None:
                return subprocess.CompletedProcess(arguments, 1, "", "manifest unknown")
            self.tags[arguments[-1]] = found
            return subprocess.CompletedProcess(arguments, 0, found, "")
        if arguments[:3] == ["image", "rm", "--no-prune"]:
            removed = self.tags.pop(arguments[3], None)
            return subprocess.CompletedProcess(arguments, 0 if removed else 1, "", "")
        if arguments[0] == "save":
            Path(arguments[arguments.index("--output") + 1]).write_bytes(b"")
            return subprocess.CompletedProcess(arguments, 0, "", "")
        if arguments[:2] == ["image", "inspect"] and "{{json .RootFS.Layers}}" in arguments:
            return subprocess.CompletedProcess(arguments, 0, "[]", "")
        if arguments[0] == "version" and "{{.Server.Os}}" in arguments[-1]:  # platform, version
            answer = f"{self.platform} {self.version}\n"
            return subprocess.CompletedProcess(arguments, 0, answer, "")
        if arguments[0] == "version":
            return subprocess.CompletedProcess(arguments, 0, f"{self.version}\n", "")
        return subprocess.CompletedProcess(arguments, 1, "", f"fake engine: {arguments[0]}?")

    def start_capture(self, arguments: list[str]) -> Callable[[], tuple[int, str]]:
        answered = self.capture(arguments)
        return lambda: (answered.returncode, answered.stdout)

    def diagnose(self, *, building: bool = False) -> None:
        return None


def venv_answers(python: str = "3.11") -> dict[str, str]:
    """What a Debian base with python3 answers the probes."""
    return {"python3": f"{python} 1 {python}.2 /usr/bin/python3 2.36\n"}


def conda_answers(envs_dir: str = "/opt/conda/envs") -> dict[str, str]:
    """What a Miniforge base answers the probes."""
    info = {"envs_dirs": [envs_dir], "virtual_pkgs": [["__glibc", "2.36", "0"]]}
    return {"sh": "conda\n", "conda": json.dumps(info)}


def fake_client(folder: Path, script: str) -> Engine:
    """An engine whose client is a shell script (``case "$1" in ...``): for the calls that
    run the client as a process of their own (``load``, ``run``)."""
    client = folder / "fake-docker"
    client.write_text(f'#!/bin/sh\ncase "$1" in\n{script}\nesac\n')
    client.chmod(0o755)
    return Engine(str(client))
