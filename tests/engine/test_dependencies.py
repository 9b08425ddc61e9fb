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
from poetry.core.factory import Factory
from poetry.core.masonry.builders.sdist import SdistBuilder
from poetry.core.masonry.builders.wheel import WheelBuilder

from tests.conftest import (
    DOCKER,
    FIXTURES,
    Base,
    configure,
    copy_fixture,
    docker,
    pip_freeze,
    run_poetry,
)


def build(project: Path, base_image: str, tag: str, *options: str) -> str:
    result = run_poetry(
        project, "docker", "build", "--base-image", base_image, "--tag", tag, *options
    )
    assert result.returncode == 0, result.output
    return result.output


def test_path_dependencies_inside_and_outside_the_project(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "monorepo")
    project = tmp_path / "monorepo" / "app"
    build(project, base_image, image_tag)
    output = docker("run", "--rm", image_tag).stdout
    assert output.strip() == "mathlib 42, tinylib vendored, legacylib setuptools"
    assert {
        "mathlib==1.4.0",
        "tinylib==0.0.1",
        "legacylib==3.1.0",
        "monorepo-app==0.2.0",
    } <= {f"{k}=={v}" for k, v in pip_freeze(image_tag).items()}
    tools = docker(
        "run", "--rm", image_tag, "sh", "-c", "command -v gcc make git || echo none"
    ).stdout
    assert tools.strip() == "none", "build tools stay in the wheels stage"

    # a change to a sibling package reaches the image
    lib = tmp_path / "monorepo" / "libs" / "mathlib" / "mathlib" / "__init__.py"
    lib.write_text("def double(x: int) -> int:\n    return 2 * x + 1\n")
    build(project, base_image, image_tag)
    assert docker("run", "--rm", image_tag).stdout.startswith("mathlib 43")


def test_sdist_only_dependency_is_built_in_the_wheels_stage(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture("sdist-only", tmp_path)
    printed = run_poetry(project, "docker", "build", "--base-image", base_image, "--print").stdout
    assert "FROM environment AS wheels" in printed
    assert "build-essential python3.11-dev" in printed, "an sdist may hold C code"
    build(project, base_image, image_tag)
    assert docker("run", "--rm", image_tag).stdout.strip() == "docopt 0.6.2"


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


def test_git_and_url_dependencies(
    tmp_path: Path, base_image: str, image_tag: str, served: dict[str, str]
) -> None:
    project = tmp_path / "direct-refs"
    project.mkdir()
    (project / "main.py").write_text(
        "import gitpkg, urlsdist, urlwheel\nprint(gitpkg.WHO, urlwheel.WHO, urlsdist.WHO)\n"
    )
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = ">=3.9,<4"\n'
        f'gitpkg = {{ git = "{served["git"]}", rev = "main" }}\n'
        f'urlwheel = {{ url = "{served["wheel"]}" }}\n'
        f'urlsdist = {{ url = "{served["sdist"]}" }}\n\n'
        '[tool.poetry-docker]\ncommand = "python main.py"\n'
    )
    locked = run_poetry(project, "lock")
    assert locked.returncode == 0, locked.output
    assert served["commit"] in (project / "poetry.lock").read_text()

    output = build(project, base_image, image_tag, "--network", "host")
    assert (
        docker("run", "--rm", image_tag).stdout.strip()
        == "gitpkg 0.3.0 urlwheel 1.0.0 urlsdist 2.0.0"
    )
    context = run_poetry(project, "docker", "build", "--base-image", base_image, "--print").stdout
    assert f"gitpkg @ git+{served['git']}@{served['commit']}" not in context, (
        "requirements stay in files"
    )
    assert "install --yes --no-install-recommends git build-essential" in context, (
        "urlsdist is an sdist, which may hold C code; the git commit only needs git"
    )
    tools = docker("run", "--rm", image_tag, "sh", "-c", "command -v git || echo none").stdout
    assert tools.strip() == "none", "git stays in the wheels stage"
    assert "Traceback" not in output


