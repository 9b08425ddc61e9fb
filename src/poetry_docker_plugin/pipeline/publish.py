"""Publishing: every tag pushed with the engine's own credentials, and what to say when a
push fails (the registry the tag names, logging in, a registry that is not there)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from poetry_docker_plugin.engine.refs import ImageReference
from poetry_docker_plugin.errors import DockerPluginError, PushFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.freshness.request import Prepared


class PlatformBuilder(Protocol):
    """What publishing needs of the builder of one platform's image (``builder.Builder``)."""

    @property
    def engine(self) -> Engine: ...

    def prepare(self) -> Prepared: ...

    def ensure_image(
        self, prepared: Prepared, *, rebuild: bool = False, announce_current: bool = False
    ) -> Prepared: ...

    def push(self, prepared: Prepared) -> str: ...


def publish_platforms(
    builders: Sequence[PlatformBuilder],
    tags: tuple[str, ...],
    say: Callable[[str], None],
    *,
    rebuild: bool,
) -> str:
    """One image per platform (each builder's), pushed under its per-platform tags, then each
    of ``tags`` pushed as one list of them; the list's reference, by digest.

    All or nothing as far as it can be known before publishing: every platform's base is
    looked at (pulled when missing) and every image built before the first push, so that a
    missing arm64 base or a failing arm64 build publishes nothing at all.
    """
    prepared = [builder.prepare() for builder in builders]  # every base found, every plan made
    built = [
        builder.ensure_image(plan, rebuild=rebuild, announce_current=True)
        for builder, plan in zip(builders, prepared, strict=True)
    ]
    images: list[str] = []
    for builder, plan in zip(builders, built, strict=True):
        try:
            images.append(builder.push(plan))
        except DockerPluginError as error:
            if not images:
                raise
            raise DockerPluginError(
                f"{error} The images of the platforms before it went through: "
                f"{', '.join(images)}; no multi-platform tag names them yet.",
                error.exit_code,
            ) from None
    return push_tags(builders[0].engine, tags, say, quiet=False, platforms=images)


def push_tags(
    engine: Engine,
    tags: tuple[str, ...],
    say: Callable[[str], None],
    *,
    quiet: bool,
    platforms: Sequence[str] = (),
) -> str:
    """Pushes each tag; the pushed reference of the first, by its digest (``repo@sha256:``).

    With ``platforms`` (each platform's image, pushed, by digest), each tag is pushed as one
    multi-platform list of them (``engine.manifests``) instead of as a local image.
    """
    from poetry_docker_plugin.engine.manifests import push_manifest_list

    pushed: list[str] = []
    for tag in tags:
        kind = f" as a list of {len(platforms)} platforms" if platforms else ""
        say(f"Pushing <info>{tag}</info>{kind}")
        try:
            if platforms:
                digest = push_manifest_list(engine, tag, platforms)
            else:
                digest = engine.push(tag, quiet=quiet)
        except PushFailed as failure:
            message = push_failure(failure.reference, failure.reason)
            raise DockerPluginError(message + _so_far(pushed)) from None
        except DockerPluginError as error:  # the engine went away mid-push: say which tag
            message = f"Pushing {tag} failed: {error}"
            raise DockerPluginError(message + _so_far(pushed), error.exit_code) from None
        pushed.append(f"{ImageReference.parse(tag).repository}@{digest}")
        say(f"Pushed {tag} as {pushed[-1]}")
    return pushed[0]


def _so_far(pushed: list[str]) -> str:
    """What was pushed before the failure (those tags hold in the registry)."""
    return f" Pushed before it: {', '.join(pushed)}." if pushed else ""


def push_failure(reference: str, reason: str) -> str:
    """The paragraph for a tag the engine could not push, with what usually fixes it."""
    message = f"Pushing {reference} failed: {reason}."
    lowered = reason.lower()
    if ImageReference.parse(reference).registry is None:
        message += (
            f" The tag names no registry, so the engine pushed it to Docker Hub (docker.io). To "
            f"push to your registry, name it in the tag (--tag registry.example.com/team/"
            f"{ImageReference.parse(reference).repository.rsplit('/', 1)[-1]}:TAG, or `image` in "
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
