"""Conda channels on the conda path: credentials as secrets, CA bundles, file:// channels.

The stand-in's own channel is copied out of its image and served on 127.0.0.1 by the test,
behind basic authentication or TLS from a CA the test makes; builds reach it on the host
network.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import secrets
import ssl
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import TEST_BASE_IMAGE, configure, copy_fixture, docker, run_poetry

if TYPE_CHECKING:
    from collections.abc import Iterator

CHANNEL_IN_BASE = "/opt/conda-channel/conda-forge"


@pytest.fixture(scope="module")
def channel_dir(conda_base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in's channel as files on the host, under the name ``private``."""
    root = tmp_path_factory.mktemp("channel")
    container = docker("create", conda_base_image).stdout.strip()
    try:
        docker("cp", f"{container}:{CHANNEL_IN_BASE}", str(root / "private"))
    finally:
        docker("rm", container, check=False)
    return root


class ChannelHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the channel, asking for ``authorization`` (a Basic header value) when set."""

    authorization: str | None = None

    def do_GET(self) -> None:
        if self.authorization and self.headers.get("Authorization") != self.authorization:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="channel"')
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(
    directory: Path, authorization: str | None = None, context: ssl.SSLContext | None = None
) -> Iterator[str]:
    handler = functools.partial(ChannelHandler, directory=str(directory))
    ChannelHandler.authorization = authorization
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/private"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def conda_project(tmp_path: Path, conda_base_image: str, project_image: str) -> Path:
    project = copy_fixture("flat-script", tmp_path)
    configure(
        project,
        image=project_image,
        base_image=conda_base_image,
        env_manager="conda",
        python="3.11",
        runtime_base=TEST_BASE_IMAGE,
    )
    return project


def test_channel_credentials_never_enter_the_image(
    conda_project: Path, channel_dir: Path, project_image: str
) -> None:
    token = f"tok-{secrets.token_hex(12)}"
    header = "Basic " + base64.b64encode(f"reader:{token}".encode()).decode()
    with serve(channel_dir, authorization=header) as url:
        host_url = url.replace("http://", "http://reader:" + token + "@")
        configure(conda_project, conda_channels=[url], conda_packages=["actdemo"])
        refused = run_poetry(conda_project, "docker", "build", "--network", "host")
        assert refused.returncode != 0, "the channel asks for credentials"

        configure(conda_project, conda_channels=[host_url])
        printed = run_poetry(conda_project, "docker", "build", "--print")
        assert token not in printed.output
        built = run_poetry(conda_project, "docker", "build", "--network", "host")
        assert built.returncode == 0, built.output
        assert token not in built.output
    image = f"{project_image}:0.3.1"
    run = docker("run", "--rm", image, "sh", "-c", 'echo "ACTDEMO=$ACTDEMO"; python -V')
    assert run.stdout.split() == ["ACTDEMO=1", "Python", "3.11.2"], run.stdout
    history = docker("run", "--rm", image, "sh", "-c", 'cat "$CONDA_PREFIX/conda-meta/history"')
    assert url in history.stdout, "conda records the channel, without its credentials"
    assert token not in docker("history", "--no-trunc", image).stdout
    assert token not in docker("image", "inspect", image).stdout
    saved = subprocess.run(
        ["/usr/bin/docker", "save", image], capture_output=True, check=True
    ).stdout
    assert token.encode() not in saved, "the token is in no layer and no config"


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a certificate for 127.0.0.1 that it signs."""

    def openssl(*arguments: str) -> None:
        subprocess.run(["openssl", *arguments], cwd=directory, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=poetry-docker test CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture
def requests_bundle_base(conda_base_image: str, image_tag: str) -> Iterator[str]:
    """The conda base with REQUESTS_CA_BUNDLE set to its system bundle, as some bases do."""
    name = f"{image_tag.split(':')[0]}-base:requests-bundle"
    dockerfile = (
        f"FROM {conda_base_image}\nENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n"
    )
    docker("build", "--tag", name, "-", input=dockerfile)
    yield name
    docker("image", "rm", "--force", name, check=False)


def test_ca_bundle_reaches_conda_when_the_base_sets_requests_ca_bundle(
    conda_project: Path, channel_dir: Path, requests_bundle_base: str, tmp_path: Path
) -> None:
    ca, certificate, key = make_ca_and_server_cert(tmp_path)
    bundle = tmp_path / "bundle.pem"  # the test CA beside the host's (for PyPI's proxy)
    bundle.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text() + ca.read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    with serve(channel_dir, context=context) as url:
        configure(conda_project, base_image=requests_bundle_base, conda_channels=[url])
        refused = run_poetry(conda_project, "docker", "build", "--network", "host")
        assert refused.returncode != 0
        assert "CERTIFICATE_VERIFY_FAILED" in refused.output or "SSLError" in refused.output
        configure(conda_project, ca_bundle=str(bundle))
        built = run_poetry(conda_project, "docker", "build", "--network", "host")
        assert built.returncode == 0, built.output


def test_file_channels_and_channel_qualified_specs(conda_project: Path, project_image: str) -> None:
    configure(
        conda_project,
        conda_channels=[f"file://{CHANNEL_IN_BASE}"],
        conda_packages=["conda-forge::actdemo"],
    )
    built = run_poetry(conda_project, "docker", "build")
    assert built.returncode == 0, built.output
    run = docker("run", "--rm", f"{project_image}:0.3.1", "sh", "-c", 'echo "ACTDEMO=$ACTDEMO"')
    assert run.stdout.strip() == "ACTDEMO=1"
