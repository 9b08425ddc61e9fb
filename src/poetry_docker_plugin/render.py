"""Render: the plan through the Jinja2 templates shipped in the package.

Every value is written through a filter that fits where it lands (a JSON array for exec
forms, a double-quoted Dockerfile word for ENV and LABEL, a single-quoted shell word in RUN
and in the entrypoint), so that no value can end an instruction or start a command.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetry_docker_plugin.plan import BuildPlan

ENTRYPOINT_PATH = "/usr/local/bin/poetry-docker-entrypoint.sh"
SECRETS_DIR = "/run/secrets"
REQUIREMENTS_FILE = "requirements.txt"
COMPILED_REQUIREMENTS_FILE = "requirements-compiled.txt"
BUILT_REQUIREMENTS_FILE = "requirements-build.txt"
VCS_REQUIREMENTS_FILE = "requirements-vcs.txt"
WHEELS_DIR = "dist"
LOCAL_WHEELS_DIR = "local-wheels"
LOCAL_SOURCES_DIR = "local-sources"
SOURCES_DIR = "project"


@dataclass(frozen=True)
class RenderedFiles:
    """The generated files, as text; identical inputs give byte-identical text."""

    dockerfile: str
    entrypoint: str
    compiled_requirements: str
    requirements: str
    built_requirements: str
    vcs_requirements: str

    def files(self) -> dict[str, str]:
        """The generated files of the build context, by name (empty ones left out)."""
        named = {
            "Dockerfile": self.dockerfile,
            "entrypoint.sh": self.entrypoint,
            COMPILED_REQUIREMENTS_FILE: self.compiled_requirements,
            REQUIREMENTS_FILE: self.requirements,
            BUILT_REQUIREMENTS_FILE: self.built_requirements,
            VCS_REQUIREMENTS_FILE: self.vcs_requirements,
        }
        return {name: text for name, text in named.items() if text}


def dockerfile_word(value: str) -> str:
    """A double-quoted Dockerfile word for ENV and LABEL: quotes, backslashes and ``$`` escaped.

    Control characters were refused when the settings were read, so a value cannot end the
    instruction it stands in.
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def render(plan: BuildPlan) -> RenderedFiles:
    """Renders the Dockerfile, the entrypoint and the requirements file of ``plan``."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from poetry_docker_plugin.credentials import CA_BUNDLE_SECRET, PIP_AUTH_SECRET
    from poetry_docker_plugin.requirements import requirements_text

    environment = Environment(
        loader=PackageLoader("poetry_docker_plugin", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters["json"] = lambda value: json.dumps(
        list(value) if isinstance(value, tuple) else value
    )
    environment.filters["sh"] = shlex.quote
    environment.filters["dq"] = dockerfile_word
    pip_auth = f"{SECRETS_DIR}/{PIP_AUTH_SECRET}.conf"
    ca_bundle = f"{SECRETS_DIR}/{CA_BUNDLE_SECRET}.pem"
    network_mounts, pip_env, conda_env = [], [], []
    if plan.private_indexes:
        network_mounts.append(f"--mount=type=secret,id={PIP_AUTH_SECRET},target={pip_auth}")
        pip_env.append(f"PIP_CONFIG_FILE={pip_auth}")
    if plan.ca_bundle:
        network_mounts.append(f"--mount=type=secret,id={CA_BUNDLE_SECRET},target={ca_bundle}")
        pip_env.append(f"PIP_CERT={ca_bundle}")
        conda_env += [f"CONDA_SSL_VERIFY={ca_bundle}", f"MAMBA_SSL_VERIFY={ca_bundle}"]
    values = {
        "plan": plan,
        # Secrets are mounted into the steps that download, never copied into a layer.
        "pip_mounts": network_mounts,
        "pip_env": "".join(f"{item} " for item in pip_env),
        "conda_mounts": [m for m in network_mounts if CA_BUNDLE_SECRET in m],
        "conda_env": "".join(f"{item} " for item in conda_env),
        "entrypoint_path": ENTRYPOINT_PATH,
        "requirements_file": REQUIREMENTS_FILE,
        "wheels_dir": WHEELS_DIR,
        "compiled_requirements_file": COMPILED_REQUIREMENTS_FILE,
        "built_requirements_file": BUILT_REQUIREMENTS_FILE,
        "vcs_requirements_file": VCS_REQUIREMENTS_FILE,
        "local_wheels_dir": LOCAL_WHEELS_DIR,
        "local_sources_dir": LOCAL_SOURCES_DIR,
        "sources_dir": SOURCES_DIR,
    }
    return RenderedFiles(
        dockerfile=environment.get_template("Dockerfile.j2").render(values),
        entrypoint=environment.get_template("entrypoint.sh.j2").render(values),
        compiled_requirements=requirements_text(plan.compiled_requirements, plan.indexes),
        requirements=requirements_text(plan.requirements, plan.indexes),
        built_requirements=requirements_text(plan.built_requirements, plan.indexes),
        vcs_requirements=requirements_text(plan.vcs_requirements),
    )
