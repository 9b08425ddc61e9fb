"""The record of a current image that lets the next call that changes nothing skip Poetry.

Apart from the builder, which only needs to be asked for the values: what the record keeps
(``freshness/current.KnownImage``) and which files it is valid for (poetry.lock, poetry-docker.lock,
the listed sources) are this module's one concern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.conda_lock.file import CONDA_LOCK_FILE
from poetry_docker_plugin.freshness.current import KnownImage, shortcut_of

if TYPE_CHECKING:
    from poetry_docker_plugin.freshness.request import Prepared
    from poetry_docker_plugin.pipeline.builder import Builder


def remember(builder: Builder, prepared: Prepared, key: str) -> None:
    """Records the image as current for ``key`` (the options), with the files it was made
    from, so that the next call that changes nothing need not load the project."""
    from poetry_docker_plugin.sources.listing import input_files

    plan = prepared.plan
    roots, files = input_files(builder.poetry, plan, builder.cache)
    image = KnownImage(
        tags=plan.metadata.tags,
        fingerprint=prepared.fingerprint,
        bases=tuple((base.reference, base.id or "") for base in plan.environment.bases),
        project_name=plan.project.name,
        ports=plan.runtime.ports,
        emulation=builder.emulation(prepared),
    )
    # The conda lock, when there is one: editing it makes the record stale.
    conda_lock = [builder.root / CONDA_LOCK_FILE] if builder.conda_lock else []
    shortcut_of(builder.cache_dir, builder.root).record(
        key, image, roots, [*files, builder.poetry_lock.path, *conda_lock]
    )
