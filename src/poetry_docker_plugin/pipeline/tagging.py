"""Tags moved only to the image this build made, and only when no other build moved them
while it ran: compare-and-swap on the engine's tags.

``docker build --tag`` moves the tag to whatever the build ends with, and two builds with the
same image name (two checkouts of a project, two projects that chose the same ``image``)
finishing in turn both exit 0 and print the same tag, which names the image of the one that
finished last: the other's ``IMAGE=$(poetry docker build -q)`` then runs code that is not its
own. So the builder builds untagged (``--iidfile`` gives the id), notes which image each tag
names before the build starts, and afterwards, under a lock keyed by the tags (held for the
few engine calls this takes, not for the build): refuses when a tag no longer names the
image it named at the start (another build took it meanwhile), else moves each tag to the
new id and checks that every tag names that id.

Why not make builds of one image name wait for each other instead: the later build would
then move the tag right after the earlier one printed it, and the earlier caller's reference
would name the later image all the same, silently. A clear failure of the build that lost the
race (its image kept, by id, for whoever wants it) leaves every printed tag true.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine


def tags_now(engine: Engine, tags: Sequence[str]) -> dict[str, str | None]:
    """The id of the image each tag names now (None for a tag that names none)."""
    return {tag: engine.image_id(tag) for tag in tags}


def move_tags(
    engine: Engine,
    image_id: str,
    before: Mapping[str, str | None],
    lock_folder: Path,
) -> None:
    """Points every tag of ``before`` at ``image_id``, unless one was moved meanwhile.

    All or nothing: SIGINT and SIGTERM wait until every tag is moved (``signals_deferred``),
    and a tag the engine refuses puts back those moved before it.
    """
    from poetry_docker_plugin.util.interrupts import signals_deferred

    with _tags_locked(lock_folder, sorted(before)), signals_deferred() as done:
        now = tags_now(engine, list(before))
        taken = {tag: found for tag, found in now.items() if found not in (before[tag], image_id)}
        if taken:
            raise TagTaken(image_id, taken)
        moved: list[str] = []
        try:
            for tag in before:
                if now[tag] != image_id:
                    engine.tag(image_id, tag)
                    moved.append(tag)
        except BaseException:
            _put_back(engine, {tag: now[tag] for tag in moved})
            raise
        after = tags_now(engine, list(before))
        elsewhere = {tag: found for tag, found in after.items() if found != image_id}
        if elsewhere:
            raise TagTaken(image_id, elsewhere)
        done.append(f"{', '.join(before)} name the new image {image_id}")


def _put_back(engine: Engine, previous: Mapping[str, str | None]) -> None:
    """Each tag back on the image it named before (a tag that named none is removed)."""
    for tag, identity in previous.items():
        if identity is not None:
            engine.tag(identity, tag)
        else:
            engine.capture(["image", "rm", "--no-prune", tag])


class TagTaken(DockerPluginError):
    """Another build (or a ``docker tag``) moved a tag of this image while it was built."""

    def __init__(self, image_id: str, taken: Mapping[str, str | None]) -> None:
        tags = ("tags " if len(taken) > 1 else "tag ") + ", ".join(taken)
        others = ", ".join(sorted({found or "no image" for found in taken.values()}))
        super().__init__(
            f"Another build moved the {tags} to another image ({others}) while this one "
            f"was built: two projects, or two copies of one, with the same image name, built "
            f"at the same time. This build's image is {image_id} (untagged: `docker run "
            f"{image_id}` runs it); the tag was left to the other build. Give each copy its "
            "own image name (`image` in [tool.poetry-docker], or --tag), or build them one "
            "after the other."
        )
        self.image_id = image_id
        self.taken = dict(taken)


@contextlib.contextmanager
def _tags_locked(folder: Path, tags: Sequence[str]) -> Iterator[None]:
    """Holds a lock per tag, in sorted order (two builds sharing some tags never deadlock)."""
    from poetry_docker_plugin.util.file_locks import held, prune

    prune(folder, "tag-*.lock")
    with contextlib.ExitStack() as stack:
        for tag in tags:
            key = hashlib.sha256(tag.encode()).hexdigest()[:16]
            stack.enter_context(held(folder / f"tag-{key}.lock"))
        yield
