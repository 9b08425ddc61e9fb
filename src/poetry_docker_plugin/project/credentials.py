"""Credentials: what private indexes and an intercepting proxy need, as build secrets only.

Poetry already knows the credentials of a project's sources (its config, the
``POETRY_HTTP_BASIC_*`` variables, the keyring). They are written to a private temporary
file that the engine mounts, as a BuildKit secret, into the install steps alone: they are
never in the build context, a layer, the image's history or the Dockerfile.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Protocol

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import (
    CA_BUNDLE_SECRET,
    CONDA_AUTH_SECRET,
    PIP_AUTH_SECRET,
)
from poetry_docker_plugin.util.tempdirs import temp_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from poetry.poetry import Poetry


class ChannelWithCredentials(Protocol):
    """A conda channel as the plan holds it (``plan.model.CondaChannel``): its name or URL
    without credentials, and the credentials kept out of it."""

    @property
    def name(self) -> str: ...

    @property
    def credentials(self) -> str: ...


# Query parameters that carry a credential (an index or channel URL's ``?token=...``).
SECRET_QUERY_KEYS = frozenset(
    {
        "token",
        "access_token",
        "auth",
        "auth_token",
        "api_key",
        "apikey",
        "key",
        "password",
        "secret",
        "sig",
        "signature",
        "x-amz-signature",
        "x-goog-signature",
        "private_token",
    }
)


def public_url(url: str) -> str:
    """``url`` without what authenticates: no ``user:password@``, no token in the query.
    What the Dockerfile, the context, the caches and the log may name."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = [
        (key, value)
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in SECRET_QUERY_KEYS
    ]
    return urllib.parse.urlunsplit(
        parts._replace(netloc=netloc, query=urllib.parse.urlencode(query))
    )


def pip_auth_config(poetry: Poetry, indexes: Iterable[tuple[str, str]]) -> str | None:
    """A pip configuration naming the indexes with their credentials; None when none has any.

    pip matches credentials to requests by host, so the requirements file can keep naming
    the same indexes without them. Credentials come from Poetry (config, environment,
    keyring) or from the source's URL in pyproject.toml, which the files never repeat.
    """
    from cleo.io.null_io import NullIO
    from poetry.repositories.http_repository import HTTPRepository
    from poetry.utils.authenticator import Authenticator

    authenticator = Authenticator(poetry.config, NullIO())
    declared = {
        public_url(r.url).rstrip("/"): r.url
        for r in poetry.pool.all_repositories
        if isinstance(r, HTTPRepository)
    }
    urls = []
    for _, url in indexes:
        full = declared.get(url.rstrip("/"), url)
        credential = authenticator.get_credentials_for_url(full)
        parts = urllib.parse.urlsplit(full)
        if credential.username or credential.password:
            user = urllib.parse.quote(credential.username or "", safe="")
            password = urllib.parse.quote(credential.password or "", safe="")
            netloc = f"{user}:{password}@{parts.hostname}" + (
                f":{parts.port}" if parts.port else ""
            )
            urls.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
        elif full != public_url(full):
            urls.append(full)
    if not urls:
        return None
    return "[global]\nextra-index-url =\n" + "".join(f"    {url}\n" for url in urls)


def conda_auth_config(channels: Iterable[ChannelWithCredentials]) -> str | None:
    """A condarc giving conda the credentials of the channels; None when none has any.

    Each channel is declared under ``custom_channels`` with its credentials; conda then
    applies them to the same channel named by URL without them (which is how the Dockerfile
    names it), and records only that URL in the environment's history.
    """
    entries = []
    for channel in channels:
        if channel.credentials:
            parts = urllib.parse.urlsplit(channel.name)
            location, _, name = parts.path.rstrip("/").rpartition("/")
            netloc = parts.netloc
            if channel.credentials.startswith("t/"):  # conda reads a token from /t/TOKEN
                location = f"/{channel.credentials}{location}"
            else:
                netloc = f"{channel.credentials}@{parts.netloc}"
            url = urllib.parse.urlunsplit((parts.scheme, netloc, location, "", ""))
            entries.append(f"  {json.dumps(name)}: {json.dumps(url)}\n")
    return "custom_channels:\n" + "".join(entries) if entries else None


@contextlib.contextmanager
def build_secrets(
    poetry: Poetry,
    indexes: Iterable[tuple[str, str]],
    ca_bundle: Path | None,
    conda_channels: Iterable[ChannelWithCredentials] = (),
) -> Iterator[dict[str, Path]]:
    """The secrets for ``docker build --secret``, in a private directory removed afterwards."""
    secrets: dict[str, Path] = {}
    written = {
        PIP_AUTH_SECRET: pip_auth_config(poetry, indexes),
        CONDA_AUTH_SECRET: conda_auth_config(conda_channels),
        # The certificates alone: third-party build code reads this file.
        CA_BUNDLE_SECRET: certificates(ca_bundle, "ca-bundle") if ca_bundle else None,
    }
    if not any(written.values()):
        yield secrets
        return
    with temp_dir("secrets", "the build's credentials") as directory:
        for name, text in written.items():
            if text:
                path = directory / name
                path.touch(mode=0o600)
                path.write_text(text, newline="\n")
                secrets[name] = path
        yield secrets


PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----"
)


def certificates(path: Path, setting: str) -> str:
    """The PEM certificates of a bundle, and nothing else of the file (no key, no comment).

    The file is mounted into every step that runs a package's build code: a bundle setting
    pointed at a key or at /proc/self/environ must not hand that to it. A file without one
    certificate is refused.
    """
    import base64
    import binascii

    try:
        data = path.read_bytes()
    except OSError as error:
        raise DockerPluginError(
            f"The `{setting}` file {path} cannot be read ({error.strerror or error}). Point "
            "it at the PEM bundle of your proxy's certificate authority, or remove the key."
        ) from None
    blocks = []
    for match in PEM_CERTIFICATE.finditer(data):
        body = b"".join(match.group(1).split())
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        lines = [body[i : i + 64].decode() for i in range(0, len(body), 64)]
        blocks.append(
            "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
        )
    if not blocks:
        raise DockerPluginError(
            f"The `{setting}` file {path} holds no PEM certificate (no `-----BEGIN "
            "CERTIFICATE-----` block): only certificates are given to the build. Point it at "
            "the PEM bundle of your proxy's certificate authority, or remove the key."
        )
    return "".join(blocks)


def check_ssh_agent(ssh: tuple[str, ...]) -> None:
    """Refuses, before anything is staged, a build that needs the SSH agent without one.

    ``ssh`` names the dependencies fetched over SSH.
    """
    if ssh and not os.environ.get("SSH_AUTH_SOCK"):
        names = f"dependency {ssh[0]} is" if len(ssh) == 1 else f"dependencies {', '.join(ssh)} are"
        raise DockerPluginError(
            f"The git {names} fetched over SSH, which the build does through your SSH agent "
            "(`docker build --ssh default`), but SSH_AUTH_SOCK is not set. Start an agent "
            'and add the key that can read the repository (`eval "$(ssh-agent -s)"`, then '
            "`ssh-add ~/.ssh/id_ed25519`), then build again; the key never enters the image."
        )