def test_a_project_built_by_another_backend(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """A setuptools project is built by pip in the wheels stage; its script runs."""
    project = copy_fixture("setuptools-project", tmp_path)
    build(project, base_image, image_tag)
    assert (
        docker("run", "--rm", image_tag).stdout.strip()
        == "legacy-app built by setuptools, six 1.17.0"
    )
    assert pip_freeze(image_tag)["legacy-app"] == "4.0.0"
    shell = run_poetry(project, "docker", "shell", "-c", "true")
    assert shell.returncode == 1
    assert "editable" in shell.stderr and "package-mode = false" in shell.stderr


def test_a_tampered_wheel_hash_fails_the_build(tmp_path: Path, base: Base, image_tag: str) -> None:
    """pip must not fall back to the sdist (genuine hash, unhashed build tools) of a wheel."""
    project = copy_fixture("no-package", tmp_path)
    configure(project, **base.settings)
    lock = project / "poetry.lock"
    wheel = re.search(r'six-[^"]+\.whl", hash = "sha256:([0-9a-f]{64})"', lock.read_text())
    assert wheel, "the fixture locks six's wheel"
    lock.write_text(lock.read_text().replace(wheel.group(1), "0" * 64))
    assert run_poetry(project, "check", "--lock").returncode == 0, "the lock is still fresh"
    result = run_poetry(project, "docker", "build", "--tag", image_tag)
    assert result.returncode != 0, result.output
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.output, result.output


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


def test_a_c_extension_is_compiled_against_the_environments_python(
    tmp_path: Path, base: Base, image_tag: str
) -> None:
    """Debian's python3 keeps Python.h in python3.X-dev: the wheels stage must get it."""
    make_c_extension(tmp_path)
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = ">=3.9,<4"\n'
        'cspeed = { path = "../cspeed" }\n'
    )
    locked = run_poetry(project, "lock")
    assert locked.returncode == 0, locked.output
    configure(project, command=["python", "-c", "import cspeed; print(cspeed.add(2, 3))"])
    configure(project, **base.settings)
    result = run_poetry(project, "docker", "build", "--tag", image_tag)
    assert result.returncode == 0, result.output
    assert docker("run", "--rm", image_tag).stdout.strip() == "5"
    leftovers = "command -v gcc || ls /usr/include/python3*/Python.h 2>/dev/null || echo none"
    assert docker("run", "--rm", image_tag, "sh", "-c", leftovers).stdout.strip() == "none"


# The index URL that tests/fixtures/sdist-c-extension was locked against.
SDIST_INDEX_LOCKED = "http://127.0.0.1:38180/simple"


@pytest.fixture
def c_sdist_project(tmp_path: Path) -> Iterator[Path]:
    """The sdist-c-extension project, its index (cadd's sdist alone) served on 127.0.0.1.

    The port is free when the test runs, so the fixture's URL is rewritten in the copy's
    pyproject.toml and lock, and the lock's content hash with it.
    """
    from poetry.factory import Factory as PoetryFactory

    copy = copy_fixture("sdist-c-extension", tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=copy / "index")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/simple"
    project = copy / "app"
    for name in ("pyproject.toml", "poetry.lock"):
        path = project / name
        path.write_text(path.read_text().replace(SDIST_INDEX_LOCKED, url))
    lock = project / "poetry.lock"
    content_hash = PoetryFactory().create_poetry(project).locker._get_content_hash()
    lock.write_text(
        re.sub(r'content-hash = "\w+"', f'content-hash = "{content_hash}"', lock.read_text())
    )
    yield project
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("apt_packages", [[], ["gcc"]], ids=["no-apt-packages", "gcc"])
def test_a_c_extension_published_only_as_an_sdist_is_compiled_in_the_wheels_stage(
    c_sdist_project: Path, base_image: str, image_tag: str, apt_packages: list[str]
) -> None:
    """Like python-ldap: nothing in the lock says it is pure Python, so the wheels stage gets
    the compiler and python3.11-dev (the test base's python3 has no headers), whatever the
    project's own apt-packages (gcc alone failed on the missing Python.h)."""
    configure(c_sdist_project, apt_packages=apt_packages)
    build(c_sdist_project, base_image, image_tag, "--network", "host")
    assert docker("run", "--rm", image_tag).stdout.strip() == "cadd 5 so"
    leftovers = "command -v gcc; ls /usr/include/python3*/Python.h 2>/dev/null; true"
    found = docker("run", "--rm", image_tag, "sh", "-c", leftovers).stdout.split()
    assert found == (["/usr/bin/gcc"] if apt_packages else []), "build tools stay in that stage"


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


