"""Dependencies of every kind: path projects, sdists, git commits and URLs.

Git repositories and archives are served on 127.0.0.1 by the test itself (git daemon and
an HTTP server); builds that need them run on the host network.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, docker, run_poetry
from poetry.core.factory import Factory
from poetry.core.masonry.builders.sdist import SdistBuilder
from poetry.core.masonry.builders.wheel import WheelBuilder


def build(project: Path, base_image: str, tag: str, *options: str) -> str:
    result = run_poetry(
        project, "docker", "build", "--base-image", base_image, "--tag", tag, *options
    )
    assert result.returncode == 0, result.output
    return result.output


def test_missing_path_dependency(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "monorepo")
    shutil.rmtree(tmp_path / "monorepo" / "libs" / "mathlib")
    result = run_poetry(tmp_path / "monorepo" / "app", "docker", "build", "--print")
    assert result.returncode == 1
    assert "mathlib" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output


def make_package(directory: Path, name: str, version: str) -> Path:
    """A tiny poetry-core project whose module says its name and version."""
    project = directory / f"{name}-src"
    (project / name).mkdir(parents=True)
    (project / name / "__init__.py").write_text(f'WHO = "{name} {version}"\n')
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\n\n'
        '[build-system]\nrequires = ["poetry-core>=2.0,<3"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    return project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_repository(source: Path, bare: Path) -> str:
    """Commits ``source`` on branch main and clones it bare to ``bare``; the commit's hash."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=source, check=True)
    subprocess.run([*git, "add", "."], cwd=source, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], cwd=source, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(bare)], check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A git repository (git daemon) and a wheel and an sdist (HTTP), all on 127.0.0.1."""
    repositories = tmp_path / "git"
    commit = bare_repository(make_package(tmp_path, "gitpkg", "0.3.0"), repositories / "gitpkg.git")
    git_port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={repositories}",
         "--listen=127.0.0.1", f"--port={git_port}", str(repositories)],
    )  # fmt: skip

    archives = tmp_path / "archives"
    archives.mkdir()
    wheel = WheelBuilder.make_in(
        Factory().create_poetry(make_package(tmp_path, "urlwheel", "1.0.0")), archives
    )
    SdistBuilder(Factory().create_poetry(make_package(tmp_path, "urlsdist", "2.0.0"))).build(
        archives
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(archives))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", git_port)) == 0:
                break
        time.sleep(0.1)
    http_root = f"http://127.0.0.1:{server.server_address[1]}"
    yield {
        "git": f"git://127.0.0.1:{git_port}/gitpkg.git",
        "commit": commit,
        "wheel": f"{http_root}/{wheel}",
        "sdist": f"{http_root}/urlsdist-2.0.0.tar.gz",
    }
    server.shutdown()
    server.server_close()
    daemon.terminate()
    daemon.wait()


def make_c_extension(directory: Path) -> Path:
    """A setuptools project with a C extension: it needs a compiler and Python's headers."""
    project = directory / "cspeed"
    (project / "cspeed").mkdir(parents=True)
    (project / "cspeed" / "__init__.py").write_text("from cspeed._speed import add\n")
    (project / "cspeed" / "_speed.c").write_text(
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n\n"
        "static PyObject *add(PyObject *self, PyObject *args) {\n"
        "    long a, b;\n"
        '    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;\n'
        "    return PyLong_FromLong(a + b);\n}\n\n"
        'static PyMethodDef methods[] = {{"add", add, METH_VARARGS, NULL},\n'
        "    {NULL, NULL, 0, NULL}};\n"
        'static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};\n'
        "PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }\n"
    )
    (project / "setup.py").write_text(
        "from setuptools import Extension, setup\n\n"
        'setup(ext_modules=[Extension("cspeed._speed", ["cspeed/_speed.c"])])\n'
    )
    (project / "pyproject.toml").write_text(
        '[project]\nname = "cspeed"\nversion = "1.0.0"\nrequires-python = ">=3.9"\n\n'
        '[tool.setuptools]\npackages = ["cspeed"]\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    return project


SSH_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def ssh_git_project(directory: Path, url: str, commit: str = SSH_COMMIT) -> Path:
    """A project with one git dependency over SSH, locked by hand (nothing to clone here)."""
    from poetry.factory import Factory as PoetryFactory

    project = directory / "ssh-git"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = ">=3.9,<4"\n'
        f'sshpkg = {{ git = "{url}", rev = "main" }}\n\n'
        '[tool.poetry-docker]\ncommand = ["python", "-c", "import sshpkg; print(sshpkg.WHO)"]\n'
    )
    content_hash = PoetryFactory().create_poetry(project).locker._get_content_hash()
    (project / "poetry.lock").write_text(
        '[[package]]\nname = "sshpkg"\nversion = "0.3.0"\ndescription = ""\noptional = false\n'
        'python-versions = "*"\ngroups = ["main"]\nfiles = []\ndevelop = false\n\n'
        f'[package.source]\ntype = "git"\nurl = "{url}"\nreference = "main"\n'
        f'resolved_reference = "{commit}"\n\n'
        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9,<4"\n'
        f'content-hash = "{content_hash}"\n'
    )
    assert run_poetry(project, "check", "--lock").returncode == 0
    return project


SSHD_DOCKERFILE = """FROM {base}
RUN apt-get update && apt-get install --yes --no-install-recommends openssh-server git \\
    && ssh-keygen -A && mkdir -p /run/sshd && useradd --create-home --shell /bin/sh git \\
    && install -d -o git -m 700 /home/git/.ssh
"""


@pytest.fixture
def ssh_served(tmp_path: Path, base_image: str, image_tag: str) -> Iterator[dict[str, str]]:
    """A git repository that only a key in a fresh SSH agent can read, served by sshd (in a
    container on the host network) on 127.0.0.1; the agent's variables come with it."""
    served_dir = tmp_path / "srv"
    commit = bare_repository(make_package(tmp_path, "sshpkg", "0.3.0"), served_dir / "sshpkg.git")
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    shutil.copy(key.with_suffix(".pub"), served_dir / "authorized_keys")
    image = f"{image_tag.split(':')[0]}-sshd:test"
    docker("build", "--tag", image, "-", input=SSHD_DOCKERFILE.format(base=base_image))
    port = free_port()
    start = (
        "install -o git -m 600 /srv/authorized_keys /home/git/.ssh/authorized_keys"
        " && cp -r /srv/sshpkg.git /home/git/ && chown -R git /home/git/sshpkg.git"
        f" && exec /usr/sbin/sshd -D -e -p {port} -o ListenAddress=127.0.0.1"
    )
    container = docker(
        "run", "--detach", "--network", "host", "--volume", f"{served_dir}:/srv:ro",
        image, "sh", "-c", start,
    ).stdout.strip()  # fmt: skip
    agent_output = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True)
    agent = dict(re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent_output.stdout))
    try:
        subprocess.run(["ssh-add", "-q", str(key)], env={**os.environ, **agent}, check=True)
        for _ in range(50):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield {"url": f"ssh://git@127.0.0.1:{port}/home/git/sshpkg.git", "commit": commit, **agent}
    finally:
        subprocess.run(["ssh-agent", "-k"], env={**os.environ, **agent}, capture_output=True)
        docker("rm", "--force", container, check=False)
        docker("image", "rm", "--force", image, check=False)
