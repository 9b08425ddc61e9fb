"""Builder: the stages in their order for one image, and the build when the engine lacks it.

Commands hand over here as Poetry's ``install`` hands over to ``Installer``: the command reads
its options into a :class:`BuildRequest`; the builder reads the project and the lock (once),
plans, digests the sources, renders, fingerprints, asks the engine whether an image of exactly
these inputs exists, and builds it when not. Whether an image is current is decided here
alone (``ensure_image``).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from functools import cached_property
from typing import TYPE_CHECKING

from cleo.io.outputs.output import Verbosity

from poetry_docker_plugin.conda_lock.file import CONDA_LOCK_FILE
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.freshness.current import bases_moved, path_key, stale_images
from poetry_docker_plugin.freshness.fingerprint import fingerprint
from poetry_docker_plugin.freshness.kept_rendering import render_kept
from poetry_docker_plugin.freshness.request import BuildRequest, Prepared
from poetry_docker_plugin.names import INLINE_CACHE_LABEL
from poetry_docker_plugin.pipeline.engine_features import fitted_to_engine
from poetry_docker_plugin.plan.decide import make_plan
from poetry_docker_plugin.plan.model import BaseImage, BuildPlan
from poetry_docker_plugin.project.cache import ProjectCache
from poetry_docker_plugin.sources.digests import source_digests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from cleo.io.io import IO
    from poetry.poetry import Poetry

    from poetry_docker_plugin.conda_lock.file import CondaLock
    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.engine.images import InspectedImage, PendingInspect
    from poetry_docker_plugin.freshness.inputs import ImageInputs
    from poetry_docker_plugin.lock.model import Lock
    from poetry_docker_plugin.platforms import Platform
    from poetry_docker_plugin.project.facts import ProjectFacts
    from poetry_docker_plugin.project.settings import Settings


class Builder:
    """One project's image: planned from its lock and settings, built only when stale."""

    def __init__(
        self,
        poetry: Poetry,
        project: ProjectFacts,
        inputs: ImageInputs,
        io: IO,
        cache_dir: Path,
        engine: Engine | None = None,
    ) -> None:
        self.poetry = poetry
        self.project = project
        self.inputs = inputs
        self.settings: Settings = inputs.settings
        self.request: BuildRequest = inputs.request
        self.io = io
        self.cache_dir = cache_dir
        self.cache = ProjectCache(cache_dir / "projects" / f"{path_key(self.project.root)}.json")
        # The ``image inspect`` of the last call's images, started while the plan is made.
        self.speculative_inspect: PendingInspect | None = None
        # The engine's ``version``, asked while the lock is read (None before it is asked).
        self.pending_platform: Callable[[], str] | None = None
        self.platform_required: bool | None = None
        self.said: set[str] = set()  # what is said once per command (no conda lock, emulation)
        self.tagged: tuple[str, ...] = ()  # the tags moved to a new image, then its id
        if engine is not None:  # given (a test's fake engine): else found when first needed
            self.__dict__["engine"] = engine

    @cached_property
    def engine(self) -> Engine:
        """Else than the one given: ``Engine.find()``, when first needed."""
        from poetry_docker_plugin.engine.client import Engine

        return Engine.find(echo=self.io.is_very_verbose())

    @cached_property
    def poetry_lock(self) -> Lock:
        """The selected part of poetry.lock, read (and checked) once per command."""
        from poetry_docker_plugin.lock.read import read_lock

        return read_lock(self.poetry, self.request.groups, self.settings.extras)

    def prepare(self, *, pull: bool = True, refresh_base: bool = False) -> Prepared:
        """Reads the project and lock, plans the image and renders its files.

        The base image is looked at (and pulled when ``pull`` and missing) once per image id;
        ``refresh_base`` looks again, for a base rebuilt under the same name.
        """
        from poetry_docker_plugin.project.settings import ca_bundle_path

        ca_bundle_path(self.settings, self.project)  # a bundle without certificates: refused
        self.mutex_folder  # noqa: B018  (a cache folder that cannot be written: said once, here)
        if pull and not refresh_base:
            self.start_inspect_of_last_call()
        request = self.request
        if self.platform_required is None and (pull or request.platform is None):
            self.start_engine_platform(required=pull)  # its version too: engine_features
        plan = self.plan(pull=pull, refresh_base=refresh_base)
        environment = plan.environment
        self.say(
            f"Python {environment.python} ({environment.python_reason}); {environment.manager} "
            f"environment at {environment.prefix} ({environment.manager_reason}); base "
            f"{environment.base.reference}",
            Verbosity.VERBOSE,
        )
        cache = self.cache
        # The files' digests come first: the Dockerfile names them in the steps that mount them.
        sources = source_digests(self.poetry, plan, cache)
        rendered = render_kept(plan, sources, cache)
        cache.save()
        base_ids = " ".join(base.id or "" for base in plan.environment.bases)
        options = {
            **self.inputs.fingerprint_options(),
            "platform": str(plan.environment.platform),
            "base-image-id": base_ids,
            "conda-lock": self.conda_lock.source_digest if self.conda_lock else "",
        }
        return Prepared(plan, rendered, fingerprint(rendered, sources, options))

    def plan(
        self, *, pull: bool = True, refresh_base: bool = False, locked: bool = True
    ) -> BuildPlan:
        """The plan from the project, its locks and settings; ``locked``: held to the conda
        lock (``plan.pinning``: refused when stale; its absence said once)."""
        from poetry_docker_plugin.lock.sizes import locked_sizes
        from poetry_docker_plugin.pipeline.cross import planned_natively
        from poetry_docker_plugin.pipeline.host_user import current_host_user
        from poetry_docker_plugin.plan.pinning import held_to_lock

        lock, request = self.poetry_lock, self.request  # read while the engine answers
        platform = request.platform or self.engine_platform
        probe = functools.partial(
            self.probe_base, platform=platform, pull=pull, refresh=refresh_base
        )
        host = current_host_user() if request.development else None
        plan = planned_natively(make_plan(
            self.project, lock, self.settings, platform=platform, tags=request.tags,
            probe_base=probe, editable=request.development, host_user=host,
            wheel_sizes=locked_sizes(lock.requirements, self.cache_dir / "wheel-sizes-v1.json"),
        ), self, pull=pull)  # fmt: skip
        plan = fitted_to_engine(plan, self.pending_platform, lambda: self.engine.named_podman)
        if not locked:
            return plan
        plan, unlocked = held_to_lock(plan, self.conda_lock)
        if unlocked and unlocked not in self.said:
            self.said.add(unlocked)
            self.say(f"<comment>{unlocked}</comment>")
        return plan

    @cached_property
    def conda_lock(self) -> CondaLock | None:
        """poetry-docker.lock beside poetry.lock, read (and checked) once; None without one."""
        from poetry_docker_plugin.conda_lock.file import read_conda_lock

        return read_conda_lock(self.project.root / CONDA_LOCK_FILE)

    def start_engine_platform(self, *, required: bool = True) -> None:
        """Asks the engine its platform (the target when --platform is not given), answered
        by ``engine_platform``; when not ``required`` (only files are written), this
        machine's stands in for an engine that cannot be asked."""
        from poetry_docker_plugin.engine.native_platform import start_server_platform

        self.platform_required = required
        try:
            self.pending_platform = start_server_platform(self.engine)
        except DockerPluginError:
            if required:
                raise

    @cached_property
    def engine_platform(self) -> Platform:
        from poetry_docker_plugin.engine.native_platform import platform_answered

        if self.platform_required is None:
            self.start_engine_platform()
        return platform_answered(self.pending_platform, required=bool(self.platform_required))

    def probe_base(
        self, reference: str, manager: str, *, platform: Platform, pull: bool, refresh: bool
    ) -> BaseImage:
        """The engine's look at a base image; without an engine, when only files are
        written (``pull`` false), the conventions of the published images."""
        from poetry_docker_plugin.pipeline.base_probe import PROBE_CACHE_FILE, probe_base_image

        try:
            engine = self.engine
        except DockerPluginError:
            if pull:
                raise
            return BaseImage(reference)
        cache = self.cache_dir / PROBE_CACHE_FILE  # a layout of its own (``base_probe``)
        return probe_base_image(
            engine, reference, manager, platform, cache, pull=pull, refresh=refresh
        )

    def ensure_image(
        self,
        prepared: Prepared,
        *,
        rebuild: bool = False,
        no_build: bool = False,
        announce_current: bool = False,
    ) -> Prepared:
        """The one policy of "is the image current": every tag names an image made from these
        inputs (and, when it is to be pushed, with the inline cache). Builds when it is not,
        or when ``rebuild``; ``no_build`` refuses instead. ``announce_current``: say that
        nothing was built (``build`` does; ``run`` and ``shell`` only with -v).

        Returns the plan that holds for the image (made again if the base image changed).
        """
        image = prepared.plan.image
        prepared, images = self.check_current(prepared, *prepared.plan.metadata.tags)
        current = images is not None and not self.stale(prepared, images)
        lacks_inline_cache = any(i.labels.get(INLINE_CACHE_LABEL) != "1" for i in images or [])
        if current and self.request.inline_cache and lacks_inline_cache:
            self.say(
                f"{image} was built without the inline cache that a pushed image carries: "
                "building it again with it (every step cached)."
            )
            current = False
        if no_build:
            if images is None:
                raise DockerPluginError(
                    f"The image {image} does not exist and --no-build forbids building it. "
                    "Run `poetry docker build` first, or drop --no-build."
                )
            if not current:
                raise DockerPluginError(
                    f"The image {image} is out of date with the project (its sources, lock, "
                    "settings or options changed) and --no-build forbids rebuilding it. Run "
                    "`poetry docker build` first, or drop --no-build."
                )
        elif rebuild or not current:
            self.build(prepared, forced=rebuild)
        else:
            verbosity = Verbosity.NORMAL if announce_current else Verbosity.VERBOSE
            self.say(f"{image} is up to date: nothing changed since it was built.", verbosity)
        return prepared

    def check_current(
        self, prepared: Prepared, *references: str
    ) -> tuple[Prepared, list[InspectedImage] | None]:
        """The images of ``references`` (None when one is missing), with the plan that holds.

        One ``docker image inspect`` answers for the images and the base together. When the
        base is not the image the plan looked at (rebuilt or pulled anew under the same
        name), the plan is made again from the base as it is now, and that plan is returned.
        """
        bases = prepared.plan.environment.bases
        images = self.inspect(*references, *(base.reference for base in bases))
        if images is None:
            if any(self.engine.image_id(base.reference) != base.id for base in bases):
                prepared = self.prepare(refresh_base=True)
            return prepared, None
        images, found = images[: len(references)], images[len(references) :]
        if bases_moved(found, [base.id for base in bases]):
            prepared = self.prepare(refresh_base=True)
        return prepared, images

    def stale(self, prepared: Prepared, images: list[InspectedImage]) -> bool:
        """Whether an image was made from other inputs; with -v, says which kind changed."""
        stale = stale_images(images, prepared.fingerprint)
        for image in stale[:1]:
            self.say_what_changed(prepared, image.labels)
        return bool(stale)

    def start_inspect_of_last_call(self) -> None:
        """Starts the ``image inspect`` that the last call of this project asked, before the
        plan is made: reading the lock and planning then overlap the engine's answer, which
        is most of what a call that changes nothing waits for. The answer is used only when
        the plan asks about the very same images (``inspect``)."""
        last = self.cache.last_inspected()
        if last is None:
            return
        try:
            self.speculative_inspect = self.engine.start_inspect(*last)
        except (DockerPluginError, OSError):
            self.speculative_inspect = None

    def inspect(self, *references: str) -> list[InspectedImage] | None:
        """``Engine.inspect``, answered by the inspect started ahead when it asked the same."""
        ahead, self.speculative_inspect = self.speculative_inspect, None
        if ahead is not None and ahead.references == references:
            return ahead.result()
        if ahead is not None:
            ahead.cancel()
        self.cache.record_inspected(references)
        self.cache.save()
        return self.engine.inspect(*references)

    def say_what_changed(self, prepared: Prepared, labels: dict[str, str]) -> None:
        """With -v: which kind of input differs from the one the image was built from."""
        reason = prepared.inputs.what_changed(labels)
        self.say(f"Rebuilding {prepared.plan.image}: {reason} changed", Verbosity.VERBOSE)

    def build(self, prepared: Prepared, *, forced: bool = False) -> None:
        """Stages the context and builds it, then moves every tag of the plan to the image
        (``tagging``). A build that waited for another of the project first asks whether that
        one made this very image (unless ``forced``): concurrent calls after an edit build once.
        """
        from poetry_docker_plugin.pipeline.image_build import build_untagged
        from poetry_docker_plugin.pipeline.staging import staged_context
        from poetry_docker_plugin.pipeline.tagging import move_tags, tags_now
        from poetry_docker_plugin.project.credentials import build_secrets, check_ssh_agent
        from poetry_docker_plugin.project.settings import ca_bundle_path
        from poetry_docker_plugin.util.interrupts import signals_raise
        from poetry_docker_plugin.util.oserrors import explained

        plan = prepared.plan
        engine = self.engine
        ca_bundle = ca_bundle_path(self.settings, self.project)  # checked before staging
        check_ssh_agent(plan.dependencies.ssh)
        self.say(
            f"Building <info>{plan.image}</info> (Python {plan.python}, "
            f"{plan.environment.manager} on {plan.environment.base.reference})"
        )
        with signals_raise(), self.serialised_builds() as waited, contextlib.ExitStack() as stack:
            if waited and not forced and self.built_meanwhile(prepared):
                return
            before = tags_now(engine, plan.metadata.tags)
            with explained(
                "stage the build context in the temporary folder (TMPDIR)",
                tempfile.gettempdir(),
                "Nothing was built.",
            ):
                context = stack.enter_context(staged_context(self.poetry, plan, prepared.rendered))
                channels = plan.environment.credentialed_channels
                secrets = stack.enter_context(
                    build_secrets(self.poetry, plan.dependencies.indexes, ca_bundle, channels)
                )
            image_id = build_untagged(
                engine,
                prepared,
                self.request,
                self.settings.cache_from,
                context,
                secrets,
                self.say,
                quiet=self.io.output.is_quiet(),
            )
            move_tags(engine, image_id, before, self.mutex_folder)
            self.tagged = (*plan.metadata.tags, image_id)  # what an interrupt then says

    def built_meanwhile(self, prepared: Prepared) -> bool:
        """Whether every tag now names an image of these inputs (made by the build waited for)."""
        _, images = self.check_current(prepared, *prepared.plan.metadata.tags)
        current = images is not None and not stale_images(images, prepared.fingerprint)
        if current and self.request.inline_cache:
            current = all(i.labels.get(INLINE_CACHE_LABEL) == "1" for i in images or [])
        if current:
            self.say(f"{prepared.plan.image} was built meanwhile by another call: using it.")
        return current

    def push(self, prepared: Prepared) -> str:
        """Pushes every tag of the image; the pushed reference of the first, by its digest."""
        from poetry_docker_plugin.pipeline.publish import push_tags

        return push_tags(
            self.engine, prepared.plan.metadata.tags, self.say, quiet=self.io.output.is_quiet()
        )

    @contextlib.contextmanager
    def serialised_builds(self) -> Iterator[bool]:
        """Serialises builds of one project (``util/file_locks``); whether it waited."""
        from poetry_docker_plugin.util.file_locks import project_lock

        lock = self.mutex_folder / f"build-{path_key(self.project.root)}.lock"
        with project_lock(lock, self.say) as waited:
            yield waited

    @cached_property
    def mutex_folder(self) -> Path:
        """Where the files that serialise builds and tag moves go: the cache folder, or another
        when it cannot be written (said once)."""
        from poetry_docker_plugin.util.file_locks import lock_folder

        return lock_folder(self.cache_dir, lambda warning: self.say(warning, Verbosity.QUIET))

    def emulation(self, prepared: Prepared) -> str:
        """ "linux/arm64 on linux/amd64" when the image's platform is not the engine's."""
        target = prepared.plan.environment.platform
        foreign = self.request.platform is not None and target != self.engine_platform
        return f"{target} on {self.engine_platform}" if foreign else ""

    def say(self, message: str, verbosity: Verbosity = Verbosity.NORMAL) -> None:
        """Progress, on stderr: stdout carries only the image reference."""
        self.io.write_error_line(message, verbosity=verbosity)
