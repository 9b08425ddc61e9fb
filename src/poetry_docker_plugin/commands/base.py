"""What ``build``, ``run`` and ``shell`` share: options, settings, and the plan-render steps."""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cleo.helpers import option
from cleo.io.outputs.output import Verbosity
from poetry.console.commands.group_command import GroupCommand
from poetry.core.packages.dependency_group import MAIN_GROUP

from poetry_docker_plugin import settings as settings_module
from poetry_docker_plugin.context import Fingerprint, StatCache, fingerprint, source_digests
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan import BaseImage, BuildPlan, HostUser, make_plan
from poetry_docker_plugin.render import RenderedFiles, render
from poetry_docker_plugin.requirements import check_lock
from poetry_docker_plugin.settings import Settings, load_settings, parse_option

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cleo.io.inputs.option import Option

    from poetry_docker_plugin.engine import Engine


@dataclass(frozen=True)
class Prepared:
    """A plan with its rendered files and the fingerprint of every input."""

    plan: BuildPlan
    rendered: RenderedFiles
    inputs: Fingerprint

    @property
    def fingerprint(self) -> str:
        return self.inputs.digest


class DockerCommand(GroupCommand):
    """Shared options; subclasses implement ``handle_docker``."""

    # The development image of ``shell``: editable project, all non-optional groups.
    development: ClassVar[bool] = False

    build_options: ClassVar[list[Option]] = [
        *GroupCommand._group_dependency_options(),
        option("extras", "E", "Extra sets of dependencies to install.", flag=False, multiple=True),
        option("all-extras", None, "Install all extra dependencies."),
        option("all-groups", None, "Install dependencies from all groups."),
        option("python", None, "The image's Python version (X.Y).", flag=False),
        option("base-image", None, "The image to build on.", flag=False),
        option(
            "runtime-base",
            None,
            'The runtime stage\'s base for conda environments ("base": none).',
            flag=False,
        ),
        option("env-manager", None, "conda, micromamba or venv.", flag=False),
        option("platform", None, "The target platform, e.g. linux/amd64.", flag=False),
        option("build-arg", None, "A build-time variable, KEY=VALUE.", flag=False, multiple=True),
        option("network", None, "The network of the build and container, e.g. host.", flag=False),
    ]
    container_options: ClassVar[list[Option]] = [
        option("rebuild", None, "Build the image even when it is up to date."),
        option("no-build", None, "Fail instead of building when the image is missing or stale."),
        option(
            "env", "e", "Set a variable in the container, KEY=VALUE.", flag=False, multiple=True
        ),
        option("publish", "p", "Publish a port, as with docker run -p.", flag=False, multiple=True),
        option(
            "volume", None, "Bind-mount a volume, as with docker run -v.", flag=False, multiple=True
        ),
        option("name", None, "The container's name.", flag=False),
        option("gpus", None, "GPUs to add, as with docker run --gpus.", flag=False),
    ]

    def handle(self) -> int:
        from poetry.console.exceptions import GroupNotFoundError

        try:
            self.check_option_combinations()
            return self.handle_docker()
        except KeyboardInterrupt:
            self.error(
                "Interrupted: nothing was tagged, and any previous image of the project is "
                "unchanged."
            )
            return 130
        except DockerPluginError as error:
            self.error(str(error))
            return error.exit_code
        except GroupNotFoundError as error:
            self.error(f"{error}. Check the --with, --without and --only options.")
            return 1

    def error(self, message: str) -> None:
        """An error, on stderr even with -q: quiet silences progress, never failures."""
        self.line_error(f"<error>{message}</error>", verbosity=Verbosity.QUIET)

    def handle_docker(self) -> int:
        raise NotImplementedError

    def check_option_combinations(self) -> None:
        """Refuses what ``poetry install`` refuses, with its words."""
        if self.option("extras") and self.option("all-extras"):
            raise DockerPluginError(
                "You cannot specify explicit --extras while installing using --all-extras. "
                "Drop one of them."
            )
        if self.option("all-groups") and any(self.option(k) for k in ("with", "without", "only")):
            raise DockerPluginError(
                "You cannot specify --with, --without, or --only when using --all-groups. "
                "Drop one of them."
            )

    @cached_property
    def engine(self) -> Engine:
        from poetry_docker_plugin.engine import Engine

        return Engine.find(echo=self.io.is_very_verbose())

    @property
    def cache_dir(self) -> Path:
        """The plugin's folder in Poetry's cache directory."""
        return Path(self.poetry.config.get("cache-dir")) / "docker-plugin"

    @cached_property
    def settings(self) -> Settings:
        """``[tool.poetry-docker]`` with the command-line options applied over it."""
        table = self.poetry.pyproject.data.get("tool", {}).get("poetry-docker")
        loaded = load_settings(table, self.poetry.pyproject_path)
        overrides: dict[str, Any] = {
            "python": self._option("python", settings_module.python_version),
            "base_image": self._option("base-image", settings_module.image_reference),
            "runtime_base": self._option("runtime-base", settings_module.runtime_base),
            "env_manager": self._option("env-manager", settings_module.env_manager),
        }
        extras = [e for value in self.option("extras") for e in value.replace(",", " ").split()]
        if self.option("all-extras"):
            overrides["extras"] = tuple(self.poetry.package.extras)
        elif extras:
            overrides["extras"] = parse_option("extras", settings_module.group_names, extras)
        return loaded.override(**overrides)

    @property
    def default_groups(self) -> set[str]:
        """The main group (or, for development, every non-optional one) plus the setting's
        ``with``, minus its ``without``."""
        settings = self.settings
        for key, names in (("with", settings.with_groups), ("without", settings.without_groups)):
            unknown = [n for n in names if not self.poetry.package.has_dependency_group(n)]
            if unknown:
                raise DockerPluginError(
                    f"Invalid value for `{key}` in [{settings_module.TABLE}] of "
                    f"{self.poetry.pyproject_path}: group(s) {', '.join(unknown)} are not "
                    "declared. Fix the names or declare the groups."
                )
        base = self.non_optional_groups if self.development else {MAIN_GROUP}
        return (base | set(settings.with_groups)) - set(settings.without_groups)

    def prepare(self, *, pull: bool = True, refresh_base: bool = False) -> Prepared:
        """Reads the project and lock, plans the image and renders its files.

        The base image is looked at (and pulled when ``pull`` and missing) once per image id;
        ``refresh_base`` looks again, for a base rebuilt under the same name.
        """
        check_lock(self.poetry)
        settings = self.settings
        plan = make_plan(
            self.poetry,
            settings,
            self.activated_groups,
            tags=self.requested_tags(),
            platform=self.option("platform"),
            probe_base=functools.partial(self.base_image, pull=pull, refresh=refresh_base),
            editable=self.development,
            host_user=HostUser.current() if self.development else None,
        )
        environment = plan.environment
        self.line_error(
            f"Python {environment.python} ({environment.python_reason}); {environment.manager} "
            f"environment at {environment.prefix} ({environment.manager_reason}); base "
            f"{environment.base_image}",
            verbosity=self._verbose(),
        )
        root = self.poetry.pyproject_path.parent
        cache = StatCache(self.cache_dir / "projects" / f"{_path_key(root)}.json")
        # The files' digests come first: the Dockerfile names them in the steps that mount them.
        sources = source_digests(self.poetry, plan, cache)
        cache.save()
        rendered = render(plan, sources)
        base_ids = " ".join(base.id or "" for base in plan.environment.bases)
        options = {**self.fingerprint_options(), "base-image-id": base_ids}
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
        images = self.engine.inspect(*references, *(base.reference for base in bases))
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

    def say_what_changed(self, prepared: Prepared, labels: dict[str, str]) -> None:
        """With -v: which kind of input differs from the one the image was built from."""
        from poetry_docker_plugin.plan import INPUTS_LABEL

        try:
            recorded = json.loads(labels.get(INPUTS_LABEL, "{}"))
        except ValueError:
            recorded = {}
        changed = prepared.inputs.changed_since(recorded) if recorded else []
        reason = ", ".join(changed) if changed else "the image predates this plugin's labels"
        self.line_error(
            f"Rebuilding {prepared.plan.image}: {reason} changed", verbosity=self._verbose()
        )

    def ensure_image(self, prepared: Prepared) -> Prepared:
        """Builds the image only when it is missing or its fingerprint differs from the inputs.

        Returns the plan that holds for the image (made again if the base image changed).
        """
        image = prepared.plan.image
        prepared, current = self.check_current(prepared, image)
        if self.option("no-build"):
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
        elif self.option("rebuild") or not current:
            build_image(self, prepared)
        else:
            self.line_error(f"{image} is up to date", verbosity=self._verbose())
        return prepared

    def container_name(self, plan: BuildPlan) -> str:
        """The name given with --name, or a fresh one (to find the container after a signal)."""
        import secrets

        name: str = self.option("name") or f"{plan.project.name}-{secrets.token_hex(4)}"
        return name

    def run_options(self, plan: BuildPlan) -> list[str]:
        """``docker run`` options shared by ``run`` and ``shell``."""
        from poetry_docker_plugin.plan import LABEL_PREFIX

        options = ["--rm", "--init", "--interactive"]
        options += ["--label", f"{LABEL_PREFIX}.image={plan.image}"]
        for value in self.option("env"):
            if not value or value.startswith("="):
                raise DockerPluginError(
                    f"Invalid value for option --env: {value!r} is not of the form KEY=VALUE "
                    "or KEY."
                )
            options += ["--env", value]
        for value in self.option("publish"):
            options += ["--publish", value]
        for value in self.option("volume"):
            options += ["--volume", absolute_volume(value)]
        for name in ("network", "gpus", "platform"):
            if self.option(name):
                options += [f"--{name}", self.option(name)]
        return options

    def requested_tags(self) -> tuple[str, ...]:
        return ()

    def build_args(self) -> tuple[tuple[str, str], ...]:
        return settings_module.parse_assignments(
            "build-arg", self.option("build-arg"), settings_module.ENV_KEY_RE
        )

    def ca_bundle(self) -> Path | None:
        """The ``ca-bundle`` setting as a file on the host (relative to the project)."""
        setting = self.settings.ca_bundle
        if setting is None:
            return None
        path = (self.poetry.pyproject_path.parent / Path(setting).expanduser()).resolve()
        if not path.is_file():
            raise DockerPluginError(
                f"Invalid value for `ca-bundle` in [{settings_module.TABLE}] of "
                f"{self.poetry.pyproject_path}: {path} is not a file. Point it at the PEM "
                "bundle of your proxy's certificate authority, or remove the key."
            )
        return path

    def fingerprint_options(self) -> dict[str, str]:
        """Build options that change the image without showing in the rendered files."""
        return {
            "platform": self.option("platform") or "",
            "build-args": repr(self.build_args()),
        }

    def _option(self, name: str, convert: Any) -> Any:
        raw = self.option(name)
        return None if raw is None else parse_option(name, convert, raw)

    @staticmethod
    def _verbose() -> Any:
        return Verbosity.VERBOSE


