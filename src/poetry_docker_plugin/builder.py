"""Builder: the stages in their order for one image, and the build when the engine lacks it.

Commands hand over here as Poetry's ``install`` hands over to ``Installer``: the command reads
its options into a :class:`BuildRequest`; the builder plans, digests the sources, renders,
fingerprints, asks the engine whether an image of exactly these inputs exists, and builds it
when not.
"""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from cleo.io.outputs.output import Verbosity

from poetry_docker_plugin.context import Fingerprint, StatCache, fingerprint, source_digests
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan import LABEL_PREFIX, BaseImage, BuildPlan, HostUser, make_plan
from poetry_docker_plugin.render import RenderedFiles, render, render_key
from poetry_docker_plugin.requirements import check_lock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cleo.io.io import IO
    from poetry.poetry import Poetry

    from poetry_docker_plugin.engine import Engine, InspectedImage, PendingInspect
    from poetry_docker_plugin.settings import Settings

# Set on images built with BuildKit's inline cache: an image pushed without it is rebuilt
# (every step cached) with it first, so that what is pushed can serve as --cache-from.
INLINE_CACHE_LABEL = f"{LABEL_PREFIX}.inline-cache"


@dataclass(frozen=True)
class BuildRequest:
    """What the command line asks of the image, beyond the project's settings."""

    groups: frozenset[str]
    tags: tuple[str, ...] = ()
    platform: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    network: str | None = None
    no_cache: bool = False
    # The development image of ``shell``: the project editable, for the host's user.
    development: bool = False
    # Write BuildKit's inline cache into the image (for pushing), so that another machine's
    # build can reuse its layers through --cache-from.
    inline_cache: bool = False

    def fingerprint_options(self) -> dict[str, str]:
        """Build options that change the image without showing in the rendered files."""
        return {"platform": self.platform or "", "build-args": repr(self.build_args)}


@dataclass(frozen=True)
class Prepared:
    """A plan with its rendered files and the fingerprint of every input."""

    plan: BuildPlan
    rendered: RenderedFiles
    inputs: Fingerprint

    @property
    def fingerprint(self) -> str:
        return self.inputs.digest


