"""The names that several stages share: labels, paths inside the image, files of the build
context, secret ids and the settings table.

They live here, in a module that imports nothing of the package, so that any stage can name
them without depending on the stage that happens to use them first (a plan that knows the
SBOM's path need not import the SBOM's writer, nor the engine the plan).
"""

from __future__ import annotations

# The settings table of pyproject.toml.
SETTINGS_TABLE = "tool.poetry-docker"
# The build backend whose wheels the plugin builds in-process (no isolated build needed).
POETRY_CORE_BACKEND = "poetry.core.masonry.api"
# ...and the name the `poetry` package gave it before poetry-core existed (old `poetry new`
# templates), which builds the same wheels: Poetry itself ignores it for `poetry install`.
POETRY_CORE_BACKENDS = (POETRY_CORE_BACKEND, "poetry.masonry.api")

# Labels of the images (and containers) the plugin makes.
LABEL_PREFIX = "dev.poetry-docker"
# A digest of every input of the image: equal digests, same image.
FINGERPRINT_LABEL = f"{LABEL_PREFIX}.fingerprint"
# The digests of the inputs by kind, so that a rebuild can say which kind changed.
INPUTS_LABEL = f"{LABEL_PREFIX}.inputs"
# Names the path of the image's SBOM (a CycloneDX JSON document).
SBOM_LABEL = f"{LABEL_PREFIX}.sbom"
# Set on images built with BuildKit's inline cache (pushed images carry it).
INLINE_CACHE_LABEL = f"{LABEL_PREFIX}.inline-cache"
# The digest of the inputs of the poetry-docker.lock the image was built from (none: unlocked).
CONDA_LOCK_LABEL = f"{LABEL_PREFIX}.conda-lock"
# Set on the containers of `run` and `shell`: the image they run.
CONTAINER_IMAGE_LABEL = f"{LABEL_PREFIX}.image"
# The OCI annotations set from the project's metadata (empty where it has none).
OCI_PREFIX = "org.opencontainers.image"
OCI_KEYS = (
    "title", "version", "description", "authors", "licenses", "url", "source", "documentation",
)  # fmt: skip

# Paths inside the image. The plugin's own folder is one no Debian package writes to.
ENTRYPOINT_PATH = "/usr/local/bin/poetry-docker-entrypoint.sh"
ACTIVATE_PATH = "/usr/local/share/poetry-docker/activate.sh"
SBOM_PATH = "/usr/local/share/poetry-docker/sbom.cdx.json"
VENV_PREFIX = "/opt/venv"
SECRETS_DIR = "/run/secrets"
# Appended to the bashrc files of the image, so that interactive shells end up activated.
BASHRC_LINE = f"if [ -r {ACTIVATE_PATH} ]; then . {ACTIVATE_PATH}; fi  # poetry-docker"

# Files and folders of the staged build context.
REQUIREMENTS_FILE = "requirements.txt"
COMPILED_REQUIREMENTS_FILE = "requirements-compiled.txt"
BUILT_REQUIREMENTS_FILE = "requirements-build.txt"
VCS_REQUIREMENTS_FILE = "requirements-vcs.txt"
SBOM_SCRIPT_FILE = "write_sbom.py"  # render/resources/ module of that name, copied as it is
SBOM_INPUTS_FILE = "sbom-inputs.json"
# The shared-library check (resources/check_libraries.py, copied as it is) and its settings.
LIBRARY_CHECK_FILE = "check_libraries.py"
LIBRARY_CHECK_SETTINGS_FILE = "library-check.json"
# The locked conda packages: conda's @EXPLICIT spec, and their hashes as sha256sum/md5sum read
CONDA_EXPLICIT_FILE = "conda-explicit.txt"
CONDA_SHA256_FILE = "conda-sha256sums.txt"
CONDA_MD5_FILE = "conda-md5sums.txt"
WHEELS_DIR = "dist"
LOCAL_WHEELS_DIR = "local-wheels"
LOCAL_SOURCES_DIR = "local-sources"
SOURCES_DIR = "project"
INCLUDED_DIR = "included"

# BuildKit secret ids: credentials and certificates reach the steps that download as these.
PIP_AUTH_SECRET = "pip-auth"
CA_BUNDLE_SECRET = "ca-bundle"
CONDA_AUTH_SECRET = "conda-auth"

# Temporary folders of the plugin carry this prefix.
TEMP_PREFIX = "poetry-docker-"

# 1980-01-01T00:00:00Z, the earliest time a zip file (so a wheel) can hold: the epoch of an
# image without another, and the time of every file the plugin writes into a build context.
ZIP_EPOCH = 315532800