def test_git_over_ssh_is_a_pep_508_url_fetched_through_the_ssh_agent(
    tmp_path: Path, base_image: str
) -> None:
    from packaging.requirements import Requirement

    project = ssh_git_project(tmp_path, "git@github.com:example-org/sshpkg.git")
    output = tmp_path / "out"
    written = run_poetry(
        project, "docker", "build", "--base-image", base_image, "--output", str(output)
    )
    assert written.returncode == 0, written.output
    lines = (output / "requirements-vcs.txt").read_text().splitlines()
    requirement = Requirement(next(line for line in lines if line.startswith("sshpkg")))
    assert requirement.url == f"git+ssh://git@github.com/example-org/sshpkg.git@{SSH_COMMIT}"
    dockerfile = (output / "Dockerfile").read_text()
    steps = dockerfile.split("\nRUN ")
    with_ssh = [step for step in steps if "--mount=type=ssh" in step]
    assert len(with_ssh) == 1 and "requirements-vcs.txt" in with_ssh[0], "the git step alone"
    assert "GIT_SSH_COMMAND='ssh -o StrictHostKeyChecking=accept-new'" in with_ssh[0]
    assert "--no-install-recommends git openssh-client" in dockerfile


def test_git_over_ssh_without_an_agent_is_one_clear_error(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = ssh_git_project(tmp_path, "git@github.com:example-org/sshpkg.git")
    log = tmp_path / "engine.log"
    engine = tmp_path / "docker-no-builds"
    engine.write_text(
        f'#!/bin/sh\nif [ "$1" = build ]; then echo "$*" >> {log}; exit 1; fi\nexec {DOCKER} "$@"\n'
    )
    engine.chmod(0o755)
    options = ("docker", "build", "--base-image", base_image, "--tag", image_tag)
    refused = run_poetry(
        project, *options, env={"SSH_AUTH_SOCK": "", "POETRY_DOCKER_ENGINE": str(engine)}
    )
    assert refused.returncode == 1
    message = refused.stderr.strip()
    assert "\n" not in message and "Traceback" not in refused.output, refused.output
    assert "sshpkg" in message and "ssh-agent" in message and "ssh-add" in message
    assert not log.exists(), "nothing was built"

    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True)
    variables = dict(re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent.stdout))
    try:
        run_poetry(project, *options, env={**variables, "POETRY_DOCKER_ENGINE": str(engine)})
    finally:
        subprocess.run(["ssh-agent", "-k"], env={**os.environ, **variables}, check=False)
    assert "--ssh default" in log.read_text(), "the agent is forwarded to the build"


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


def test_a_private_git_dependency_builds_through_the_forwarded_agent(
    tmp_path: Path, base_image: str, image_tag: str, ssh_served: dict[str, str]
) -> None:
    """The agent's key reads the repository; no key, agent or host key reaches the image."""
    project = ssh_git_project(tmp_path, ssh_served["url"], ssh_served["commit"])
    agent = {name: ssh_served[name] for name in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
    options = ("--base-image", base_image, "--tag", image_tag, "--network", "host")
    result = run_poetry(project, "docker", "build", *options, env=agent)
    assert result.returncode == 0, result.output
    assert docker("run", "--rm", image_tag).stdout.strip() == "sshpkg 0.3.0"
    check = "command -v ssh git; ls -A /root/.ssh ~/.ssh 2>/dev/null; env | grep -c SSH_"
    assert docker(
        "run", "--rm", "--user", "0", image_tag, "sh", "-c", check, check=False
    ).stdout.split() == ["0"]
