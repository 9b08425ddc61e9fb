"""The plugin as users get it: ``poetry self add`` into a Poetry of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def index_url() -> str:
    """The index pip uses here: Poetry resolves the plugin's dependencies against it."""
    configured = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if configured:
        return configured
    from pip._internal.models.index import PyPI

    return str(os.environ.get("PIP_INDEX_URL") or PyPI.simple_url)


def test_poetry_self_add_registers_the_docker_commands(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "dist"
    poetry = str(Path(sys.executable).parent / "poetry")
    subprocess.run(
        [poetry, "build", "--format", "wheel", "--output", str(wheel_dir)], cwd=REPO, check=True
    )
    (wheel,) = wheel_dir.glob("poetry_docker_plugin-*.whl")

    venv = tmp_path / "poetry-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    version = subprocess.run(
        [poetry, "--version", "--no-plugins"], capture_output=True, text=True, check=True
    )
    poetry_version = version.stdout.split("version ")[1].strip(" )\n")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"poetry=={poetry_version}"], check=True
    )

    config = tmp_path / "config"
    config.mkdir()
    # PyPI's per-version JSON API is not served here: resolve through the simple index.
    (config / "pyproject.toml").write_text(
        f'[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = "index"\n'
        f'url = "{index_url()}"\npriority = "primary"\n'
    )
    env = {
        **os.environ,
        "POETRY_CONFIG_DIR": str(config),
        "POETRY_DATA_DIR": str(tmp_path / "data"),
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
    }
    isolated = str(venv / "bin" / "poetry")
    before = subprocess.run(
        [isolated, "list", "docker"], capture_output=True, text=True, env=env, check=False
    )
    assert before.returncode != 0, "a plain Poetry has no docker commands"

    added = subprocess.run(
        [isolated, "self", "add", str(wheel)], capture_output=True, text=True, env=env, check=False
    )
    assert added.returncode == 0, added.stdout + added.stderr

    listed = subprocess.run(
        [isolated, "list", "docker"], capture_output=True, text=True, env=env, check=True
    )
    for name in ("docker build", "docker run", "docker shell"):
        assert name in listed.stdout
    # The install check that the documentation gives: the sub-commands, exit 0.
    for check in (["docker"], ["docker", "--help"]):
        namespace = subprocess.run(
            [isolated, *check], capture_output=True, text=True, env=env, check=False
        )
        assert namespace.returncode == 0, namespace.stdout + namespace.stderr
        for name in ("build", "run", "shell", "lock", "devcontainer"):
            assert f"poetry docker {name} " in namespace.stdout

    # And how to remove it, as the documentation says.
    removed = subprocess.run(
        [isolated, "self", "remove", "poetry-docker-plugin"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert removed.returncode == 0, removed.stdout + removed.stderr
    after = subprocess.run(
        [isolated, "list", "docker"], capture_output=True, text=True, env=env, check=False
    )
    assert after.returncode != 0, "the docker commands are gone"


def test_pipx_inject_adds_the_docker_commands_to_a_pipx_poetry(tmp_path: Path) -> None:
    """The route for a Poetry installed with pipx (Debian's pipx, which scripts/dev installs):
    ``pipx inject poetry WHEEL``, and ``pipx runpip poetry uninstall`` to remove it."""
    poetry = str(Path(sys.executable).parent / "poetry")
    subprocess.run(
        [poetry, "build", "--format", "wheel", "--output", str(tmp_path / "dist")],
        cwd=REPO,
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("poetry_docker_plugin-*.whl")
    version = (
        subprocess.run(
            [poetry, "--version", "--no-plugins"], capture_output=True, text=True, check=True
        )
        .stdout.split("version ")[1]
        .strip(" )\n")
    )
    env = {
        **os.environ,
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "POETRY_CONFIG_DIR": str(tmp_path / "config"),
        "POETRY_CACHE_DIR": str(tmp_path / "cache"),
    }

    def pipx(*arguments: str) -> None:
        done = subprocess.run(["pipx", *arguments], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stdout + done.stderr

    pipx("install", f"poetry=={version}")
    pipx_poetry = str(tmp_path / "bin" / "poetry")
    plain = subprocess.run(
        [pipx_poetry, "list", "docker"], capture_output=True, text=True, env=env, check=False
    )
    assert plain.returncode != 0, "a plain Poetry has no docker commands"
    pipx("inject", "poetry", str(wheel))
    listed = subprocess.run(
        [pipx_poetry, "docker", "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "poetry docker build " in listed.stdout

    pipx("runpip", "poetry", "uninstall", "-y", "poetry-docker-plugin")
    gone = subprocess.run(
        [pipx_poetry, "list", "docker"], capture_output=True, text=True, env=env, check=False
    )
    assert gone.returncode != 0, "the docker commands are gone"
