"""``poetry docker build`` through the real Poetry command line, against a real engine."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import (
    Base,
    LoggingEngine,
    add_secrets,
    configure,
    copy_fixture,
    docker,
    locked,
    pip_freeze,
    run_poetry,
)


def build(project: Path, base: Base, tag: str, *options: str) -> None:
    """Builds ``project`` on ``base`` (its settings written into the project) as ``tag``."""
    configure(project, **base.settings)
    result = run_poetry(project, "docker", "build", "--tag", tag, *options)
    assert result.returncode == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == tag, "the image reference is printed last"


def test_flat_package_with_a_script(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    build(project, base, image_tag)
    assert pip_freeze(image_tag) == {
        **locked(project, "markupsafe", "packaging"),
        "hello-app": "0.3.1",
    }
    output = docker("run", "--rm", image_tag).stdout
    assert output.startswith(
        f"hello from hello-app: markupsafe {locked(project, 'markupsafe')['markupsafe']}"
    )
    assert docker("run", "--rm", image_tag, "id", "-u").stdout.strip() == "10001", (
        "runs unprivileged"
    )
    sizes = docker("history", "--no-trunc", "--format", "{{.Size}} {{.CreatedBy}}", image_tag)
    check = [line for line in sizes.stdout.splitlines() if "check_libraries.py" in line]
    assert [line.split()[0] for line in check] == ["0B"], "no library added, no file left"


def test_src_layout_with_settings(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("src-layout", tmp_path)
    build(project, base, image_tag)
    assert pip_freeze(image_tag) == {**locked(project, "attrs"), "greeter": "1.0.0"}
    assert docker("run", "--rm", image_tag).stdout.startswith(
        "Greeting(who='src layout') with attrs"
    )


def test_package_mode_false_copies_sources_but_no_secrets(
    tmp_path: Path, base: Base, image_tag: str
) -> None:
    project = copy_fixture("no-package", tmp_path)
    add_secrets(project)
    build(project, base, image_tag)
    assert pip_freeze(image_tag) == locked(project, "six")
    assert docker("run", "--rm", image_tag).stdout.startswith("no-package project, six")
    listing = docker("run", "--rm", image_tag, "find", "/app", "-mindepth", "1").stdout.split()
    assert sorted(listing) == ["/app/main.py", "/app/poetry.lock", "/app/pyproject.toml"]


@pytest.mark.parametrize("in_git", [False, True], ids=["outside-git", "in-git"])
def test_package_mode_false_honours_dockerignore(
    tmp_path: Path, base_image: str, image_tag: str, in_git: bool
) -> None:
    """/app holds what .dockerignore and the built-in exclusions leave; ignored edits rebuild
    nothing."""
    from tests.conftest import KEPT, add_dockerignored, git_init

    project = copy_fixture("no-package", tmp_path)
    add_dockerignored(project)
    if in_git:
        git_init(project)
    command = ("docker", "build", "--base-image", base_image, "--tag", image_tag)
    result = run_poetry(project, *command)
    assert result.returncode == 0, result.output
    listing = docker("run", "--rm", image_tag, "find", "/app", "-type", "f").stdout.split()
    assert sorted(listing) == [f"/app/{name}" for name in KEPT]
    (project / "data" / "big.bin").write_text("edited\n")
    (project / ".npmrc").write_text("//registry.npmjs.org/:_authToken=edited\n")
    again = run_poetry(project, *command)
    assert "is up to date" in again.stderr, again.output


def test_groups_and_extras(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    build(project, base, image_tag)
    assert pip_freeze(image_tag) == {**locked(project, "six"), "extras-demo": "2.0.0"}
    build(project, base, image_tag, "--with", "dev", "-E", "fast")
    assert pip_freeze(image_tag) == {
        **locked(project, "six", "markupsafe", "iniconfig"),
        "extras-demo": "2.0.0",
    }
    output = docker("run", "--rm", image_tag, "python", "-m", "extras_demo").stdout
    assert output.split("\n")[:4] == ["six yes", "markupsafe yes", "iniconfig yes", "tomli no"]
    build(project, base, image_tag, "--only", "docs")
    assert pip_freeze(image_tag) == {**locked(project, "tomli"), "extras-demo": "2.0.0"}


def test_platform_markers(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("platform-marker", tmp_path)
    build(project, base, image_tag)
    assert pip_freeze(image_tag) == {**locked(project, "typing-extensions"), "marked": "0.1.0"}
    assert docker("run", "--rm", image_tag).stdout.split("\n")[:2] == [
        "typing_extensions yes",
        "colorama no",
    ]


def test_default_tags_labels_and_fingerprint(tmp_path: Path, base_image: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.poetry-docker]\nimage = "pdp-test-defaults"\n'
    )
    try:
        result = run_poetry(project, "docker", "build", "--base-image", base_image)
        assert result.returncode == 0, result.output
        assert result.stdout.strip().splitlines()[-1] == "pdp-test-defaults:0.3.1"
        first = docker("image", "inspect", "pdp-test-defaults:0.3.1").stdout
        latest = docker("image", "inspect", "pdp-test-defaults:latest").stdout
        config = json.loads(first)[0]
        assert config["Id"] == json.loads(latest)[0]["Id"]
        labels = config["Config"]["Labels"]
        assert labels["org.opencontainers.image.title"] == "hello-app"
        assert labels["org.opencontainers.image.version"] == "0.3.1"
        assert len(labels["dev.poetry-docker.fingerprint"]) == 64
    finally:
        docker("image", "rm", "pdp-test-defaults:0.3.1", "pdp-test-defaults:latest", check=False)


def test_output_writes_a_context_users_can_build(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    target = tmp_path / "out"
    result = run_poetry(
        project, "docker", "build", "--base-image", base_image, "--output", str(target)
    )
    assert result.returncode == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == [
        "Dockerfile",
        "activate.sh",
        "check_libraries.py",
        "dist",
        "entrypoint.sh",
        "library-check.json",
        "requirements-compiled.txt",
        "requirements.txt",
        "sbom-inputs.json",
        "write_sbom.py",
    ]
    docker("build", "--tag", image_tag, str(target))
    assert docker("run", "--rm", image_tag).stdout.startswith("hello from hello-app")
    again = run_poetry(project, "docker", "build", "--output", str(target))
    assert again.returncode == 1
    assert "already exists and is not empty" in again.stderr


def test_stdout_holds_the_reference_alone(tmp_path: Path, base_image: str, image_tag: str) -> None:
    """IMAGE=$(poetry docker build -q) works; progress goes to stderr."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=base_image)
    for options in (["-q"], [], ["-q"]):  # a build, an up-to-date check, a quiet one
        result = run_poetry(project, "docker", "build", "--tag", image_tag, *options)
        assert result.returncode == 0, result.output
        assert result.stdout == f"{image_tag}\n"
        if not options:
            assert f"{image_tag} is up to date" in result.stderr
    assert result.stderr == "", "-q says nothing else"


