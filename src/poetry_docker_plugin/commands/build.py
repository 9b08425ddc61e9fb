"""``poetry docker build``: an image of the project, from its lock file."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import option
from cleo.io.outputs.output import Verbosity

from poetry_docker_plugin.commands.base import DockerCommand
from poetry_docker_plugin.commands.options import (
    NO_CACHE_HELP,
    RUNTIME_GROUPS,
    image_options,
    platform_option,
    selection_options,
)
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from cleo.io.inputs.option import Option

    from poetry_docker_plugin.freshness.request import Prepared
    from poetry_docker_plugin.platforms import Platform


class BuildCommand(DockerCommand):
    name = "docker build"
    description = "Builds an image of the project from its poetry.lock."
    options: ClassVar[list[Option]] = [
        *selection_options(
            RUNTIME_GROUPS,
            "The network of the build's steps, as docker build --network (e.g. host, to reach "
            "an index or proxy on 127.0.0.1).",
        ),
        platform_option(
            "The image's platform, e.g. linux/arm64 (default: the engine's own); with --push, "
            "a comma-separated list makes one multi-platform image (default then: the platforms "
            "setting)."
        ),
        *image_options(),
        option(
            "tag",
            "t",
            "Name and tag the image, NAME[:TAG]; repeatable (replaces the default tags: the "
            "tags setting, else NAME:VERSION and NAME:latest).",
            flag=False,
            multiple=True,
        ),
        option(
            "print",
            None,
            "Print the Dockerfile, then entrypoint.sh and activate.sh (each after a "
            "`# ---- NAME ----` line), instead of building.",
        ),
        option(
            "output",
            "o",
            "Write the Dockerfile, entrypoint.sh, activate.sh and the staged build context to "
            "this new directory, instead of building.",
            flag=False,
        ),
        option(
            "sbom",
            None,
            "Also write the image's SBOM (CycloneDX JSON) to this file, also when nothing "
            "changed and no build is needed.",
            flag=False,
        ),
        option(
            "push",
            None,
            "Push every tag (with the engine's credentials), also when nothing changed, and "
            "print the pushed reference by digest (name@sha256:...).",
        ),
        option(
            "digest-file",
            None,
            "With --push: write the pushed reference (name@sha256:...) to this file.",
            flag=False,
        ),
    ]
    help = (
        """Builds an image of the project: the locked dependencies of the selected groups and
extras, the project's wheel and a generated entrypoint that activates the environment.

Settings come from <comment>[tool.poetry-docker]</comment> in pyproject.toml; options win.

