"""What each key of ``[tool.poetry-docker]`` means, for the settings reference.

docs/reference/settings.md is generated from ``settings.CONVERTERS`` (the keys), the
``Settings`` dataclass (the fixed defaults) and this table (the words): scripts/docs_pages.py
writes it, and tests/unit/test_docs.py fails when a key has no entry here or the page is not
what the script would write. Imports nothing: the plugin never reads it at run time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SettingHelp:
    """One key's kind of value, its default when the plan decides it, an example and why."""

    kind: str
    text: str
    example: str
    # In words, when the default is decided by the plan; empty: the dataclass's default.
    default: str = ""


SETTINGS_HELP: dict[str, SettingHelp] = {
    "base-image": SettingHelp(
        "image reference",
        "The image to build on. Its manager (conda, micromamba or venv) is asked of the image "
        "itself unless `env-manager` says.",
        '"condaforge/miniforge3:25.3.1-0"',
        "`condaforge/miniforge3:25.3.1-0` for conda (and when nothing names a manager), "
        "`mambaorg/micromamba:2.3.0-debian12-slim` for micromamba, `python:X.Y-slim-bookworm` of "
        "the chosen Python for venv",
    ),
    "env-manager": SettingHelp(
        "`conda`, `micromamba` or `venv`",
        "How the environment is made. Unset, it is asked of the base image (once per image "
        "id): conda when `conda` is on its PATH, micromamba when `micromamba` is, else venv on "
        "its `python3`. The image's name is not read.",
        '"conda"',
        "what the base image holds",
    ),
    "python": SettingHelp(
        "`3.X`",
        "The image's Python. It must be allowed by the project's `python` constraint.",
        '"3.12"',
        "the newest minor version the constraint allows for which every locked package has a "
        "Linux wheel (or only an sdist); with venv, the base image's own",
    ),
    "conda-packages": SettingHelp(
        "list of conda specs",
        "conda or micromamba only: packages installed with the Python, in the environment's "
        "layer. A spec may name its channel (`conda-forge::gdal`).",
        '["gdal>=3.8"]',
    ),
    "conda-channels": SettingHelp(
        "list of channels",
        "Channel names, `http(s)://` URLs and `file://` URLs of channels inside the base image. "
        "Credentials in a URL are taken out of it and given to conda as a build secret.",
        '["conda-forge"]',
    ),
    "apt-packages": SettingHelp(
        "list of Debian package names",
        "Debian packages installed into the image, in a layer of their own.",
        '["libpq5"]',
    ),
    "build-apt-packages": SettingHelp(
        "list of Debian package names",
        "Debian packages for building sdists only, on every manager: installed in the stage "
        "that builds wheels, never in the runtime image (the system packages of well-known "
        "sdists come without it; see the system libraries guide).",
        '["libfoo-dev"]',
    ),
    "ignore-libraries": SettingHelp(
        "list of sonames or globs",
        "Shared libraries the image's library check does not look for (besides those the host "
        "provides at run time, such as the GPU driver's `libcuda.so.1`).",
        '["libfoo.so.1"]',
    ),
    "image": SettingHelp(
        "image name",
        "The image's name.",
        '"team/my-app"',
        "the project's name",
    ),
    "tags": SettingHelp(
        "list of tags",
        "The image's tags (`--tag` replaces them).",
        '["1.0", "latest"]',
        "the project's version and `latest`",
    ),
    "workdir": SettingHelp(
        "absolute path",
        "The image's working directory, created for the runtime user. A plain absolute path "
        "outside the system's directories (`/etc`, `/usr`, `/var`, `/opt/conda`, ...) and the "
        "environment.",
        '"/app"',
    ),
    "env": SettingHelp(
        "table of strings",
        "Variables set in the image (`ENV`).",
        '{ MODE = "production" }',
    ),
    "labels": SettingHelp(
        "table of strings",
        "Labels added to the image, beside the OCI labels from the project's metadata.",
        '{ "org.example.team" = "data" }',
    ),
    "ports": SettingHelp(
        "list of ports",
        "Ports the image exposes; `poetry docker run` publishes them unless `-p` is given.",
        "[8000]",
    ),
    "command": SettingHelp(
        "string or list of strings",
        "The image's default command (`CMD`).",
        '"gunicorn app:server"',
        "the project's one script, else `python`",
    ),
    "with": SettingHelp(
        "list of group names",
        "Dependency groups added to a command's default: the main group (build, run, lock), "
        "every non-optional group (shell, devcontainer).",
        '["web"]',
    ),
    "without": SettingHelp(
        "list of group names",
        "Dependency groups left out of a command's default.",
        "[]",
    ),
    "extras": SettingHelp(
        "list of extra names",
        "Extras of the project installed into the image.",
        '["fast"]',
    ),
    "user": SettingHelp(
        "user name or `uid[:gid]`",
        'The user the container runs as. `"root"` keeps root (so do `"0"`, `"00"` and '
        '`"0:1000"`, known by their uid).',
        '"app"',
        "an `app` account with uid 10001",
    ),
    "ca-bundle": SettingHelp(
        "path on the host",
        "A CA bundle for builds behind an intercepting proxy, relative to the project. Only its "
        "`-----BEGIN CERTIFICATE-----` blocks reach the build, as a secret; never copied.",
        '"certs/proxy-ca.pem"',
    ),
    "include": SettingHelp(
        "list of `.dockerignore` patterns",
        "Files beside the package copied into the workdir, in a layer after the project's "
        "(through the same exclusions as the sources). A pattern that names nothing is an "
        "error.",
        '["demo_script.py", "configs/"]',
    ),
    "runtime-base": SettingHelp(
        'image reference, or `"base"`',
        "conda and micromamba: the image the environment is copied into (the runtime stage). "
        '`"base"` keeps one stage, on the base image.',
        '"debian:bookworm-slim"',
        "`debian:bookworm-slim`",
    ),
    "cache-from": SettingHelp(
        "list of image references",
        "Images in a registry whose layers builds may reuse (`--cache-from` replaces them).",
        '["registry.example.org/team/app:latest"]',
    ),
    "platforms": SettingHelp(
        "list of platforms",
        "What `build --push` publishes, as one multi-platform reference, and what "
        "`poetry docker lock` locks.",
        '["linux/amd64", "linux/arm64"]',
        "the engine's own platform",
    ),
    "reproducible": SettingHelp(
        "`true` or `false`",
        "Bit-identical images: every time in the image from the inputs, never the clock "
        "(`--reproducible`).",
        "true",
    ),
}
