"""The files that never enter an image from a project directory, whatever the project says.

One list, matched without regard to case (``.ENV`` and ``ID_RSA`` are the same secrets on a
case-insensitive file system, and as dangerous elsewhere), against each part of a path.
docs/reference/build-context.md ("What of the project reaches the image") lists it too; a
test keeps them equal.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import PurePath

# Never copied from a project directory, whatever .gitignore or .dockerignore say. Only
# what is never source code a project needs: data belongs in the project's .dockerignore.
NEVER_COPIED = (
    # version control
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    # environment files, which hold tokens and passwords
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # credentials of package managers, clouds and other clients
    ".dockercfg",
    "pip.conf",
    "pip.ini",
    ".vault-token",
    ".terraformrc",
    "terraform.rc",
    # tokens that command-line tools keep under ~/.config (a folder and its parent's name)
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".config/doctl",
    ".config/helm",
    "application_default_credentials.json",
    "kubeconfig",
    "*.kubeconfig",
    ".kubeconfig",
    ".passwd-s3fs",
    ".databrickscfg",
    ".gem",
    ".cargo",
    ".m2",
    ".gradle",
    ".composer",
    "secrets.json",
    "secrets.y*ml",
    "secrets.toml",
    "service-account*.json",
    "*.ovpn",
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".yarnrc*",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".s3cfg",
    ".boto",
    ".htpasswd",
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    "secrets",
    ".secrets",
    "credentials",  # not credentials*: a credentials.py module is source code
    "credentials.json",
    "credentials.csv",
    "credentials.y*ml",
    "credentials.toml",
    "credentials.ini",
    # private keys, certificate stores, password databases, infrastructure state
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    # shell and interpreter histories (commands typed with secrets in them)
    ".bash_history",
    ".zsh_history",
    ".sh_history",
    ".history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".lesshst",
    ".viminfo",
    # virtual environments (and any folder with a pyvenv.cfg, see _in_virtual_environment)
    ".venv",
    "venv",
    ".direnv",
    # caches
    "__pycache__",
    "*.py[cod]",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    ".coverage",
    ".coverage.*",
    ".tox",
    ".nox",
    "node_modules",
    # build output
    "dist",
    "build",
    "*.egg-info",
    # editors and operating systems (swap files hold what was being edited)
    ".idea",
    ".vscode",
    "*.swp",
    "*.swo",
    ".DS_Store",
    "Thumbs.db",
    # the container build's and Poetry's own local files
    ".dockerignore",
    "Dockerfile",
    "poetry.toml",
)

_LOWERED = tuple(pattern.lower() for pattern in NEVER_COPIED)


def never_copied(name: str, parent: str = "") -> bool:
    """Whether a file or folder of this name (in a folder named ``parent``) is never copied;
    case-insensitive."""
    lowered = name.lower()
    pair = f"{parent.lower()}/{lowered}"
    return any(fnmatchcase(lowered, p) or fnmatchcase(pair, p) for p in _LOWERED)


def never_copied_path(path: PurePath) -> bool:
    """Whether any part of a relative path is never copied."""
    parts = path.parts
    return any(never_copied(part, parts[i - 1] if i else "") for i, part in enumerate(parts))
