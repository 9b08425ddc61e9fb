"""``poetry docker devcontainer``: the file from values (unit tests), and the real Dev Containers
CLI starting, using and refreshing the development image, as VS Code would."""

from __future__ import annotations

import json
import os

from poetry_docker_plugin.devcontainer.document import (
    MARKER_KEY,
    PREPARE_COMMAND,
    DevContainer,
    dump,
    file_state,
    split_ports,
)
from tests.conftest import (
    REPO,
)

# The Dev Containers CLI that scripts/dev installs (npm), or another one.
DEVCONTAINER_CLI = os.environ.get(
    "DEVCONTAINER_CLI", str(REPO / ".devcontainer-cli" / "node_modules" / ".bin" / "devcontainer")
)


def sample(**changes: object) -> DevContainer:
    values: dict[str, object] = {
        "project": "demo",
        "image": "demo:dev",
        "workdir": "/app",
        "python": "/opt/conda/envs/demo/bin/python",
    }
    return DevContainer(**{**values, **changes})  # type: ignore[arg-type]


def test_the_document_names_the_development_image_and_how_to_prepare_it() -> None:
    config = sample(options=("--with", "docs")).config()
    assert config["image"] == "demo:dev"
    assert config["initializeCommand"] == [*PREPARE_COMMAND, "--with", "docs"]
    assert config["workspaceFolder"] == "/app"
    assert config["workspaceMount"] == "source=${localWorkspaceFolder},target=/app,type=bind"
    assert config["updateRemoteUserUID"] is False, "the image has the host user already"
    assert config["userEnvProbe"] == "loginInteractiveShell", "activate.d's variables too"
    vscode = config["customizations"]["vscode"]
    assert vscode["settings"]["python.defaultInterpreterPath"] == "/opt/conda/envs/demo/bin/python"
    assert vscode["extensions"] == ["ms-python.python"]
    for absent in ("forwardPorts", "appPort", "containerEnv", "hostRequirements", "runArgs"):
        assert absent not in config, "nothing asked, nothing written"


def test_ports_env_and_gpus_land_where_the_spec_takes_them() -> None:
    forwarded, published = split_ports(("8000", "9000/tcp", "5353/udp"))
    assert (forwarded, published) == ((8000, 9000), ("5353:5353/udp",))
    config = sample(
        forward_ports=(9000, 8000, 8000),
        app_ports=("5353:5353/udp",),
        container_env=(("MODE", "dev"), ("TOKEN", "${localEnv:TOKEN}")),
        gpus="all",
    ).config()
    assert config["forwardPorts"] == [8000, 9000]
    assert config["appPort"] == ["5353:5353/udp"]
    assert config["containerEnv"] == {"MODE": "dev", "TOKEN": "${localEnv:TOKEN}"}
    assert config["hostRequirements"] == {"gpu": True}
    assert sample(gpus="device=0").config()["runArgs"] == ["--gpus", "device=0"]


def test_the_text_is_sorted_json_and_stable() -> None:
    text = sample(forward_ports=(8000,), container_env=(("B", "2"), ("A", "1"))).text()
    assert text == sample(forward_ports=(8000,), container_env=(("B", "2"), ("A", "1"))).text()
    assert text.endswith("}\n") and "//" not in text
    assert text == dump(json.loads(text)), "keys sorted, two-space indents"
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_the_marker_tells_generated_edited_and_foreign_files_apart() -> None:
    text = sample().text()
    assert file_state(None) == "missing"
    assert file_state(text) == "generated"
    edited = json.loads(text)
    edited["forwardPorts"] = [3000]
    assert file_state(dump(edited)) == "edited"
    assert file_state(json.dumps(edited)) == "edited", "spelling aside, the content counts"
    assert file_state(json.dumps(json.loads(text))) == "generated", "respelled, same content"
    del edited["customizations"][MARKER_KEY]
    assert file_state(dump(edited)) == "foreign"
    assert file_state('// my own\n{"image": "x"}') == "foreign", "JSONC: not the plugin's"
    assert file_state("[1]") == "foreign"