def test_all_groups_and_the_combinations_poetry_refuses(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    build(project, Base("venv", base_image), image_tag, "--all-groups")
    assert pip_freeze(image_tag) == {
        **locked(project, "six", "iniconfig", "tomli"),
        "extras-demo": "2.0.0",
    }
    for options, message in (
        (["--all-groups", "--with", "dev"], "when using --all-groups"),
        (["-E", "fast", "--all-extras"], "explicit --extras while installing using --all-extras"),
    ):
        refused = run_poetry(project, "docker", "build", *options)
        assert refused.returncode == 1
        assert message in refused.stderr


def test_pid_1_is_an_init(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    build(project, base, image_tag)
    assert docker("run", "--rm", image_tag, "cat", "/proc/1/comm").stdout.strip() == "tini"
    started = docker("run", "--detach", image_tag, "sleep", "300").stdout.strip()
    try:
        import time

        begin = time.monotonic()
        docker("stop", "--time", "8", started)
        assert time.monotonic() - begin < 5, "SIGTERM stops the command at once"
    finally:
        docker("rm", "--force", started, check=False)


HOSTILE = "$(touch /tmp/pwned) `id` \"dq\" 'sq' back\\slash ${HOME} ; RUN echo x"


def test_hostile_values_reach_the_image_verbatim(
    tmp_path: Path, base: Base, image_tag: str
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(
        project,
        env={"HOSTILE": HOSTILE},
        labels={"org.example.hostile": HOSTILE},
        command=[
            "python",
            "-c",
            "import os, sys; print(os.environ['HOSTILE']); print(sys.argv[1])",
            HOSTILE,
        ],
    )
    build(project, base, image_tag)
    assert docker("run", "--rm", image_tag).stdout.splitlines() == [HOSTILE, HOSTILE]
    labels = json.loads(
        docker("image", "inspect", "--format", "{{json .Config.Labels}}", image_tag).stdout
    )
    assert labels["org.example.hostile"] == HOSTILE
    assert docker("run", "--rm", image_tag, "sh", "-c", "test ! -e /tmp/pwned").returncode == 0


def test_nothing_but_the_package_reaches_the_engine(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """Secrets, VCS data, environments and data never enter the context or the image."""
    from tests.conftest import add_secrets

    project = copy_fixture("flat-script", tmp_path)
    add_secrets(project)
    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "data").mkdir()
    (project / "data" / "big.bin").write_bytes(os.urandom(1024) * 50 * 1024)  # 50 MiB
    result = run_poetry(project, "docker", "build", "--base-image", base_image, "--tag", image_tag)
    assert result.returncode == 0, result.output
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
    sizes = [
        float(number) * scale[unit]
        for number, unit in re.findall(r"transferring context: ([\d.]+)\s*([kMG]?B)", result.output)
    ]
    assert sizes, result.output
    assert max(sizes) < 100_000, f"the context stays small: {sizes} bytes"
    found = docker(
        "run", "--rm", image_tag, "sh", "-c",
        "find / -xdev \\( -name .env -o -name .git -o -name secrets -o -name big.bin "
        "-o -name key.pem -o -name myenv \\) -print 2>/dev/null; true",
    ).stdout  # fmt: skip
    assert found.strip() == "", found
    history = docker("history", "--no-trunc", image_tag).stdout
    assert "hunter2" not in history


def test_a_base_rebuilt_under_the_same_tag_is_noticed(
    tmp_path: Path, base: Base, image_tag: str
) -> None:
    """The base image's id is an input: a new image under the same tag rebuilds the project."""
    moving = f"{image_tag.split(':')[0]}-base:moving"
    docker("tag", base.image, moving)
    project = copy_fixture("flat-script", tmp_path)
    try:
        build(project, Base(base.manager, moving, slim=False), image_tag)
        again = run_poetry(project, "docker", "build", "--tag", image_tag)
        assert "is up to date" in again.stderr, again.output
        dockerfile = f"FROM {base.image}\nRUN echo rebuilt > /base-marker\n"
        docker("build", "--tag", moving, "-", input=dockerfile)
        rebuilt = run_poetry(project, "docker", "build", "--tag", image_tag)
        assert rebuilt.returncode == 0, rebuilt.output
        assert "is up to date" not in rebuilt.stderr
        marker = docker("run", "--rm", image_tag, "cat", "/base-marker").stdout
        assert marker.strip() == "rebuilt", "the image is built on the new base"
    finally:
        docker("image", "rm", "--force", moving, check=False)


def test_an_existing_directory_is_never_handed_to_the_runtime_user(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """The workdir is created for the runtime user, but one the base has stays root's."""
    with_data = f"{image_tag.split(':')[0]}-base:with-data"
    docker("build", "--tag", with_data, "-", input=f"FROM {base_image}\nRUN mkdir /data\n")
    project = copy_fixture("flat-script", tmp_path)
    try:
        configure(project, workdir="/data")
        build(project, Base("venv", with_data), image_tag)
        owner = docker("run", "--rm", image_tag, "stat", "-c", "%U %a", "/data").stdout.split()
        assert owner == ["root", "755"]
        configure(project, workdir="/srv/hello")
        build(project, Base("venv", with_data), image_tag)
        owners = docker("run", "--rm", image_tag, "stat", "-c", "%U", "/srv/hello", "/srv")
        assert owners.stdout.split() == ["app", "root"]
    finally:
        docker("image", "rm", "--force", with_data, check=False)


def test_verbose_says_what_changed_and_very_verbose_shows_the_engine(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    build(project, Base("venv", base_image), image_tag)
    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text() + "# edited\n")
    edited = run_poetry(project, "docker", "build", "--tag", image_tag, "-v")
    assert f"Rebuilding {image_tag}: the project's files changed" in edited.stderr
    configure(project, env={"MODE": "x"})
    settings = run_poetry(project, "docker", "build", "--tag", image_tag, "-vv")
    # pyproject.toml, which holds the settings, is one of the project's files too
    reason = next(line for line in settings.stderr.splitlines() if line.startswith("Rebuilding"))
    assert reason == (
        f"Rebuilding {image_tag}: the Dockerfile (settings, options or the plugin), "
        "the project's files, the settings, build options or base image changed"
    )
    assert re.search(r"^\$ \S*docker build --file \S+/Dockerfile", settings.stderr, re.M)
    assert "$ " not in edited.stderr, "command lines only with -vv"


def test_included_files_beside_the_package(tmp_path: Path, base: Base, image_tag: str) -> None:
    """A script and a config beside the package reach the workdir, root's and readable; an
    edit of one rebuilds its layer alone."""
    project = copy_fixture("flat-script", tmp_path)
    (project / "demo_script.py").write_text(
        "import hello_app, pathlib\n"
        "print('script sees', pathlib.Path('configs/app.toml').read_text())\n"
    )
    (project / "configs").mkdir()
    (project / "configs" / "app.toml").write_text("mode = 'demo'\n")
    (project / "configs" / ".env").write_text("SECRET=1\n")
    configure(project, include=["demo_script.py", "configs/"])
    build(project, base, image_tag)
    ran = docker("run", "--rm", image_tag, "python", "demo_script.py").stdout
    assert ran.strip() == "script sees mode = 'demo'"
    listing = docker(
        "run", "--rm", image_tag, "sh", "-c", "stat -c '%U %a %n' demo_script.py configs configs/*"
    )
    assert listing.stdout.splitlines() == [
        "root 644 demo_script.py",
        "root 755 configs",
        "root 644 configs/app.toml",
    ], "the .env is never copied"
    before = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image_tag).stdout
    (project / "demo_script.py").write_text("print('edited')\n")
    build(project, base, image_tag)
    after = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image_tag).stdout
    old, new = json.loads(before), json.loads(after)
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [len(new) - 1]
    configure(project, include=["demo_script.py", "notebooks/*.ipynb"])
    refused = run_poetry(project, "docker", "build", "--tag", image_tag)
    assert refused.returncode == 1
    assert "The pattern 'notebooks/*.ipynb' of `include`" in refused.stderr


def test_labels_are_the_projects_own(tmp_path: Path, base_image: str, image_tag: str) -> None:
    """A base's OCI description does not pass for the project's; pip stays quiet about root."""
    labelled = f"{image_tag.split(':')[0]}-base:labelled"
    dockerfile = (
        f"FROM {base_image}\n"
        'LABEL org.opencontainers.image.description="the base image" '
        'org.opencontainers.image.vendor="Base Corp" org.example.kept="yes"\n'
    )
    docker("build", "--tag", labelled, "-", input=dockerfile)
    project = copy_fixture("no-package", tmp_path)
    try:
        configure(project, base_image=labelled)
        result = run_poetry(project, "docker", "build", "--tag", image_tag)
        assert result.returncode == 0, result.output
        assert "Running pip as the 'root' user" not in result.output
        labels = json.loads(
            docker("image", "inspect", "--format", "{{json .Config.Labels}}", image_tag).stdout
        )
        assert labels["org.opencontainers.image.description"] == ""
        assert labels["org.opencontainers.image.vendor"] == ""
        assert labels["org.example.kept"] == "yes", "only OCI keys are the project's to say"
    finally:
        docker("image", "rm", "--force", labelled, check=False)


def test_user_setting_root_a_name_and_a_uid(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """``user`` replaces the default account (uid 10001): root, a named account, a bare uid."""
    project = copy_fixture("flat-script", tmp_path)
    for user, check, expected in (
        ("root", "id -u", "0"),
        ("svc", "id -un", "svc"),  # `id -un` names only an account that exists
        ("4321", "id -u", "4321"),
    ):
        configure(project, user=user)
        build(project, Base("venv", base_image), image_tag)
        said = docker("run", "--rm", image_tag, "sh", "-c", check).stdout.strip()
        assert said == expected, f"user = {user!r}"


def test_all_extras_installs_every_extra(tmp_path: Path, base_image: str, image_tag: str) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    build(project, Base("venv", base_image), image_tag, "--all-extras")
    assert pip_freeze(image_tag) == {
        **locked(project, "six", "markupsafe"),  # markupsafe: the extra `fast`
        "extras-demo": "2.0.0",
    }


def test_platform_and_build_args_reach_docker_build(
    tmp_path: Path, base_image: str, image_tag: str, logging_engine: LoggingEngine
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=base_image)
    options = ("--platform", "linux/amd64", "--build-arg", "PDP_STAGE=test")
    result = run_poetry(
        project, "docker", "build", "--tag", image_tag, *options,
        env={"POETRY_DOCKER_ENGINE": str(logging_engine.path)},
    )  # fmt: skip
    assert result.returncode == 0, result.output
    [call] = logging_engine.builds()
    assert " --platform linux/amd64 " in call
    assert " --build-arg PDP_STAGE=test " in call
    platform = docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image_tag)
    assert platform.stdout.strip() == "linux/amd64"


def test_a_no_change_call_asks_the_engine_while_it_plans(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    """The images the last call asked about are inspected while the lock is read and the plan
    made (-vv shows the command line before the plan's line); a call that asks about other
    images (``run`` after ``build``) gets its own answer."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, **Base("venv", base_image).settings)
    first = run_poetry(project, "docker", "build")
    assert first.returncode == 0, first.output
    # A touch changes no content, but the record of the last call no longer answers
    # (tests/engine/test_known_image.py): this call reads the lock and plans.
    os.utime(project / "pyproject.toml")
    again = run_poetry(project, "docker", "build", "-vv")
    assert again.returncode == 0 and "is up to date" in again.stderr, again.output
    lines = again.stderr.splitlines()
    inspects = [n for n, line in enumerate(lines) if " image inspect " in line]
    plan = next(n for n, line in enumerate(lines) if line.startswith("Python 3."))
    # the images asked about while the lock is read, then the base's reference resolved to
    # its id (its facts are the image's, never a tag's): both before the plan's line
    assert len(inspects) == 2 and inspects[-1] < plan, again.stderr
    assert "{{json .}}" in lines[inspects[1]] and base_image in lines[inspects[1]]

    ran = run_poetry(project, "docker", "run", "-vv", "--", "python", "-c", "print('ran')")
    assert ran.returncode == 0 and ran.stdout.strip() == "ran", ran.output
    assert "Building " not in ran.stderr


def test_a_private_source_file_is_read_by_the_runtime_user(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    """package-mode = false: a 0600 file on the host (as umask 077 makes it) is still read by
    the image's unprivileged user; `user = "00"` is root, said as root (uid 0)."""
    project = copy_fixture("no-package", tmp_path)
    (project / "settings.ini").write_text("greeting = private hello\n")
    (project / "settings.ini").chmod(0o600)
    (project / "main.py").write_text("print(open('settings.ini').read().strip())\n")
    build(project, Base("venv", base_image), image_tag)
    assert docker("run", "--rm", image_tag).stdout.strip() == "greeting = private hello"
    assert docker("run", "--rm", image_tag, "id", "-u").stdout.strip() != "0"
    configure(project, user="00")
    printed = run_poetry(project, "docker", "build", "--print")
    assert "\nUSER 0\n" in printed.stdout, "root by its uid, however written"
    build(project, Base("venv", base_image), image_tag)
    assert docker("run", "--rm", image_tag, "id", "-u").stdout.strip() == "0"
