"""Credentials and CA bundles reach the install steps as secrets, never an image layer.

A private index that requires a password is served on 127.0.0.1 by the test itself, with a
wheel the test builds; the build runs on the host network to reach it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import os
import secrets
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from poetry.core.masonry.builders.wheel import WheelBuilder
from poetry.factory import Factory

from tests.conftest import Base, configure, docker, run_poetry

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
    """A PEP 503 simple index of one wheel, behind HTTP basic authentication (unless
    ``password`` is None), over TLS when given a server ``context``."""

    def __init__(
        self, wheel: Path, password: str | None, context: ssl.SSLContext | None = None
    ) -> None:
        self.wheel = wheel
        self.token = (
            None if password is None else base64.b64encode(f"{USERNAME}:{password}".encode())
        )
        self.requests: list[tuple[str, bool]] = []
        super().__init__(("127.0.0.1", 0), IndexHandler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.scheme = "http" if context is None else "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/simple/"

    @contextlib.contextmanager
    def serving(self) -> Iterator[PrivateIndex]:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.shutdown()
            self.server_close()


class IndexHandler(http.server.BaseHTTPRequestHandler):
    server: PrivateIndex

    def do_GET(self) -> None:
        token = self.server.token
        authorized = token is not None and self.headers.get("Authorization") == (
            f"Basic {token.decode()}"
        )
        self.server.requests.append((self.path, authorized))
        if token is not None and not authorized:
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
    with PrivateIndex(build_private_wheel(tmp_path), password).serving() as server:
        yield server, password


def test_private_index_password_never_enters_the_image(
    tmp_path: Path, base: Base, image_tag: str, private_index: tuple[PrivateIndex, str]
) -> None:
    server, password = private_index
    project = private_project(tmp_path, server.url)
    configure(project, **base.settings)
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


# A keyring backend that keeps passwords in the JSON file PDP_TEST_KEYRING names: a stand-in
# for the system keyring (Secret Service, macOS Keychain), which this machine has none of.
KEYRING_BACKEND = """
import json, os, pathlib
from keyring.backend import KeyringBackend

class FileKeyring(KeyringBackend):
    priority = 1

    def _entries(self):
        path = pathlib.Path(os.environ["PDP_TEST_KEYRING"])
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service, username):
        return self._entries().get(service, {}).get(username)

    def set_password(self, service, username, password):
        entries = self._entries()
        entries.setdefault(service, {})[username] = password
        pathlib.Path(os.environ["PDP_TEST_KEYRING"]).write_text(json.dumps(entries))

    def delete_password(self, service, username):
        entries = self._entries()
        entries.get(service, {}).pop(username, None)
        pathlib.Path(os.environ["PDP_TEST_KEYRING"]).write_text(json.dumps(entries))
"""


def test_keyring_credentials_reach_the_build(
    tmp_path: Path, base_image: str, image_tag: str, private_index: tuple[PrivateIndex, str]
) -> None:
    """``poetry config http-basic.private USER PASSWORD`` keeps the password in the keyring:
    the build gets it from there."""
    server, password = private_index
    backend = tmp_path / "keyring-backend"
    backend.mkdir()
    (backend / "pdp_test_keyring.py").write_text(KEYRING_BACKEND)
    paths = [str(backend), *filter(None, [os.environ.get("PYTHONPATH")])]
    keyring = {
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHON_KEYRING_BACKEND": "pdp_test_keyring.FileKeyring",
        "PDP_TEST_KEYRING": str(tmp_path / "keyring.json"),
        "POETRY_CONFIG_DIR": str(tmp_path / "poetry-config"),  # not the machine's
    }
    project = private_project(tmp_path, server.url)
    configure(project, base_image=base_image)
    stored = run_poetry(project, "config", "http-basic.private", USERNAME, password, env=keyring)
    assert stored.returncode == 0, stored.output
    assert password in (tmp_path / "keyring.json").read_text(), "Poetry used the keyring"
    assert password not in (tmp_path / "poetry-config" / "auth.toml").read_text()
    locked = run_poetry(project, "lock", env=keyring)
    assert locked.returncode == 0, locked.output

    server.requests.clear()
    build = run_poetry(
        project, "docker", "build", "--network", "host", "--tag", image_tag, env=keyring
    )
    assert build.returncode == 0, build.output
    download = (f"/files/{server.wheel.name}", True)
    assert download in server.requests, "pip in the build used the keyring's password"
    assert docker("run", "--rm", image_tag).stdout.strip() == "from the private index"
    assert password not in docker("history", "--no-trunc", image_tag).stdout
    assert password not in docker("image", "inspect", image_tag).stdout


def private_project(directory: Path, index_url: str, priority: str = "explicit") -> Path:
    """A package-mode = false project whose one dependency, secretpkg, is on the index."""
    project = directory / "private-app"
    project.mkdir()
    (project / "main.py").write_text("import secretpkg\nprint(secretpkg.MESSAGE)\n")
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = ">=3.9,<4"\n'
        'secretpkg = { version = "0.1.0", source = "private" }\n\n'
        f'[[tool.poetry.source]]\nname = "private"\nurl = "{index_url}"\npriority = "{priority}"\n'
    )
    configure(project, command="python main.py")
    return project


def test_ca_bundle_is_mounted_for_installs_only(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """An index whose certificate a CA of the test's own signs: the base does not trust that
    CA, so pip in the build installs from the index only with the ca-bundle setting, and the
    bundle stays out of the image."""
    from tests.engine.test_channels import make_ca_and_server_cert

    (tmp_path / "tls").mkdir()
    ca, certificate, key = make_ca_and_server_cert(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    wheel = build_private_wheel(tmp_path)
    with PrivateIndex(wheel, None, context).serving() as server:
        # the only index: nothing else (PyPI through this machine's proxy) is asked
        project = private_project(tmp_path, server.url, priority="primary")
        configure(project, base_image=base_image)
        trusted = {"POETRY_CERTIFICATES_PRIVATE_CERT": str(ca)}  # Poetry on the host
        locked = run_poetry(project, "lock", env=trusted)
        assert locked.returncode == 0, locked.output
        options = ("docker", "build", "--network", "host", "--tag", image_tag)

        refused = run_poetry(project, *options)
        assert refused.returncode != 0, "the index's certificate is not trusted without the bundle"
        assert "CERTIFICATE_VERIFY_FAILED" in refused.output, refused.output
        assert "set `ca-bundle` in [tool.poetry-docker]" in refused.stderr, "the fix is named"

        bundle = tmp_path / "bundle.pem"
        bundle.write_bytes(ca.read_bytes())
        configure(project, ca_bundle=str(bundle))
        server.requests.clear()
        built = run_poetry(project, *options)
        assert built.returncode == 0, built.output
        assert (f"/files/{wheel.name}", False) in server.requests, "pip fetched it over TLS"
    assert docker("run", "--rm", image_tag).stdout.strip() == "from the private index"
    check = "test ! -e /run/secrets/ca-bundle.pem"
    assert docker("run", "--rm", image_tag, "sh", "-c", check, check=False).returncode == 0
    environment = docker("image", "inspect", "--format", "{{json .Config.Env}}", image_tag)
    assert "ca-bundle" not in environment.stdout
    saved = tmp_path / "image.tar"
    docker("save", "--output", str(saved), image_tag)
    body = ca.read_text().splitlines()[1]  # a line of the certificate's base64
    assert body.encode() not in saved.read_bytes(), "the bundle is in no layer"
