"""Render: the plan through the Jinja2 templates shipped in the package.

Every value is written through a filter that fits where it lands (a JSON array for exec
forms, a double-quoted Dockerfile word for ENV and LABEL, a single-quoted shell word in RUN
and in the entrypoint), so that no value can end an instruction or start a command.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import (
    ACTIVATE_PATH,
    BASHRC_LINE,
    BUILT_REQUIREMENTS_FILE,
    CA_BUNDLE_SECRET,
    CONDA_AUTH_SECRET,
    CONDA_EXPLICIT_FILE,
    CONDA_MD5_FILE,
    CONDA_SHA256_FILE,
    ENTRYPOINT_PATH,
    INCLUDED_DIR,
    LIBRARY_CHECK_FILE,
    LIBRARY_CHECK_SETTINGS_FILE,
    LOCAL_SOURCES_DIR,
    LOCAL_WHEELS_DIR,
    PIP_AUTH_SECRET,
    REQUIREMENTS_FILE,
    SBOM_INPUTS_FILE,
    SBOM_PATH,
    SBOM_SCRIPT_FILE,
    SECRETS_DIR,
    SOURCES_DIR,
    VCS_REQUIREMENTS_FILE,
    WHEELS_DIR,
    ZIP_EPOCH,
)
from poetry_docker_plugin.plan.layers import LAYER_ROOT
from poetry_docker_plugin.render.layers import (
    INSTALL_WHEELS_FILE,
    INSTALLER_REQUIREMENTS_FILE,
    TARGET_FILES_SCRIPT,
    TARGET_FILES_SETTINGS,
    TARGET_ROOT,
    layer_files,
)

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.sources.digests import SourceDigests

# The no-op that starts every RUN step which bind-mounts files from the build context, naming
# their digest (see the Dockerfile template): ``: inputs=3f9a1c2b7d4e && ``.
INPUTS_MARKER = re.compile(r": inputs=[0-9a-f]{12} && ")

# Reproducible builds: Python writes hash-based .pyc files (no time in them) whenever
# SOURCE_DATE_EPOCH is set, whatever its value. A fixed value keeps the steps' text, and so
# the layer cache, the same from one commit to the next (the image's own time is the epoch of
# ``reproducible``, written after the steps: never in them).
# Only compileall's .pyc are hash-based: the ones the import system writes as a step's Python
# imports a module hold the source's time (conda's relocated _sysconfigdata, seen differing),
# so steps write none (PYTHONDONTWRITEBYTECODE does not stop compileall: pip's are written).
# conda orders a set by str hashes in conda-meta/history: PYTHONHASHSEED fixes the order.
PYC_EPOCH = f"SOURCE_DATE_EPOCH={ZIP_EPOCH} PYTHONDONTWRITEBYTECODE=1 "
# Files that apt, dpkg and ldconfig write with the clock in them, removed in the step that
# wrote them (found by comparing two builds of the same inputs).
APT_CLOCK_FILES = (
    "/var/log/apt/*.log",
    "/var/log/dpkg.log",
    "/var/log/alternatives.log",
    "/var/cache/ldconfig/aux-cache",
)
# conda-meta/history heads each transaction with the clock's time: that time made the epoch's.
CONDA_HISTORY_TIME = r"s/^==> [0-9: -]* <==$/==> 1980-01-01 00:00:00 <==/"
# The spec lists of conda-meta/history (``# update specs: [...]``) come from a set of objects
# whose order the hash seed does not fix: sorted, they say the same in every build.
SORT_HISTORY_SPECS = (
    "import ast, sys; p = sys.argv[1]; lines = open(p).read().splitlines(True); "
    "open(p, 'w').writelines(h + ' specs: ' + repr(sorted(ast.literal_eval(r))) + '\\n' "
    "if s and h.startswith('# ') else h + s + r "
    "for h, s, r in (line.partition(' specs: ') for line in lines))"
)


@dataclass(frozen=True)
class RenderedFiles:
    """The generated files, as text; identical inputs give byte-identical text."""

    dockerfile: str
    entrypoint: str
    activate: str
    # The requirements file of each group of wheels (``plan.layers``), as a JSON object by
    # file name; ``requirements``: those of pip, setuptools, wheel (installed over the base's).
    layer_requirements: str
    requirements: str
    built_requirements: str
    vcs_requirements: str
    sbom_script: str  # the SBOM step's generator, run by the image's Python (sbom.py)
    sbom_inputs: str  # what the host knows for it: the lock's hashes, the project
    library_check: str  # the shared-library check, run by the image's Python
    library_settings: str  # its settings: the prefix, what to ignore, Debian's names
    # From poetry-docker.lock (empty without one): conda's @EXPLICIT spec, and the hashes
    # that the build checks the package files against (conda does not, for file:// URLs).
    conda_explicit: str = ""
    conda_sha256: str = ""
    conda_md5: str = ""

    def files(self) -> dict[str, str]:
        """The generated files of the build context, by name (empty ones left out)."""
        named = {
            "Dockerfile": self.dockerfile,
            "entrypoint.sh": self.entrypoint,
            "activate.sh": self.activate,
            **self.layer_files,
            REQUIREMENTS_FILE: self.requirements,
            BUILT_REQUIREMENTS_FILE: self.built_requirements,
            VCS_REQUIREMENTS_FILE: self.vcs_requirements,
            SBOM_SCRIPT_FILE: self.sbom_script,
            SBOM_INPUTS_FILE: self.sbom_inputs,
            LIBRARY_CHECK_FILE: self.library_check,
            LIBRARY_CHECK_SETTINGS_FILE: self.library_settings,
            CONDA_EXPLICIT_FILE: self.conda_explicit,
            CONDA_SHA256_FILE: self.conda_sha256,
            CONDA_MD5_FILE: self.conda_md5,
        }
        return {name: text for name, text in named.items() if text}

    @property
    def layer_files(self) -> dict[str, str]:
        """The requirements files of the groups of wheels, by name."""
        files: dict[str, str] = json.loads(self.layer_requirements or "{}")
        return files


def dockerfile_text(value: str) -> str:
    """``value`` escaped for the inside of a double-quoted Dockerfile word (quotes, ``\\``, ``$``).

    Control characters were refused when the settings were read, so a value cannot end the
    instruction it stands in.
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def dockerfile_word(value: str) -> str:
    """A double-quoted Dockerfile word for ENV and LABEL."""
    return f'"{dockerfile_text(value)}"'


