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
import urllib.parse
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import (
    CA_BUNDLE_SECRET,
    CONDA_AUTH_SECRET,
    PIP_AUTH_SECRET,
)
from poetry_docker_plugin.tempdirs import temp_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from poetry.poetry import Poetry

    from poetry_docker_plugin.plan.model import CondaChannel


def pip_auth_config(poetry: Poetry, indexes: Iterable[tuple[str, str]]) -> str | None:
    """A pip configuration naming the indexes with their credentials; None when none has any.

    pip matches credentials to requests by host, so the requirements file can keep naming
    the same indexes without them.
    """
    from cleo.io.null_io import NullIO
    from poetry.utils.authenticator import Authenticator

    authenticator = Authenticator(poetry.config, NullIO())
    urls = []
    for _, url in indexes:
        credential = authenticator.get_credentials_for_url(url)
        if credential.username or credential.password:
            parts = urllib.parse.urlsplit(url)
            user = urllib.parse.quote(credential.username or "", safe="")
            password = urllib.parse.quote(credential.password or "", safe="")
            netloc = f"{user}:{password}@{parts.hostname}" + (
                f":{parts.port}" if parts.port else ""
            )
            urls.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    if not urls:
        return None
    return "[global]\nextra-index-url =\n" + "".join(f"    {url}\n" for url in urls)


def conda_auth_config(channels: Iterable[CondaChannel]) -> str | None:
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
            netloc = f"{channel.credentials}@{parts.netloc}"
            url = urllib.parse.urlunsplit((parts.scheme, netloc, location, "", ""))
            entries.append(f"  {json.dumps(name)}: {json.dumps(url)}\n")
    return "custom_channels:\n" + "".join(entries) if entries else None


@contextlib.contextmanager
def build_secrets(
    poetry: Poetry,
    indexes: Iterable[tuple[str, str]],
    ca_bundle: Path | None,
    conda_channels: Iterable[CondaChannel] = (),
) -> Iterator[dict[str, Path]]:
    """The secrets for ``docker build --secret``, in a private directory removed afterwards."""
    secrets: dict[str, Path] = {}
    if ca_bundle is not None:
        secrets[CA_BUNDLE_SECRET] = ca_bundle
    written = {
        PIP_AUTH_SECRET: pip_auth_config(poetry, indexes),
        CONDA_AUTH_SECRET: conda_auth_config(conda_channels),
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
