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
ACTIVATE_PATH = "/usr/local/share/poetry-docker/activate.sh"
# Appended to the bashrc files of the image, so that interactive shells end up activated.
BASHRC_LINE = f"if [ -r {ACTIVATE_PATH} ]; then . {ACTIVATE_PATH}; fi  # poetry-docker"
SECRETS_DIR = "/run/secrets"
REQUIREMENTS_FILE = "requirements.txt"
COMPILED_REQUIREMENTS_FILE = "requirements-compiled.txt"
BUILT_REQUIREMENTS_FILE = "requirements-build.txt"
VCS_REQUIREMENTS_FILE = "requirements-vcs.txt"
WHEELS_DIR = "dist"
LOCAL_WHEELS_DIR = "local-wheels"
LOCAL_SOURCES_DIR = "local-sources"
SOURCES_DIR = "project"
INCLUDED_DIR = "included"


@dataclass(frozen=True)
class RenderedFiles:
    """The generated files, as text; identical inputs give byte-identical text."""

    dockerfile: str
    entrypoint: str
    activate: str
    compiled_requirements: str
    requirements: str
    built_requirements: str
    vcs_requirements: str

    def files(self) -> dict[str, str]:
        """The generated files of the build context, by name (empty ones left out)."""
        named = {
            "Dockerfile": self.dockerfile,
            "entrypoint.sh": self.entrypoint,
            "activate.sh": self.activate,
            COMPILED_REQUIREMENTS_FILE: self.compiled_requirements,
            REQUIREMENTS_FILE: self.requirements,
            BUILT_REQUIREMENTS_FILE: self.built_requirements,
            VCS_REQUIREMENTS_FILE: self.vcs_requirements,
        }
        return {name: text for name, text in named.items() if text}


def dockerfile_text(value: str) -> str:
    """``value`` escaped for the inside of a double-quoted Dockerfile word (quotes, ``\\``, ``$``).

    Control characters were refused when the settings were read, so a value cannot end the
    instruction it stands in.
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def dockerfile_word(value: str) -> str:
    """A double-quoted Dockerfile word for ENV and LABEL."""
    return f'"{dockerfile_text(value)}"'


def render(plan: BuildPlan) -> RenderedFiles:
    """Renders the Dockerfile, the entrypoint and the requirements file of ``plan``."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from poetry_docker_plugin.credentials import (
        CA_BUNDLE_SECRET,
        CONDA_AUTH_SECRET,
        PIP_AUTH_SECRET,
    )
    from poetry_docker_plugin.requirements import requirements_text

    templates = Environment(
        loader=PackageLoader("poetry_docker_plugin", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    templates.filters["json"] = lambda value: json.dumps(
        list(value) if isinstance(value, tuple) else value
    )
    templates.filters["sh"] = shlex.quote
    templates.filters["dq"] = dockerfile_word
    templates.filters["dq_text"] = dockerfile_text
    pip_auth = f"{SECRETS_DIR}/{PIP_AUTH_SECRET}.conf"
    ca_bundle = f"{SECRETS_DIR}/{CA_BUNDLE_SECRET}.pem"
    conda_auth = f"{SECRETS_DIR}/{CONDA_AUTH_SECRET}.yml"
    pip_mounts, pip_env, conda_mounts, conda_env = [], [], [], []
    if plan.dependencies.private_indexes:
        pip_mounts.append(f"--mount=type=secret,id={PIP_AUTH_SECRET},target={pip_auth}")
        pip_env.append(f"PIP_CONFIG_FILE={pip_auth}")
    if plan.dependencies.ca_bundle:
        mount = f"--mount=type=secret,id={CA_BUNDLE_SECRET},target={ca_bundle}"
        pip_mounts.append(mount)
        pip_env.append(f"PIP_CERT={ca_bundle}")
        conda_mounts.append(mount)
        # requests lets REQUESTS_CA_BUNDLE (which base images may set) win over conda's
        # ssl_verify, so the bundle is given under every name.
        conda_env += [
            f"{name}={ca_bundle}"
            for name in ("CONDA_SSL_VERIFY", "MAMBA_SSL_VERIFY", "REQUESTS_CA_BUNDLE")
        ]
    if plan.environment.credentialed_channels:
        conda_mounts.append(f"--mount=type=secret,id={CONDA_AUTH_SECRET},target={conda_auth}")
        conda_env.append(f"CONDARC={conda_auth}")
    values = {
        "plan": plan,
        "environment": plan.environment,
        "dependencies": plan.dependencies,
        "project": plan.project,
        "runtime": plan.runtime,
        "metadata": plan.metadata,
        # Secrets are mounted into the steps that download, never copied into a layer.
        "pip_mounts": pip_mounts,
        "pip_env": "".join(f"{item} " for item in pip_env),
        "conda_mounts": conda_mounts,
        "conda_env": "".join(f"{item} " for item in conda_env),
        "bashrc_line": BASHRC_LINE,
        "activate_path": ACTIVATE_PATH,
        "entrypoint_path": ENTRYPOINT_PATH,
        "requirements_file": REQUIREMENTS_FILE,
        "wheels_dir": WHEELS_DIR,
        "compiled_requirements_file": COMPILED_REQUIREMENTS_FILE,
        "built_requirements_file": BUILT_REQUIREMENTS_FILE,
        "vcs_requirements_file": VCS_REQUIREMENTS_FILE,
        "local_wheels_dir": LOCAL_WHEELS_DIR,
        "local_sources_dir": LOCAL_SOURCES_DIR,
        "sources_dir": SOURCES_DIR,
        "included_dir": INCLUDED_DIR,
    }
    dependencies = plan.dependencies
    return RenderedFiles(
        dockerfile=templates.get_template("Dockerfile.j2").render(values),
        entrypoint=templates.get_template("entrypoint.sh.j2").render(values),
        activate=templates.get_template("activate.sh.j2").render(values),
        compiled_requirements=requirements_text(dependencies.compiled, dependencies.indexes),
        requirements=requirements_text(dependencies.pure, dependencies.indexes),
        built_requirements=requirements_text(dependencies.built, dependencies.indexes),
        vcs_requirements=requirements_text(dependencies.vcs),
    )