def without_input_digests(dockerfile: str) -> str:
    """The Dockerfile with the digests of mounted files blanked: what settings, options and
    the plugin made of it, whatever the content of the files."""
    return INPUTS_MARKER.sub(": inputs=... && ", dockerfile)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def render(plan: BuildPlan, sources: SourceDigests) -> RenderedFiles:
    """Renders the Dockerfile, the entrypoint and the requirements files of ``plan``.

    ``sources`` are the digests of the project's files that steps mount (see SourceDigests).
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from poetry_docker_plugin.lock.export import requirements_text
    from poetry_docker_plugin.render.sbom_inputs import inputs_text, script_text

    templates = Environment(
        loader=PackageLoader("poetry_docker_plugin.render", "templates"),
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
    reproducible = plan.metadata.reproducible
    if reproducible:
        conda_env += [*PYC_EPOCH.split(), "PYTHONHASHSEED=0"]
    if plan.environment.credentialed_channels:
        conda_mounts.append(f"--mount=type=secret,id={CONDA_AUTH_SECRET},target={conda_auth}")
        conda_env.append(f"CONDARC={conda_auth}")
    dependencies = plan.dependencies
    layers = dependencies.layers
    group_files = layer_files(plan)
    requirements = {
        **group_files,
        REQUIREMENTS_FILE: requirements_text(layers.seeded, dependencies.indexes),
        BUILT_REQUIREMENTS_FILE: requirements_text(dependencies.built, dependencies.indexes),
        VCS_REQUIREMENTS_FILE: requirements_text(dependencies.vcs),
    }
    conda = conda_files(plan)
    # What each step that bind-mounts files mounts, by digest; the wheels stage's /wheels is
    # made of the sdist, git and path-source requirements.
    sbom = {SBOM_SCRIPT_FILE: script_text(), SBOM_INPUTS_FILE: inputs_text(plan)}
    libraries = {
        LIBRARY_CHECK_FILE: resource_text(LIBRARY_CHECK_FILE),
        LIBRARY_CHECK_SETTINGS_FILE: library_settings(plan),
    }
    mounted = {
        **{name: _digest(text) for name, text in requirements.items()},
        "sbom": _digest(*sbom.values()),
        "libraries": _digest(*libraries.values()),
        "conda": _digest(*conda),
        "project": sources.project,
        "local_wheels": sources.local_wheels,
        "local_sources": sources.local_sources,
    }
    mounted["target_files"] = _digest(
        *(group_files.get(name, "") for name in (TARGET_FILES_SCRIPT, TARGET_FILES_SETTINGS))
    )
    mounted["wheels"] = _digest(
        mounted[BUILT_REQUIREMENTS_FILE], mounted[VCS_REQUIREMENTS_FILE], sources.local_sources
    )
    values = {
        "plan": plan,
        "environment": plan.environment,
        "dependencies": plan.dependencies,
        "layers": layers,
        "layer_root": LAYER_ROOT,
        "install_wheels_file": INSTALL_WHEELS_FILE,
        "installer_requirements_file": INSTALLER_REQUIREMENTS_FILE,
        "target_files_script": TARGET_FILES_SCRIPT,
        "target_files_settings": TARGET_FILES_SETTINGS,
        "target_root": TARGET_ROOT,
        "project": plan.project,
        "runtime": plan.runtime,
        "metadata": plan.metadata,
        # Secrets are mounted into the steps that download, never copied into a layer.
        "pip_mounts": pip_mounts,
        "pip_env": "".join(f"{item} " for item in pip_env),
        "conda_mounts": conda_mounts,
        "conda_env": "".join(f"{item} " for item in conda_env),
        "inputs": {name: f": inputs={digest[:12]} && " for name, digest in mounted.items()},
        "pyc_env": PYC_EPOCH if reproducible else "",
        "apt_clock_files": "".join(f" {path}" for path in APT_CLOCK_FILES) if reproducible else "",
        "conda_history": (
            f" \\\n    && sed -i -e {shlex.quote(CONDA_HISTORY_TIME)} "
            f"{shlex.quote(plan.environment.prefix + '/conda-meta/history')}"
            f" \\\n    && {shlex.quote(plan.environment.prefix + '/bin/python')} -c "
            f"{shlex.quote(SORT_HISTORY_SPECS)} "
            f"{shlex.quote(plan.environment.prefix + '/conda-meta/history')}"
            if reproducible
            else ""
        ),
        "bashrc_line": BASHRC_LINE,
        "activate_path": ACTIVATE_PATH,
        "entrypoint_path": ENTRYPOINT_PATH,
        "requirements_file": REQUIREMENTS_FILE,
        "wheels_dir": WHEELS_DIR,
        "built_requirements_file": BUILT_REQUIREMENTS_FILE,
        "vcs_requirements_file": VCS_REQUIREMENTS_FILE,
        "local_wheels_dir": LOCAL_WHEELS_DIR,
        "local_sources_dir": LOCAL_SOURCES_DIR,
        "sources_dir": SOURCES_DIR,
        "included_dir": INCLUDED_DIR,
        "sbom_script_file": SBOM_SCRIPT_FILE,
        "sbom_inputs_file": SBOM_INPUTS_FILE,
        "library_check_file": LIBRARY_CHECK_FILE,
        "library_settings_file": LIBRARY_CHECK_SETTINGS_FILE,
        "sbom_path": SBOM_PATH,
        "conda_explicit_file": CONDA_EXPLICIT_FILE,
        "conda_checks": [
            (program, name)
            for program, name, text in zip(
                ("sha256sum", "md5sum"), (CONDA_SHA256_FILE, CONDA_MD5_FILE), conda[1:], strict=True
            )
            if text
        ],
    }
    return RenderedFiles(
        dockerfile=templates.get_template("Dockerfile.j2").render(values),
        entrypoint=templates.get_template("entrypoint.sh.j2").render(values),
        activate=templates.get_template("activate.sh.j2").render(values),
        layer_requirements=json.dumps(group_files, sort_keys=True),
        requirements=requirements[REQUIREMENTS_FILE],
        built_requirements=requirements[BUILT_REQUIREMENTS_FILE],
        vcs_requirements=requirements[VCS_REQUIREMENTS_FILE],
        sbom_script=sbom[SBOM_SCRIPT_FILE],
        sbom_inputs=sbom[SBOM_INPUTS_FILE],
        library_check=libraries[LIBRARY_CHECK_FILE],
        library_settings=libraries[LIBRARY_CHECK_SETTINGS_FILE],
        conda_explicit=conda[0],
        conda_sha256=conda[1],
        conda_md5=conda[2],
    )


def resource_text(name: str) -> str:
    """A file of ``resources/`` (what runs inside the image), as shipped in the package."""
    from importlib.resources import files

    return files("poetry_docker_plugin.render.resources").joinpath(name).read_text(encoding="utf-8")


def library_settings(plan: BuildPlan) -> str:
    """The library check's settings, as stable JSON: where the environment is, the sonames
    not to look for, the Debian packages of sonames that Debian's naming policy misses, and
    the files of the clock that installing a package leaves (removed in reproducible builds)."""
    from poetry_docker_plugin.system.packages import SONAME_PACKAGES

    settings = {
        "prefix": plan.environment.prefix,
        "ignore": list(plan.dependencies.ignore_libraries),
        "packages": SONAME_PACKAGES,
        "clock_files": list(APT_CLOCK_FILES) if plan.metadata.reproducible else [],
    }
    return json.dumps(settings, indent=1, sort_keys=True) + "\n"


def conda_files(plan: BuildPlan) -> tuple[str, str, str]:
    """The locked conda packages as conda's @EXPLICIT spec, and as the input of sha256sum
    and of md5sum (md5 only where the channel gave no sha256); empty without a lock.

    Every URL, name and hash was checked when the lock was read: none holds a space, a quote
    or a newline, so each lands in its file as one word of one line."""
    packages = plan.environment.locked_packages
    if not packages:
        return "", "", ""
    explicit = "".join(f"{p.explicit_line}\n" for p in packages)
    sha256 = "".join(f"{p.sha256}  {p.file_name}\n" for p in packages if p.sha256)
    md5 = "".join(f"{p.md5}  {p.file_name}\n" for p in packages if not p.sha256)
    return f"@EXPLICIT\n{explicit}", sha256, md5
