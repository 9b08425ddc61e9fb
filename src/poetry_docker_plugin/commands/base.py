"""What ``build``, ``run`` and ``shell`` share: options and settings; the stages are the
builder's (pipeline/builder.py)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cleo.io.outputs.output import Verbosity
from poetry.console.commands.group_command import GroupCommand
from poetry.core.packages.dependency_group import MAIN_GROUP

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.freshness.current import KnownImage
    from poetry_docker_plugin.freshness.inputs import GivenInputs
    from poetry_docker_plugin.freshness.request import Prepared
    from poetry_docker_plugin.pipeline.builder import Builder
    from poetry_docker_plugin.platforms import Platform
    from poetry_docker_plugin.project.facts import ProjectFacts
    from poetry_docker_plugin.project.settings import Settings


class DockerCommand(GroupCommand):
    """What the commands share; each declares its options (with their help, from
    commands/options.py) and implements ``handle_docker``."""

    # The development image of ``shell``: editable project, all non-optional groups.
    development: ClassVar[bool] = False

    def handle(self) -> int:
        from poetry.console.exceptions import GroupNotFoundError

        from poetry_docker_plugin.util.tempdirs import sweep

        try:
            sweep()  # what killed calls left, whatever this call does
            self.check_option_combinations()
            return self.handle_docker()
        except KeyboardInterrupt as interrupt:
            from poetry_docker_plugin.util.interrupts import interrupted

            tagged = [b.tagged for b in self.builders if b.tagged]
            self.error(interrupted(interrupt, tagged, *self.unchanged_when_interrupted()))
            return int(getattr(interrupt, "exit_code", 130))
        except DockerPluginError as error:
            self.error(str(error))
            return error.exit_code
        except OSError as error:  # one no place above explained: still say where
            from poetry_docker_plugin.util.oserrors import describe

            where = error.filename or "a file of the project or of the plugin's cache"
            self.error(describe(error, f"run `poetry {self.name}`", where))
            return 1
        except GroupNotFoundError as error:
            self.error(f"{error}. Check the --with, --without and --only options.")
            return 1

    def unchanged_when_interrupted(self) -> tuple[str, ...]:
        """What an interrupt before anything was tagged leaves unchanged, when not only the
        images (``interrupted``'s default)."""
        return ()

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
    def project(self) -> ProjectFacts:
        """The project's own facts, read from Poetry once."""
        from poetry_docker_plugin.project.facts import ProjectFacts

        return ProjectFacts.read(self.poetry)

    @cached_property
    def settings(self) -> Settings:
        """``[tool.poetry-docker]`` with the command-line options applied over it."""
        from poetry_docker_plugin.project import settings as settings_module
        from poetry_docker_plugin.project.settings import load_settings, parse_option

        loaded = load_settings(self.project.settings_table, self.project.pyproject_path)
        overrides: dict[str, Any] = {
            "python": self._option("python", settings_module.python_version),
            "base_image": self._option("base-image", settings_module.image_reference),
            "runtime_base": self._option("runtime-base", settings_module.runtime_base),
            "env_manager": self._option("env-manager", settings_module.env_manager),
            "reproducible": True if self.given("reproducible") else None,
        }
        if self.given("cache-from"):
            overrides["cache_from"] = tuple(
                parse_option("cache-from", settings_module.image_reference, reference)
                for reference in self.given("cache-from")
            )
        extras = [e for value in self.option("extras") for e in value.replace(",", " ").split()]
        if self.option("all-extras"):
            overrides["extras"] = self.project.extras
        elif extras:
            overrides["extras"] = parse_option("extras", settings_module.group_names, extras)
        return loaded.override(**overrides)

    @property
    def default_groups(self) -> set[str]:
        """The main group (or, for development, every non-optional one) plus the setting's
        ``with``, minus its ``without``."""
        from poetry_docker_plugin.project.settings import check_declared_groups

        settings = self.settings
        check_declared_groups(settings, self.project)
        base = self.non_optional_groups if self.development else {MAIN_GROUP}
        return (base | set(settings.with_groups)) - set(settings.without_groups)

    @cached_property
    def requested_platforms(self) -> tuple[Platform, ...]:
        """The --platform option's platforms (comma-separated), none when not given."""
        from poetry_docker_plugin.platforms import parse_platforms
        from poetry_docker_plugin.project.settings import parse_option

        raw = self.option("platform")
        return () if raw is None else tuple(parse_option("platform", parse_platforms, raw))

    @cached_property
    def builder(self) -> Builder:
        """The stages, for the project with these settings and options (one platform: the
        one asked, else the engine's)."""
        platforms = self.target_platforms()
        if len(platforms) > 1:
            raise DockerPluginError(
                f"`poetry {self.name}` makes one image, for one platform, and --platform names "
                f"{len(platforms)}. Give one (`--platform {platforms[0]}`)."
            )
        return self.builder_for(platforms[0] if platforms else None)

    def target_platforms(self) -> tuple[Platform, ...]:
        """What the images are built for: --platform (none: the engine's own)."""
        return self.requested_platforms

    def builder_for(self, platform: Platform | None, tags: tuple[str, ...] = ()) -> Builder:
        """The stages for one platform (None: the engine's), with ``tags`` (or the plan's)."""
        from poetry_docker_plugin.freshness.inputs import ImageInputs
        from poetry_docker_plugin.freshness.request import BuildRequest
        from poetry_docker_plugin.pipeline.builder import Builder
        from poetry_docker_plugin.project.settings import ENV_KEY_RE, parse_assignments

        given, settings = self.given_inputs, self.settings
        request = BuildRequest(
            groups=frozenset(self.activated_groups),
            tags=tags or self.requested_tags(),
            platform=platform,
            build_args=parse_assignments("build-arg", self.given("build-arg") or [], ENV_KEY_RE),
            network=self.option("network"),
            no_cache=bool(self.option("no-cache")),
            development=self.development,
            inline_cache=self.writes_inline_cache(),
            epoch=given.epoch if settings.reproducible else None,
        )
        inputs = ImageInputs(given, settings, request)
        cache_dir = Path(self.poetry.config.get("cache-dir")) / "docker-plugin"
        builder = Builder(self.poetry, self.project, inputs, self.io, cache_dir)
        self.builders.append(builder)
        return builder

    @cached_property
    def builders(self) -> list[Builder]:
        """The builders this call made (what an interrupt then says comes from them)."""
        return []

    @property
    def engine(self) -> Engine:
        return self.builder.engine

    def ensure_image(self) -> Prepared:
        """The image of the project, built first when missing or stale (unless --no-build)."""
        prepared = self.builder.ensure_image(
            self.builder.prepare(),
            rebuild=bool(self.option("rebuild")),
            no_build=bool(self.option("no-build")),
        )
        if not self.development:
            from poetry_docker_plugin.pipeline.remembering import remember

            remember(self.builder, prepared, self.options_key())
        self.say_emulation(prepared.plan.image, self.builder.emulation(prepared))
        return prepared

    def say_emulation(self, image: str, emulation: str) -> None:
        """Once per call, when the container will run emulated: why it is slow."""
        if emulation:
            target, _, engine = emulation.partition(" on ")
            self.line_error(
                f"<comment>{image} is a {target} image and the engine runs {engine}: it runs "
                "under emulation (QEMU), where Python and compiled code are often 5 to 20 "
                f"times slower. For daily work, build for {engine} (drop --platform).</comment>"
            )

    @cached_property
    def given_inputs(self) -> GivenInputs:
        """What the command line and the environment give the image (``inputs``): read
        without Poetry, once, for the record's key and the builder alike."""
        from poetry_docker_plugin.freshness.inputs import GivenInputs

        values = {option.name: self.option(option.name) for option in self.options}
        # --tag is build's alone; a run without it shares the record of a build without it.
        tags = self.requested_tags()
        values["tag"] = list(tags) if tags else None
        return GivenInputs.read(
            values,
            self.project_directory(),
            development=self.development,
            conda_lock=self.has_conda_lock(),
        )

    def options_key(self) -> str:
        """The no-change record's key (``inputs.GivenInputs.record_key``)."""
        return self.given_inputs.record_key()

    def project_directory(self) -> Path:
        """The project's folder as Poetry would find it, without loading Poetry."""
        directory = getattr(self.get_application(), "project_directory", None) or Path.cwd()
        try:
            return project_root(Path(directory))
        except RuntimeError:
            return Path(directory)

    def has_conda_lock(self) -> bool:
        """Whether the project has a poetry-docker.lock (read without Poetry)."""
        from poetry_docker_plugin.conda_lock.file import CONDA_LOCK_FILE

        return (self.project_directory() / CONDA_LOCK_FILE).exists()

    def known_image(self) -> KnownImage | None:
        """The image the last call with these options left current, when no file it was made
        from changed and the engine still has it: found without loading the project through
        Poetry (whose start, with the lock's, is most of what such a call would cost).

        None whenever that cannot be shown: the project is then read as always.
        """
        from poetry_docker_plugin.engine.client import Engine
        from poetry_docker_plugin.freshness.current import shortcut_of

        application = self.get_application()
        try:
            directory = getattr(application, "project_directory", None) or Path.cwd()
            root = project_root(Path(directory))
            if (root / "poetry.toml").exists():  # may move the cache: ask Poetry
                return None
            known = shortcut_of(self.cache_dir_of_user(), root.resolve()).known_image(
                self.options_key()
            )
            if known is None:
                return None
            engine = Engine.find(echo=self.io.is_very_verbose())
            found = engine.inspect(*known.references)
        except (RuntimeError, OSError, DockerPluginError):
            return None
        return known if found is not None and known.is_current(found) else None

    @staticmethod
    def cache_dir_of_user() -> Path:
        """The plugin's folder in Poetry's cache, from the user's configuration alone."""
        from poetry.config.config import Config

        return Path(Config.create().get("cache-dir")) / "docker-plugin"

    def container_name(self, project_name: str) -> str:
        """The name given with --name, or a fresh one (to find the container after a signal)."""
        import secrets

        name: str = self.option("name") or f"{project_name}-{secrets.token_hex(4)}"
        return name

    def run_options(self, image: str) -> list[str]:
        """``docker run`` options shared by ``run`` and ``shell``."""
        from poetry_docker_plugin.engine.mounts import absolute_volume
        from poetry_docker_plugin.names import CONTAINER_IMAGE_LABEL

        options = ["--rm", "--init", "--interactive"]
        options += ["--label", f"{CONTAINER_IMAGE_LABEL}={image}"]
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
        for name in ("network", "gpus"):
            if self.option(name):
                options += [f"--{name}", self.option(name)]
        if self.requested_platforms:  # one, checked by ``builder``
            options += ["--platform", str(self.requested_platforms[0])]
        return options

    def requested_tags(self) -> tuple[str, ...]:
        return ()

    def writes_inline_cache(self) -> bool:
        """Whether builds write the inline cache into the image, for others to reuse."""
        return False

    def given(self, name: str) -> Any:
        """The option's value, or None when this command does not offer it (``lock`` offers
        none of the options that only a build uses)."""
        return self.option(name) if self.io.input.has_option(name) else None

    def _option(self, name: str, convert: Any) -> Any:
        from poetry_docker_plugin.project.settings import parse_option

        raw = self.option(name)
        return None if raw is None else parse_option(name, convert, raw)


def project_root(directory: Path) -> Path:
    """The folder of the pyproject.toml that Poetry would take for ``directory``: the nearest
    one in it or a parent (as ``Factory.locate``, without importing Poetry's factory)."""
    for folder in (directory.resolve(), *directory.resolve().parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no pyproject.toml in {directory} or a parent")
