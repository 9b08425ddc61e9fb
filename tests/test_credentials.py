"""Credentials and CA bundles reach the install steps as secrets, never an image layer.

A private index that requires a password is served on 127.0.0.1 by the test itself, with a
wheel the test builds; the build runs on the host network to reach it.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Base, configure, docker, run_poetry
from poetry.core.masonry.builders.wheel import WheelBuilder
from poetry.factory import Factory

pytestmark = pytest.mark.docker
USERNAME = "ci-reader"


def build_private_wheel(directory: Path) -> Path:
    """A tiny pure-Python wheel, ``secretpkg`` 0.1.0, as a private index would serve it."""
    project = directory / "secretpkg-src"
    (project / "secretpkg").mkdir(parents=True)
    (project / "secretpkg" / "__init__.py").write_text('MESSAGE = "from the private index"\n')
    (project / "pyproject.toml").write_text(
        '[project]\nname = "secretpkg"\nversion = "0.1.0"\n\n'
        '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'
    )
    name = WheelBuilder.make_in(Factory().create_poetry(project), directory / "wheels")
    return directory / "wheels" / name


class PrivateIndex(http.server.ThreadingHTTPServer):
    """A PEP 503 simple index of one wheel, behind HTTP basic authentication."""

    def __init__(self, wheel: Path, password: str) -> None:
        self.wheel = wheel
        self.token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
        self.requests: list[tuple[str, bool]] = []
        super().__init__(("127.0.0.1", 0), IndexHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/simple/"


class IndexHandler(http.server.BaseHTTPRequestHandler):
    server: PrivateIndex

    def do_GET(self) -> None:
        authorized = self.headers.get("Authorization") == f"Basic {self.server.token}"
        self.server.requests.append((self.path, authorized))
        if not authorized:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.end_headers()
            return
        wheel = self.server.wheel
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        pages = {
            "/simple/": b'<a href="/simple/secretpkg/">secretpkg</a>',
            "/simple/secretpkg/": f'<a href="/files/{wheel.name}#sha256={digest}">x</a>'.encode(),
            f"/files/{wheel.name}": wheel.read_bytes(),
        }
        body = pages.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        kind = "application/octet-stream" if self.path.startswith("/files/") else "text/html"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def private_index(tmp_path: Path) -> Iterator[tuple[PrivateIndex, str]]:
    password = f"pw-{secrets.token_hex(12)}"
    server = PrivateIndex(build_private_wheel(tmp_path), password)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, password
    server.shutdown()
    server.server_close()


def test_private_index_password_never_enters_the_image(
    tmp_path: Path, base: Base, image_tag: str, private_index: tuple[PrivateIndex, str]
) -> None:
    server, password = private_index
    project = tmp_path / "private-app"
    project.mkdir()
    (project / "main.py").write_text("import secretpkg\nprint(secretpkg.MESSAGE)\n")
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = ">=3.9,<4"\n'
        'secretpkg = { version = "0.1.0", source = "private" }\n\n'
        f'[[tool.poetry.source]]\nname = "private"\nurl = "{server.url}"\npriority = "explicit"\n'
    )
    configure(project, command="python main.py", **base.settings)
    credentials = {
        "POETRY_HTTP_BASIC_PRIVATE_USERNAME": USERNAME,
        "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": password,
    }
    locked = run_poetry(project, "lock", env=credentials)
    assert locked.returncode == 0, locked.output

    printed = run_poetry(project, "docker", "build", "--print", env=credentials)
    assert password not in printed.output
    build = run_poetry(
        project, "docker", "build", "--network", "host", "--tag", image_tag, env=credentials,
    )  # fmt: skip
    assert build.returncode == 0, build.output
    assert password not in build.output
    assert ("/simple/secretpkg/", True) in server.requests, "pip in the build used the password"
    assert docker("run", "--rm", image_tag).stdout.strip() == "from the private index"

    history = docker("history", "--no-trunc", image_tag).stdout
    assert password not in history
    saved = tmp_path / "image.tar"
    docker("save", "--output", str(saved), image_tag)
    assert password.encode() not in saved.read_bytes()
    assert base64.b64encode(f"{USERNAME}:{password}".encode()) not in saved.read_bytes()

    anonymous = run_poetry(
        project, "docker", "build", "--network", "host", "--no-cache", "--tag", image_tag,
    )  # fmt: skip
    assert anonymous.returncode != 0, "without credentials the private index refuses the build"
    assert ("/simple/secretpkg/", False) in server.requests


def test_ca_bundle_is_mounted_for_installs_only(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """A base that does not trust the proxy's CA installs only with the ca-bundle setting."""
    untrusting = f"{image_tag.split(':')[0]}-untrusting:base"
    dockerfile = (
        f"FROM {base_image}\n"
        "RUN update-ca-certificates --fresh >/dev/null\n"
        "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt\n"
    )
    docker("build", "--tag", untrusting, "-", input=dockerfile)
    try:
        project = tmp_path / "no-package"
        subprocess.run(
            ["cp", "-r", str(Path(__file__).parent / "fixtures" / "no-package"), str(project)],
            check=True,
        )
        options = ("docker", "build", "--base-image", untrusting, "--tag", image_tag, "--no-cache")
        refused = run_poetry(project, *options)
        assert refused.returncode != 0, "the proxy's certificate is not trusted without the bundle"
        assert "CERTIFICATE_VERIFY_FAILED" in refused.output, refused.output
        assert "set `ca-bundle` in [tool.poetry-docker]" in refused.stderr, "the fix is named"

        bundle = tmp_path / "proxy-ca.pem"
        bundle.write_bytes(Path("/etc/ssl/certs/ca-certificates.crt").read_bytes())
        configure(project, ca_bundle=str(bundle))
        built = run_poetry(project, *options)
        assert built.returncode == 0, built.output
        assert docker("run", "--rm", image_tag).stdout.startswith("no-package project, six")
        check = 'test ! -e /run/secrets/ca-bundle.pem && test "$PIP_CERT" = "${SSL_CERT_FILE}"'
        assert docker("run", "--rm", image_tag, "sh", "-c", check, check=False).returncode == 0
    finally:
        docker("image", "rm", "--force", untrusting, check=False)