"""
        + NO_CACHE_HELP
    )

    def handle_docker(self) -> int:
        from poetry_docker_plugin.pipeline.remembering import remember
        from poetry_docker_plugin.pipeline.sbom_file import write_sbom
        from poetry_docker_plugin.util.output_files import output_file

        writes_files = self.option("print") or self.option("output")
        root = self.project_directory().resolve()
        sbom, digest_file = (
            output_file(f"--{name}", value, example, root) if (value := self.option(name)) else None
            for name, example in (("sbom", "sbom.cdx.json"), ("digest-file", "image.digest"))
        )
        if len(self.target_platforms()) > 1:
            return self.publish_platforms(digest_file)
        if self.may_answer_from_record() and (known := self.known_image()) is not None:
            self.line_error(f"{known.image} is up to date: nothing changed since it was built.")
            self.io.write_line(known.image, verbosity=Verbosity.QUIET)
            return 0
        prepared = self.builder.prepare(pull=not writes_files)
        if self.option("print"):
            self.io.write(prepared.rendered.dockerfile)
            self.io.write_line("# ---- entrypoint.sh ----")
            self.io.write(prepared.rendered.entrypoint)
            self.io.write_line("# ---- activate.sh ----")
            self.io.write(prepared.rendered.activate)
            return 0
        if self.option("output"):
            self.write_output(prepared, Path(self.option("output")))
            return 0
        prepared = self.builder.ensure_image(
            prepared, rebuild=bool(self.option("no-cache")), announce_current=True
        )
        remember(self.builder, prepared, self.options_key())
        if sbom is not None:
            write_sbom(self.engine, prepared.plan.image, sbom)
            self.line_error(f"Wrote the SBOM of {prepared.plan.image} to {sbom}")
        reference = prepared.plan.image
        if self.option("push"):
            reference = self.builder.push(prepared)
        return self.published(reference, prepared.plan.metadata.tags, digest_file)

    def published(self, reference: str, tags: tuple[str, ...], digest_file: Path | None) -> int:
        """The reference alone on stdout, even with -q (``IMAGE=$(poetry docker build -q)``),
        and in --digest-file when pushed."""
        from poetry_docker_plugin.util.output_files import write_atomically

        if digest_file is not None:
            write_atomically(
                "--digest-file",
                digest_file,
                f"{reference}\n".encode(),
                done=f"The push of {', '.join(tags)} went through, as {reference}",
            )
        self.io.write_line(reference, verbosity=Verbosity.QUIET)
        return 0

    def publish_platforms(self, digest_file: Path | None) -> int:
        """One image per platform, each from the same lock, pushed under per-platform tags
        (``1.0-arm64``, as multi-arch images are published by hand); then each tag pushed as
        one list of them. The list's reference, by digest, goes to stdout."""
        from poetry_docker_plugin.pipeline.publish import publish_platforms
        from poetry_docker_plugin.plan.decide import default_tags

        project, settings = self.project, self.settings
        tags = self.requested_tags() or default_tags(
            settings, project.image_name, project.version or "latest", editable=False
        )
        builders = [
            self.builder_for(platform, tuple(f"{t}-{platform.tag_suffix}" for t in tags))
            for platform in self.target_platforms()
        ]
        rebuild = bool(self.option("no-cache"))
        reference = publish_platforms(builders, tags, self.line_error, rebuild=rebuild)
        return self.published(reference, tags, digest_file)

    def target_platforms(self) -> tuple[Platform, ...]:
        """--platform, else with --push the `platforms` setting (what is published)."""
        requested = self.requested_platforms
        return requested or (self.settings.platforms if self.option("push") else ())

    def check_option_combinations(self) -> None:
        super().check_option_combinations()
        platforms = self.target_platforms()
        if len(platforms) > 1 and not self.option("push"):
            names = ", ".join(map(str, platforms))
            raise DockerPluginError(
                f"--platform names {len(platforms)} platforms ({names}): together they make "
                "one multi-platform reference, which only a registry holds (an engine's image "
                "store keeps one platform per tag, as `docker buildx` says too). Add --push to "
                "publish them, or build one platform at a time."
            )
        if len(platforms) > 1 and self.option("sbom"):
            raise DockerPluginError(
                "--sbom writes one image's SBOM, and several platforms are built. Drop --sbom, "
                "or build one platform with --sbom (each image also holds its own SBOM)."
            )
        for name in ("output", "sbom", "digest-file"):
            value = self.option(name)
            # `--output "$UNSET"` gives an empty string: taken as absent, it would build.
            if value is not None and not value.strip():
                raise DockerPluginError(
                    f"The --{name} option is empty: it needs a path (an unset variable in the "
                    f"command line gives an empty one). Give the path, or drop --{name}."
                )
        if self.option("sbom") and (self.option("print") or self.option("output")):
            raise DockerPluginError(
                "--sbom writes the SBOM of the built image, and --print and --output build "
                "none. Drop --sbom, or build the image."
            )
        if self.option("push") and (self.option("print") or self.option("output")):
            raise DockerPluginError(
                "--push pushes a built image, and --print and --output build none. Drop one of "
                "them."
            )
        if self.option("digest-file") and not self.option("push"):
            raise DockerPluginError(
                "--digest-file writes the digest of a pushed image: add --push, or drop "
                "--digest-file."
            )

    def may_answer_from_record(self) -> bool:
        """Whether a current image is all this call needs: no files to write, nothing to push
        or read from the image, no rebuild asked for."""
        asks_more = ("print", "output", "sbom", "push", "digest-file", "no-cache")
        return not any(self.option(name) for name in asks_more)

    def writes_inline_cache(self) -> bool:
        return bool(self.option("push"))

    def requested_tags(self) -> tuple[str, ...]:
        return tuple(parse_tag(tag) for tag in self.option("tag"))

    def write_output(self, prepared: Prepared, target: Path) -> None:
        """Writes the context to ``target`` whole, or not at all."""
        from poetry_docker_plugin.pipeline.staging import write_context
        from poetry_docker_plugin.util.oserrors import explained
        from poetry_docker_plugin.util.output_files import refuse_project_links

        refuse_project_links("--output directory", target.absolute(), self.project.root.resolve())
        target = target.resolve()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise DockerPluginError(
                f"The --output directory {target} already exists and is not empty. Remove it "
                "or choose another directory: nothing is overwritten."
            )
        with explained("write the --output directory", target, "Nothing was written there."):
            target.parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
            try:
                write_context(self.poetry, prepared.plan, prepared.rendered, scratch)
                if target.exists():
                    target.rmdir()
                scratch.rename(target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        self.line_error(f"Wrote the Dockerfile, entrypoint.sh and build context to {target}")


def parse_tag(reference: str) -> str:
    """A ``--tag`` value as a full reference; a bare name gets ``:latest`` as docker does."""
    from poetry_docker_plugin.engine.refs import with_default_tag
    from poetry_docker_plugin.project.settings import image_reference, parse_option

    reference = parse_option("tag", image_reference, reference)
    return with_default_tag(reference)
