"""What the engine is asked of local images: their ids, labels and configuration, a file of
one, and moving a tag."""

from __future__ import annotations

import io
import json
import re
import subprocess
from dataclasses import dataclass

from poetry_docker_plugin.engine.command_line import EngineCommandLine
from poetry_docker_plugin.errors import DockerPluginError


@dataclass(frozen=True)
class InspectedImage:
    """What ``docker image inspect`` says of one image."""

    id: str
    labels: dict[str, str]


@dataclass(frozen=True)
class ImageConfig:
    """What ``docker image inspect`` says of a base image."""

    id: str
    platform: str  # os/architecture[/variant], as the image's config gives them
    environment: dict[str, str]
    labels: dict[str, str]


@dataclass(frozen=True)
class PendingInspect:
    """A ``docker image inspect`` under way."""

    engine: EngineCommandLine
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
                images.append(InspectedImage(full_id(identity), json.loads(labels) or {}))
        return images

    def cancel(self) -> None:
        self.process.kill()
        self.process.communicate()


class ImageCalls(EngineCommandLine):
    """The client's calls about local images (``Engine`` has them)."""

    def tag(self, image_id: str, reference: str) -> None:
        """Points the tag ``reference`` at the image ``image_id``."""
        result = self.capture(["tag", image_id, reference])
        if result.returncode != 0:
            self.diagnose()
            raise DockerPluginError(
                f"Could not tag the image {image_id} as {reference}: "
                f"{result.stderr.strip() or 'no output'}."
            )

    def inspect(self, *references: str) -> list[InspectedImage] | None:
        """The id and labels of local images, one per reference; None when any is missing."""
        return self.start_inspect(*references).result()

    def start_inspect(self, *references: str) -> PendingInspect:
        """``inspect``, started now and answered by ``result()``, so that the caller can work
        meanwhile."""
        arguments = ["image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}"]
        self.show([*arguments, *references])
        process = subprocess.Popen(
            [self.executable, *arguments, *references],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return PendingInspect(self, references, process)

    def read_file(self, image: str, path: str) -> bytes | None:
        """The content of one file of an image; None when the image has no such file.

        Read from a container that is created and never started (``cp`` takes a tar stream
        from it), so the image needs no shell or ``cat``; the container is removed after.
        """
        import tarfile

        created = self.capture(["create", image])
        if created.returncode != 0:
            self.diagnose()
            raise DockerPluginError(
                f"Could not create a container of {image} to read {path} from it: "
                f"{created.stderr.strip() or 'no output'}."
            )
        container = created.stdout.strip()
        try:
            self.show(["cp", f"{container}:{path}", "-"])
            copied = subprocess.run(
                [self.executable, "cp", f"{container}:{path}", "-"],
                capture_output=True,
                check=False,
            )
        finally:
            self.capture(["rm", "--force", container])
        if copied.returncode != 0:
            return None
        with tarfile.open(fileobj=io.BytesIO(copied.stdout)) as archive:
            member = archive.next()
            stream = archive.extractfile(member) if member is not None else None
            return stream.read() if stream is not None else None

    def image_id(self, reference: str) -> str | None:
        """The id of a local image; None when there is none of that name."""
        config = self.config_of(reference)
        return config.id if config else None

    def config_of(self, reference: str) -> ImageConfig | None:
        """A local image's id, platform, environment variables and labels; None when missing.
        Read from the whole inspect document: a format naming ``.Variant`` fails on Docker 20.10.
        """
        result = self.capture(["image", "inspect", "--format", "{{json .}}", reference])
        if result.returncode != 0:
            return None
        image = json.loads(result.stdout)
        if isinstance(image, list):  # podman 4 writes the whole list whatever the format
            image = image[0] if image else {}
        config = image.get("Config") or {}
        parts = (image.get("Os", ""), image.get("Architecture", ""), image.get("Variant", ""))
        pairs = (item.partition("=") for item in config.get("Env") or [])
        return ImageConfig(
            full_id(image.get("Id", "")),
            "/".join(part for part in parts if part),
            {key: value for key, _, value in pairs},
            config.get("Labels") or {},
        )


def full_id(identity: str) -> str:
    """An image id as docker spells it (``sha256:<hex>``): podman's ``--iidfile`` and
    ``inspect`` give the bare hex, and ids are compared across both."""
    bare = re.fullmatch(r"[0-9a-f]{64}", identity)
    return f"sha256:{identity}" if bare else identity