class Builder:
    """One project's image: planned from its lock and settings, built only when stale."""

    def __init__(
        self,
        poetry: Poetry,
        settings: Settings,
        request: BuildRequest,
        io: IO,
        cache_dir: Path,
    ) -> None:
        self.poetry = poetry
        self.settings = settings
        self.request = request
        self.io = io
        self.cache_dir = cache_dir
        self.stat_cache = StatCache(cache_dir / "projects" / f"{path_key(self.root)}.json")
        # The ``image inspect`` of the images the last call asked about, started while the
        # plan is made (see ``prepare``); taken by the first ``check_current``.
        self.speculative_inspect: PendingInspect | None = None

    @cached_property
    def engine(self) -> Engine:
        from poetry_docker_plugin.engine import Engine

        return Engine.find(echo=self.io.is_very_verbose())

    @property
    def root(self) -> Path:
        return self.poetry.pyproject_path.parent

    def prepare(self, *, pull: bool = True, refresh_base: bool = False) -> Prepared:
        """Reads the project and lock, plans the image and renders its files.

        The base image is looked at (and pulled when ``pull`` and missing) once per image id;
        ``refresh_base`` looks again, for a base rebuilt under the same name.
        """
        if pull and not refresh_base:
            self.start_inspect_of_last_call()
        check_lock(self.poetry)
        request = self.request
        plan = make_plan(
            self.poetry,
            self.settings,
            request.groups,
            tags=request.tags,
            platform=request.platform,
            probe_base=functools.partial(self.base_image, pull=pull, refresh=refresh_base),
            editable=request.development,
            host_user=HostUser.current() if request.development else None,
        )
        environment = plan.environment
        self.say(
            f"Python {environment.python} ({environment.python_reason}); {environment.manager} "
            f"environment at {environment.prefix} ({environment.manager_reason}); base "
            f"{environment.base_image}",
            Verbosity.VERBOSE,
        )
        cache = self.stat_cache
        # The files' digests come first: the Dockerfile names them in the steps that mount them.
        sources = source_digests(self.poetry, plan, cache)
        rendered = cache.rendered(render_key(plan, sources), lambda: render(plan, sources))
        cache.save()
        base_ids = " ".join(base.id or "" for base in plan.environment.bases)
        options = {**request.fingerprint_options(), "base-image-id": base_ids}
        return Prepared(plan, rendered, fingerprint(rendered, sources, options))

    def base_image(self, reference: str, manager: str, *, pull: bool, refresh: bool) -> BaseImage:
        """The engine's look at the base image; without an engine, when only files are
        written (``pull`` false), the conventions of the published images."""
        try:
            engine = self.engine
        except DockerPluginError:
            if pull:
                raise
            return BaseImage(reference)
        cache = self.cache_dir / "base-images.json"
        return engine.base_image(reference, manager, cache, pull=pull, refresh=refresh)

    def check_current(self, prepared: Prepared, *references: str) -> tuple[Prepared, bool | None]:
        """Whether every image was built from exactly these inputs; None when one is missing.

        One ``docker image inspect`` answers for the images and the base together. When the
        base is not the image the plan looked at (rebuilt or pulled anew under the same
        name), the plan is made again from the base as it is now, and that plan is returned.
        """
        from poetry_docker_plugin.plan import FINGERPRINT_LABEL

        bases = prepared.plan.environment.bases
        images = self.inspect(*references, *(base.reference for base in bases))
        if images is None:
            if any(self.engine.image_id(base.reference) != base.id for base in bases):
                prepared = self.prepare(refresh_base=True)
            return prepared, None
        images, found = images[: len(references)], images[len(references) :]
        if [image.id for image in found] != [base.id for base in bases]:
            prepared = self.prepare(refresh_base=True)
        stale = [i for i in images if i.labels.get(FINGERPRINT_LABEL) != prepared.fingerprint]
        for image in stale[:1]:
            self.say_what_changed(prepared, image.labels)
        return prepared, not stale

    def start_inspect_of_last_call(self) -> None:
        """Starts the ``image inspect`` that the last call of this project asked, before the
        plan is made: reading the lock and planning then overlap the engine's answer, which
        is most of what a call that changes nothing waits for. The answer is used only when
        the plan asks about the very same images (``inspect``)."""
        last = self.stat_cache.data.get("inspected")
        if not isinstance(last, list) or not all(isinstance(x, str) for x in last):
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
        if self.stat_cache.data.get("inspected") != list(references):
            self.stat_cache.data["inspected"] = list(references)
            self.stat_cache.changed = True
            self.stat_cache.save()
        return self.engine.inspect(*references)

    def say_what_changed(self, prepared: Prepared, labels: dict[str, str]) -> None:
        """With -v: which kind of input differs from the one the image was built from."""
        from poetry_docker_plugin.plan import INPUTS_LABEL

        try:
            recorded = json.loads(labels.get(INPUTS_LABEL, "{}"))
        except ValueError:
            recorded = {}
        changed = prepared.inputs.changed_since(recorded) if recorded else []
        reason = ", ".join(changed) if changed else "the image predates this plugin's labels"
        self.say(f"Rebuilding {prepared.plan.image}: {reason} changed", Verbosity.VERBOSE)

    def ensure_image(self, prepared: Prepared, *, rebuild: bool, no_build: bool) -> Prepared:
        """Builds the image only when it is missing or its fingerprint differs from the inputs.

        Returns the plan that holds for the image (made again if the base image changed).
        """
        image = prepared.plan.image
        prepared, current = self.check_current(prepared, image)
        if no_build:
            if current is None:
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
            self.build(prepared)
        else:
            self.say(f"{image} is up to date", Verbosity.VERBOSE)
        return prepared

    def build(self, prepared: Prepared) -> None:
        """Stages the context and builds it, tagged with every tag of the plan."""
        from poetry_docker_plugin.context import staged_context
        from poetry_docker_plugin.credentials import build_secrets
        from poetry_docker_plugin.plan import FINGERPRINT_LABEL, INPUTS_LABEL

        plan = prepared.plan
        engine = self.engine
        ca_bundle = self.ca_bundle()  # checked before anything is staged
        engine.check_ssh_agent(plan.dependencies.ssh)
        self.say(
            f"Building <info>{plan.image}</info> (Python {plan.python}, "
            f"{plan.environment.manager} on {plan.environment.base_image})"
        )
        with (
            self.project_lock(),
            staged_context(self.poetry, plan, prepared.rendered) as context,
            build_secrets(
                self.poetry,
                plan.dependencies.indexes,
                ca_bundle,
                plan.environment.credentialed_channels,
            ) as secrets,
        ):
            labels = {
                FINGERPRINT_LABEL: prepared.fingerprint,
                INPUTS_LABEL: json.dumps(dict(prepared.inputs.parts), separators=(",", ":")),
            }
            build_args = self.request.build_args
            if self.request.inline_cache:
                build_args = (*build_args, ("BUILDKIT_INLINE_CACHE", "1"))
                labels[INLINE_CACHE_LABEL] = "1"
            engine.build(
                context,
                plan.metadata.tags,
                labels,
                no_cache=self.request.no_cache,
                platform=plan.environment.platform,
                build_args=build_args,
                secrets=secrets,
                network=self.request.network,
                quiet=self.io.output.is_quiet(),
                ssh=plan.dependencies.ssh,
                cache_from=self.settings.cache_from,
            )

    def lacks_inline_cache(self, *references: str) -> bool:
        """Whether an image was built without the inline cache (only asked when pushing)."""
        images = self.engine.inspect(*references) or []
        return any(image.labels.get(INLINE_CACHE_LABEL) != "1" for image in images)

    def push(self, prepared: Prepared) -> str:
        """Pushes every tag of the image; the pushed reference of the first, by its digest."""
        from poetry_docker_plugin.engine import repository_of

        pushed = []
        for tag in prepared.plan.metadata.tags:
            self.say(f"Pushing <info>{tag}</info>")
            digest = self.engine.push(tag, quiet=self.io.output.is_quiet())
            pushed.append(f"{repository_of(tag)}@{digest}")
            self.say(f"Pushed {tag} as {pushed[-1]}")
        return pushed[0]

    def ca_bundle(self) -> Path | None:
        """The ``ca-bundle`` setting as a file on the host (relative to the project)."""
        from poetry_docker_plugin.settings import TABLE

        setting = self.settings.ca_bundle
        if setting is None:
            return None
        path = (self.root / Path(setting).expanduser()).resolve()
        if not path.is_file():
            raise DockerPluginError(
                f"Invalid value for `ca-bundle` in [{TABLE}] of {self.poetry.pyproject_path}: "
                f"{path} is not a file. Point it at the PEM bundle of your proxy's certificate "
                "authority, or remove the key."
            )
        return path

    @contextlib.contextmanager
    def project_lock(self) -> Iterator[None]:
        """Serialises builds of one project, so that concurrent ones leave one consistent image.

        Without it, two builds finishing together could leave ``name:version`` and
        ``name:latest`` on different images. The second build waits, then finds every layer
        cached. The lock is filelock's (already in Poetry's dependency tree): ``flock`` on
        POSIX hosts, ``msvcrt.locking`` on Windows, where there is no ``fcntl``.
        """
        from filelock import FileLock, Timeout

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.cache_dir / f"build-{path_key(self.root)}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            self.say("Waiting for another build of this project to finish...")
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def say(self, message: str, verbosity: Verbosity = Verbosity.NORMAL) -> None:
        """Progress, on stderr: stdout carries only the image reference."""
        self.io.write_error_line(message, verbosity=verbosity)


def path_key(root: Path) -> str:
    """A short name for a project directory, for the files the plugin keeps about it."""
    import hashlib

    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