def build_image(command: DockerCommand, prepared: Prepared) -> None:
    """Stages the context and builds it, tagged with every tag of the plan."""
    from poetry_docker_plugin.context import staged_context
    from poetry_docker_plugin.credentials import build_secrets
    from poetry_docker_plugin.plan import FINGERPRINT_LABEL, INPUTS_LABEL

    plan = prepared.plan
    engine = command.engine
    ca_bundle = command.ca_bundle()  # checked before anything is staged
    engine.check_ssh_agent(plan.dependencies.ssh)
    command.line_error(
        f"Building <info>{plan.image}</info> (Python {plan.python}, "
        f"{plan.environment.manager} on {plan.environment.base_image})"
    )
    with (
        project_lock(command.poetry.pyproject_path.parent, command),
        staged_context(command.poetry, plan, prepared.rendered) as context,
        build_secrets(
            command.poetry,
            plan.dependencies.indexes,
            ca_bundle,
            plan.environment.credentialed_channels,
        ) as secrets,
    ):
        engine.build(
            context,
            plan.metadata.tags,
            {
                FINGERPRINT_LABEL: prepared.fingerprint,
                INPUTS_LABEL: json.dumps(dict(prepared.inputs.parts), separators=(",", ":")),
            },
            no_cache=bool(command.option("no-cache")),
            platform=plan.environment.platform,
            build_args=command.build_args(),
            secrets=secrets,
            network=command.option("network"),
            quiet=command.io.output.is_quiet(),
            ssh=plan.dependencies.ssh,
        )


