"""``make_plan``: every decision about the image, made from values alone.

The project's facts, the selected lock, the settings and what the base images hold go in; a
:class:`BuildPlan` comes out. No Poetry object, no file and no engine is touched here (the
base images are looked at through ``probe_base``), so the plan can be tested from values made
in memory.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from poetry_docker_plugin.engine.refs import ImageReference
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.wheels import GLIBC_MAX_MINOR
from poetry_docker_plugin.names import (
    OCI_KEYS,
    OCI_PREFIX,
    SBOM_LABEL,
    SBOM_PATH,
    VENV_PREFIX,
)
from poetry_docker_plugin.plan.model import (
    BaseImage,
    BaseProbe,
    BuildPlan,
    CondaChannel,
    DependenciesPlan,
    EnvironmentPlan,
    HostUser,
    ImageMetadata,
    ProjectPlan,
    RuntimePlan,
    RuntimeUser,
)
from poetry_docker_plugin.plan.python import choose_python, venv_python
from poetry_docker_plugin.project.settings import check_no_runtime_base, check_workdir
from poetry_docker_plugin.system.packages import (
    DEFAULT_HOST_LIBRARIES,
    build_packages,
    runtime_packages,
)

if TYPE_CHECKING:
    from poetry_docker_plugin.lock.model import Lock
    from poetry_docker_plugin.lock.wheels import Target
    from poetry_docker_plugin.platforms import Platform
    from poetry_docker_plugin.project.facts import ProjectFacts
    from poetry_docker_plugin.project.settings import Settings

DEFAULT_BASE_IMAGES = {
    "conda": "condaforge/miniforge3:25.3.1-0",
    "micromamba": "mambaorg/micromamba:2.3.0-debian12-slim",
}
# Where conda and micromamba keep environments in the images they publish; used only when the
# base image could not be looked at (rendering with --print while it is not pulled yet).
CONVENTIONAL_ENVS_DIR = "/opt/conda/envs"
# The small image the conda and micromamba environments are copied into (`runtime-base`).
DEFAULT_RUNTIME_BASE = "debian:bookworm-slim"
# The unprivileged user that generated images run as unless the `user` setting says otherwise.
DEFAULT_USER = "app"
DEFAULT_UID = 10001


def make_plan(
    project: ProjectFacts,
    lock: Lock,
    settings: Settings,
    *,
    platform: Platform,
    tags: tuple[str, ...] = (),
    probe_base: BaseProbe | None = None,
    editable: bool = False,
    host_user: HostUser | None = None,
) -> BuildPlan:
    """Decides everything about the image from the project, its lock and the settings.

    ``platform`` is the target (``--platform``, else the engine's own). ``probe_base`` looks
    at a base image (its id, platform, Python, manager, where conda keeps environments);
    without it the plan follows the conventions of the published images. ``editable`` plans
    the development image of ``poetry docker shell``: the project is installed in editable
    mode pointing at the working directory, where the working tree is mounted, tagged
    ``<name>:dev``; it runs as ``host_user`` when given (Linux hosts), else as the runtime
    user.
    """
    wheel_in_image = _wheel_built_in_image(project, editable)
    machine = platform.machine
    manager, manager_reason = choose_env_manager(settings)
    reference = settings.base_image or DEFAULT_BASE_IMAGES.get(manager or "")
    if reference is None:  # venv on the python.org image of the chosen Python
        python, _ = choose_python(project, lock, machine, settings.python, GLIBC_MAX_MINOR)
        reference = f"python:{python}-slim-bookworm"
    base = probe_base(reference, manager or "auto") if probe_base else BaseImage(reference)
    if manager is None:
        manager, manager_reason = manager_of_base(base)
    check_platform(base, platform, "base-image")
    runtime_base = _runtime_base(project, settings, manager, editable, probe_base)
    if runtime_base is not None:
        check_platform(runtime_base, platform, "runtime-base")
    # Wheels must run on the C library of the image's last stage.
    glibc = (runtime_base or base).glibc_minor
    if manager == "venv":
        python, python_reason = venv_python(project, lock, settings.python, base, machine, glibc)
    else:
        python, python_reason = choose_python(project, lock, machine, settings.python, glibc)
    name = project.image_name
    version = project.version or "latest"
    env_name = "venv" if manager == "venv" else name
    envs_dir = base.envs_dir or CONVENTIONAL_ENVS_DIR
    prefix = VENV_PREFIX if manager == "venv" else f"{envs_dir.rstrip('/')}/{env_name}"
    check_workdir(settings, prefix, project)
    environment = EnvironmentPlan(
        manager=manager,
        manager_reason=manager_reason,
        base=base,
        python=python,
        python_reason=python_reason,
        name=env_name,
        prefix=prefix,
        conda_packages=settings.conda_packages,
        conda_channels=tuple(CondaChannel.parse(c) for c in settings.conda_channels),
        apt_packages=tuple(
            dict.fromkeys(settings.apt_packages + runtime_packages(_names(lock, platform, python)))
        ),
        platform=platform,
        runtime_base=runtime_base,
    )
    return BuildPlan(
        environment=environment,
        dependencies=plan_dependencies(
            lock,
            environment.target,
            wheel_in_image,
            ca_bundle=settings.ca_bundle is not None,
            python_headers=has_python_headers(manager, base),
            build_apt_packages=settings.build_apt_packages,
            ignore_libraries=DEFAULT_HOST_LIBRARIES + settings.ignore_libraries,
        ),
        project=ProjectPlan(
            name=name,
            version=version,
            package_mode=project.package_mode,
            wheel_built_in_image=wheel_in_image,
            editable=editable,
            include=settings.include,
        ),
        runtime=RuntimePlan(
            command=settings.command or project.default_command,
            workdir=settings.workdir,
            env=settings.env,
            ports=settings.ports,
            user=runtime_user(settings.user, host_user),
        ),
        metadata=ImageMetadata(
            tags=tags or default_tags(settings, name, version, editable),
            labels=_labels(project, settings, environment.bases[-1].label_keys),
            reproducible=settings.reproducible,
        ),
    )


def plan_dependencies(
    lock: Lock,
    target: Target,
    wheel_in_image: bool,
    *,
    ca_bundle: bool,
    python_headers: bool = True,
    build_apt_packages: tuple[str, ...] = (),
    ignore_libraries: tuple[str, ...] = DEFAULT_HOST_LIBRARIES,
) -> DependenciesPlan:
    """Sorts the locked packages by how the image gets them.

    Wheels from indexes and URLs are installed with hashes, compiled ones in a layer of their
    own: they are the large ones, and rarely change, so that adding a small pure-Python
    package does not reinstall them. Sdists and git commits are built into wheels in a
    separate stage, so that the image itself carries no build tools; path dependencies are
    built on the host when poetry-core can build them, else in that stage too.

    That stage gets git for git commits, and what building C code needs whenever it builds
    something not known to be pure Python (an sdist, a path project, the project itself with
    another backend): the compiler, and the environment's Python headers when
    ``python_headers`` says they are missing (Debian's python3 keeps them in python3.X-dev);
    and what the packages it builds are known to need from the system (``system.packages``:
    psycopg2's libpq-dev), then the user's ``build_apt_packages``. None of it reaches the
    runtime image.
    """
    requirements = lock.requirements
    applying = [r for r in requirements if r.applies_to(target)]
    local = [r for r in applying if r.is_local]
    wheels = tuple(r for r in local if r.builds_on_host)
    sources = tuple(r for r in local if r not in wheels)
    built = tuple(r for r in applying if r.kind != "git" and r.needs_build(target))
    vcs = tuple(r for r in applying if r.kind == "git")
    tools = []
    if vcs:
        tools.append("git")
    if any(r.uses_ssh for r in vcs):  # Debian's git only recommends ssh
        tools.append("openssh-client")
    if sources or wheel_in_image or any(r.needs_compiler(target) for r in built):
        tools.append("build-essential")
        if not python_headers:
            tools.append(f"python{target.python}-dev")
    from_sources = tuple(canonicalize_name(r.name) for r in (*built, *vcs, *sources))
    tools += [*build_packages(from_sources), *build_apt_packages]
    hashed = [r for r in requirements if not r.is_local and r.kind != "git" and r not in built]
    compiled = tuple(r for r in hashed if r in applying and r.is_compiled(target))
    return DependenciesPlan(
        compiled=compiled,
        pure=tuple(r for r in hashed if r not in compiled),
        built=built,
        vcs=vcs,
        local_wheels=wheels,
        local_sources=sources,
        build_tools=tuple(dict.fromkeys(tools)),
        groups=lock.groups,
        extras=lock.extras,
        indexes=lock.indexes,
        private_indexes=bool(lock.indexes),
        ca_bundle=ca_bundle,
        ignore_libraries=ignore_libraries,
    )


def _names(lock: Lock, platform: Platform, python: str) -> tuple[str, ...]:
    """The normalised names of the locked packages that apply on the target."""
    from poetry_docker_plugin.lock.wheels import Target

    target = Target(python, platform.machine)
    return tuple(canonicalize_name(r.name) for r in lock.requirements if r.applies_to(target))


def has_python_headers(manager: str, base: BaseImage) -> bool:
    """Whether the environment's Python comes with its headers (Python.h), which C extensions
    are compiled against.

    conda's and micromamba's ``python`` packages carry them, and so do python.org's images;
    a venv uses the base's python3, whose headers the probe looked for: Debian's python3 keeps
    them in a package of their own. A base not looked at is taken to be a python.org image
    (the venv manager's default), as the rest of the plan does.
    """
    return manager != "venv" or base.python_headers is not False


def choose_env_manager(settings: Settings) -> tuple[str | None, str]:
    """The setting when given, conda on the default (Miniforge) base; None when the base
    image is to be asked (``manager_of_base``)."""
    if settings.env_manager:
        return settings.env_manager, "set by env-manager"
    if not settings.base_image:
        return "conda", "the default, on the default Miniforge base image"
    return None, ""


def manager_of_base(base: BaseImage) -> tuple[str, str]:
    """The manager the base image holds, as the probe found it (conda, micromamba, else venv).

    Only when the image could not be looked at (files written with no engine to ask) is its
    name taken as a hint, and the reason says so.
    """
    if base.manager is not None:
        if base.manager == "venv":
            return "venv", f"the base image {base.reference} has neither conda nor micromamba"
        return base.manager, f"{base.manager} found in the base image {base.reference}"
    repository = ImageReference.parse(base.reference).name.lower()
    guess = "venv"
    if "micromamba" in repository:
        guess = "micromamba"
    elif any(word in repository for word in ("conda", "miniforge", "mambaforge")):
        guess = "conda"
    return guess, (
        f"guessed from the name {base.reference}: the image was not looked at; set "
        "env-manager to be sure"
    )


def check_platform(base: BaseImage, platform: Platform, setting: str) -> None:
    """Refuses a base image of another platform than the target: its programs would run
    emulated at best, and the wheels chosen for the target would not match them."""
    from poetry_docker_plugin.platforms import Platform

    if base.platform is None or Platform.of_image(base.platform) == platform:
        return
    raise DockerPluginError(
        f"The base image {base.reference} is a {base.platform} image, and the image is built "
        f"for {platform}. Set `{setting}` in [tool.poetry-docker] (or --{setting}) to an "
        f"image that has a {platform} variant (pull it with `docker pull --platform "
        f"{platform} ...`), or build for {base.platform} with --platform."
    )


def runtime_user(user: str | None, host: HostUser | None = None) -> RuntimeUser:
    """The USER of the image and the account to create for it.

    By default an ``app`` account with a fixed uid is created and used, so that the runtime
    is never root; ``user = "root"`` (or uid 0, however written) keeps root, another uid[:gid]
    is used as it is (no account needed), and a name is created when the base image does not
    have it. The development image (``host``) runs as the host's user, with an account of the
    same ids.
    """
    if host is not None:
        if host.uid == 0:
            return RuntimeUser("0")
        return RuntimeUser(f"{host.uid}:{host.gid}", host.name, host.uid, host.gid)
    if user is None:
        return RuntimeUser(str(DEFAULT_UID), DEFAULT_USER, DEFAULT_UID)
    uid = user.partition(":")[0]
    if user == "root" or (uid.isdigit() and int(uid) == 0):
        return RuntimeUser("0")
    if user[0].isdigit():
        return RuntimeUser(user)
    return RuntimeUser(user, user)


def _wheel_built_in_image(project: ProjectFacts, editable: bool) -> bool:
    """Whether the project's wheel is built by pip in the image: its backend is not poetry-core.

    The development image installs the project editable, which only poetry-core does here.
    """
    if not project.package_mode or project.builds_with_poetry_core:
        return False
    if editable:
        raise DockerPluginError(
            f"{project.pyproject_path} builds with {project.backend!r}; `poetry docker shell` "
            "installs the project editable, which it does for poetry-core projects only. Set "
            "`package-mode = false` under [tool.poetry] to work on the mounted sources instead."
        )
    return True


def _runtime_base(
    project: ProjectFacts,
    settings: Settings,
    manager: str,
    editable: bool,
    probe_base: BaseProbe | None,
) -> BaseImage | None:
    """The runtime stage's base: conda and micromamba environments run without their maker.

    The development image keeps the full base (people ``conda install`` there), and
    ``runtime-base = "base"`` keeps a single-stage image.
    """
    if manager == "venv":
        check_no_runtime_base(settings, project)
        return None
    if editable or settings.runtime_base == "base":
        return None
    reference = settings.runtime_base or DEFAULT_RUNTIME_BASE
    return probe_base(reference, "runtime") if probe_base else BaseImage(reference)


def default_tags(settings: Settings, name: str, version: str, editable: bool) -> tuple[str, ...]:
    repository = settings.image or name
    if editable:
        return (f"{repository}:dev",)
    tag_names = settings.tags or (re.sub(r"[^\w.-]", "-", version, flags=re.ASCII), "latest")
    return tuple(dict.fromkeys(f"{repository}:{tag}" for tag in tag_names))


def _labels(
    project: ProjectFacts, settings: Settings, base_labels: tuple[str, ...] = ()
) -> tuple[tuple[str, str], ...]:
    """OCI labels from the project's metadata, the SBOM's path, then the user's labels (which
    win)."""
    labels = dict(project.metadata)
    # A key the project has no value for is set empty, not inherited from the base image.
    for key in OCI_KEYS:
        labels.setdefault(f"{OCI_PREFIX}.{key}", "")
    labels.update(
        {key: "" for key in base_labels if key.startswith(f"{OCI_PREFIX}.") and key not in labels}
    )
    labels[SBOM_LABEL] = SBOM_PATH
    labels.update(settings.labels)
    return tuple(labels.items())
