"""Settings: what ``[tool.poetry-docker]`` accepts, and the errors for what it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.project.settings import (
    ENV_KEY_RE,
    Settings,
    load_settings,
    parse_assignments,
)

PYPROJECT = Path("/project/pyproject.toml")


def test_no_table_gives_the_defaults() -> None:
    assert load_settings(None, PYPROJECT) == Settings()


def test_every_key_is_read() -> None:
    settings = load_settings(
        {
            "base-image": "ghcr.io/org/base:1.0",
            "env-manager": "micromamba",
            "python": "3.12",
            "conda-packages": ["gdal>=3.8", "proj"],
            "conda-channels": ["conda-forge", "bioconda"],
            "apt-packages": ["libpq5", "curl=7.88.1-10"],
            "image": "registry.example.org:5000/team/app",
            "tags": ["dev", "1.0"],
            "workdir": "/srv/app",
            "env": {"MODE": "prod", "WORKERS": 4},
            "labels": {"org.example.team": "data"},
            "ports": [8000, "9000/udp"],
            "command": "gunicorn app:server --bind 0.0.0.0:8000",
            "with": ["dev"],
            "without": ["docs"],
            "extras": ["fast"],
            "user": "1000:1000",
            "cache-from": ["registry.example.org:5000/team/app:1.0", "team/app:cache"],
        },
        PYPROJECT,
    )
    assert settings.env == (("MODE", "prod"), ("WORKERS", "4"))
    assert settings.ports == ("8000", "9000/udp")
    assert settings.command == ("gunicorn", "app:server", "--bind", "0.0.0.0:8000")
    assert settings.conda_channels == ("conda-forge", "bioconda")
    assert settings.with_groups == ("dev",)
    assert settings.cache_from == ("registry.example.org:5000/team/app:1.0", "team/app:cache")


def test_command_as_a_list_is_kept_word_for_word() -> None:
    settings = load_settings({"command": ["python", "-c", "print('a b')"]}, PYPROJECT)
    assert settings.command == ("python", "-c", "print('a b')")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"base_image": "x"}, "Unknown key `base_image`"),
        ({"python": 3.12}, "Invalid value for `python`"),
        ({"python": "three"}, "is not a Python version"),
        ({"env-manager": "pipenv"}, "expected one of conda, micromamba, venv"),
        ({"apt-packages": "curl"}, "expected a list of strings"),
        ({"apt-packages": ["curl; rm -rf /"]}, "is not a Debian package name"),
        ({"conda-packages": ["gdal && curl evil"]}, "is not a conda package spec"),
        ({"env": {"A": "1\nRUN curl evil"}}, "control characters"),
        ({"env": {"BAD KEY": "1"}}, "is not a valid environment variable name"),
        ({"env": ["A=1"]}, "expected a table of strings"),
        ({"labels": {"a": True}}, "must be a string"),
        ({"image": "Upper/Case"}, "is not a valid image name"),
        ({"base-image": "bad image name"}, "is not a valid image reference"),
        ({"tags": ["no spaces allowed"]}, "is not a valid image tag"),
        ({"cache-from": "team/app:1.0"}, "expected a list of strings"),
        ({"cache-from": ["team/app:1.0 --push"]}, "is not a valid image reference"),
        ({"cache-from": ["team/app\nRUN x"]}, "control characters"),
        ({"workdir": "relative/path"}, "is not an absolute path"),
        ({"workdir": "/"}, "is not a plain absolute path"),
        ({"workdir": "/app/../etc"}, "is not a plain absolute path"),
        ({"workdir": "/app/"}, "is not a plain absolute path"),
        ({"workdir": "/etc"}, "lies in the system directory /etc"),
        ({"workdir": "/usr/local/bin"}, "lies in the system directory /usr"),
        ({"workdir": "/opt/conda/envs/x"}, "lies in the system directory /opt/conda"),
        ({"tags": ["café"]}, "is not a valid image tag"),
        ({"base-image": "app:日本"}, "is not a valid image reference"),
        ({"python": "3.\uff11\uff12"}, "is not a Python version"),  # full-width digits
        ({"ports": [70000]}, "is not a port"),
        ({"command": []}, "the command is empty"),
        ({"command": "echo 'unclosed"}, "cannot be split into words"),
    ],
)
def test_bad_values_name_the_key_and_the_file(table: dict[str, object], message: str) -> None:
    with pytest.raises(DockerPluginError) as caught:
        load_settings(table, PYPROJECT)
    assert message in str(caught.value)
    assert str(PYPROJECT) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_table_itself_must_be_a_table() -> None:
    with pytest.raises(DockerPluginError, match=r"must be a table"):
        load_settings("conda", PYPROJECT)


def test_command_line_values_win() -> None:
    settings = load_settings({"python": "3.11", "workdir": "/srv"}, PYPROJECT)
    assert settings.override(python="3.12", base_image=None).python == "3.12"
    assert settings.override(python=None).python == "3.11"


def test_assignments() -> None:
    assert parse_assignments("build-arg", ["A=1", "B=x=y", "C="], ENV_KEY_RE) == (
        ("A", "1"),
        ("B", "x=y"),
        ("C", ""),
    )
    with pytest.raises(DockerPluginError, match="--build-arg"):
        parse_assignments("build-arg", ["NOVALUE"], ENV_KEY_RE)