@contextlib.contextmanager
def project_lock(root: Path, command: DockerCommand) -> Iterator[None]:
    """Serialises builds of one project, so that concurrent ones leave one consistent image.

    Without it, two builds finishing together could leave ``name:version`` and
    ``name:latest`` on different images. The second build waits, then finds every layer
    cached.
    """
    import fcntl

    command.cache_dir.mkdir(parents=True, exist_ok=True)
    path = command.cache_dir / f"build-{_path_key(root)}.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            command.line_error("Waiting for another build of this project to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def absolute_volume(value: str) -> str:
    """A ``--volume`` whose source is a relative path (``./src:/mnt``), made absolute.

    docker takes a source without a slash for a named volume, and refuses relative paths.
    """
    source, separator, rest = value.partition(":")
    if separator and (source.startswith((".", "~")) or ("/" in source and source[0] != "/")):
        source = str(Path(source).expanduser().resolve())
    return f"{source}{separator}{rest}"


def bind_mount(source: Path, target: str) -> str:
    """A ``--mount`` value for a bind mount: unlike ``--volume``, it takes any path (a ``:``
    in it included); its fields are CSV, so each is quoted as CSV quotes."""
    import csv
    import io

    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(
        ["type=bind", f"source={source}", f"target={target}"]
    )
    return line.getvalue()


def _path_key(root: Path) -> str:
    """A short name for a project directory, for the files the plugin keeps about it."""
    import hashlib

    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
