"""Where features meet (issue 29): the orchestration driven through a fake engine
(``fake_engine``) that fails, interrupts or holds at a named docker sub-command."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.pipeline.base_probe import probe_base_image
from poetry_docker_plugin.platforms import Platform
from tests.unit.fake_engine import FakeEngine, conda_answers, venv_answers

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.pipeline.builder import Builder

AMD64 = Platform("linux", "amd64")


def test_base_facts_are_the_images_not_the_tags(tmp_path: Path) -> None:
    """Item 2: a tag that named a venv base, re-tagged to a conda base, is probed anew (the
    facts were found by reference: the venv answer stayed until the cache was deleted)."""
    engine, cache = FakeEngine(), tmp_path / "base-images-v5.json"
    engine.add("acme/base:1", "venv base", answers=venv_answers())
    first = probe_base_image(engine, "acme/base:1", "auto", AMD64, cache)
    assert (first.manager, first.python) == ("venv", "3.11")
    runs = engine.count("run")
    assert probe_base_image(engine, "acme/base:1", "auto", AMD64, cache) == first
    assert engine.count("run") == runs, "the same image: answered from the cache"
    engine.add("acme/base:1", "conda base", answers=conda_answers())  # re-tagged
    for pull in (True, False):  # a build, and --print
        again = probe_base_image(engine, "acme/base:1", "auto", AMD64, cache, pull=pull)
        assert (again.manager, again.envs_dir) == ("conda", "/opt/conda/envs")
        assert again.id == engine.tags["acme/base:1"] != first.id


@pytest.mark.parametrize(
    ("facts", "shown"),
    [
        ({"labels": {"org.opencontainers.image.zz\nRUN echo X\nLABEL a": "1"}}, r"zz\nRUN"),
        ({"answers": conda_answers('/opt/conda/envs\nRUN echo X')}, r"envs\nRUN"),
        ({"platform": "linux/\x1b[31mamd64"}, r"\x1b[31m"),
        ({"answers": {"sh": "conda\n", "conda": '{"envs_dirs": ["/o"], "virtual_pkgs": '
                     '[["__glibc", "2.36;x", "0"]]}'}}, "2.36;x"),
    ],
)  # fmt: skip
def test_values_read_from_a_base_image_are_checked(
    facts: dict[str, object], shown: str, tmp_path: Path
) -> None:
    """Item 12: a label key, conda's envs_dirs, an architecture string from a base image are
    checked like lock values, and shown escaped (never raw on the terminal)."""
    engine = FakeEngine()
    engine.add("acme/base:1", "hostile", **{"answers": conda_answers(), **facts})
    with pytest.raises(DockerPluginError) as refused:
        probe_base_image(engine, "acme/base:1", "auto", AMD64, tmp_path / "cache.json")
    message = str(refused.value)
    assert "The base image acme/base:1 states" in message
    assert shown in message
    assert "\n" not in message and "\x1b" not in message


def moved_tags(engine: FakeEngine, tmp_path: Path, *tags: str) -> str:
    """The tags of a new image moved as the builder moves them, inside ``signals_raise``."""
    from poetry_docker_plugin.pipeline.tagging import move_tags, tags_now
    from poetry_docker_plugin.util.interrupts import signals_raise

    built = engine.build(tmp_path, (), {"fingerprint": "new"})
    with signals_raise():
        move_tags(engine, built, tags_now(engine, tags), tmp_path)
    return built


TAGS = ("app:0.3.1", "app:latest")


def test_tags_move_together_under_sigint(tmp_path: Path) -> None:
    """Item 3: Ctrl-C between two ``docker tag`` calls left 0.3.1 on the new image and
    latest on the old one, and said that nothing was tagged."""
    from poetry_docker_plugin.util.interrupts import interrupted

    engine = FakeEngine()
    old = engine.add(TAGS[0], "old").id
    engine.tags[TAGS[1]] = old
    engine.fault("tag", "sigint", nth=1)  # a real SIGINT, as the first tag is moved
    with pytest.raises(KeyboardInterrupt) as interrupt:
        moved_tags(engine, tmp_path, *TAGS)
    new = next(i for i in engine.images if i != old)
    assert engine.tags == dict.fromkeys(TAGS, new), "every tag moved, none left behind"
    message = interrupted(interrupt.value, [])
    assert "nothing was tagged" not in message
    assert f"app:0.3.1, app:latest name the new image {new}" in message


def test_a_refused_tag_puts_back_those_moved_before_it(tmp_path: Path) -> None:
    from poetry_docker_plugin.util.interrupts import interrupted

    engine = FakeEngine()
    old = engine.add(TAGS[0], "old").id  # app:latest names nothing yet
    engine.fault("tag", "fail", nth=2)
    with pytest.raises(DockerPluginError):
        moved_tags(engine, tmp_path, TAGS[1], TAGS[0])
    assert engine.tags.get(TAGS[0]) == old
    assert TAGS[1] not in engine.tags, "a tag that named nothing before names nothing again"
    assert "nothing was tagged" in interrupted(KeyboardInterrupt(), [])


# -- the fault harness: multi-platform push, driven through real builders -------------------

ARM64 = Platform("linux", "arm64")
LIST_TAGS = ("reg.example:5000/app:0.3.1", "reg.example:5000/app:latest")


def builders_for(
    tmp_path: Path,
    engine: FakeEngine,
    platforms: tuple[Platform, ...],
    development: bool = False,
    **settings: object,
) -> list[Builder]:
    """The builders ``build --platform A,B --push`` makes, on the fixture project."""
    from cleo.io.buffered_io import BufferedIO
    from poetry.factory import Factory

    from poetry_docker_plugin.freshness.inputs import GivenInputs, ImageInputs
    from poetry_docker_plugin.freshness.request import BuildRequest
    from poetry_docker_plugin.pipeline.builder import Builder
    from poetry_docker_plugin.project.facts import ProjectFacts
    from poetry_docker_plugin.project.settings import Settings
    from tests.conftest import copy_fixture

    root = tmp_path / "work"
    root.mkdir(exist_ok=True)
    project_dir = root / "flat-script"
    if not project_dir.exists():
        copy_fixture("flat-script", root)
    poetry = Factory().create_poetry(project_dir)
    project = ProjectFacts.read(poetry)
    given = GivenInputs.read({}, project_dir, development=development, conda_lock=False, environ={})
    made = []
    for platform in platforms:
        tags = tuple(f"{tag}-{platform.tag_suffix}" for tag in LIST_TAGS)
        if development:  # `devcontainer --prepare-image` and `shell`: the <name>:dev image
            tags = ("hello-app:dev",)
        request = BuildRequest(
            groups=frozenset({"main"}),
            tags=tags,
            platform=platform,
            inline_cache=not development,
            development=development,
        )
        inputs = ImageInputs(given, Settings(**settings), request)  # type: ignore[arg-type]
        io = BufferedIO()
        made.append(Builder(poetry, project, inputs, io, tmp_path / "cache", engine=engine))
    return made


def conda_bases(engine: FakeEngine, *platforms: Platform) -> None:
    for platform in platforms:  # one tag per platform in a local store: the last one added
        engine.publish("acme/conda:1", f"conda {platform}", platform=str(platform),
                   answers=conda_answers())  # fmt: skip
        engine.publish("debian:bookworm-slim", f"debian {platform}", platform=str(platform),
                   answers={"getconf": "glibc 2.36\n"})  # fmt: skip


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR of its own, to see what a call leaves there."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def fake_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    """``docker manifest`` runs its own client process: answered by the fake engine."""
    from poetry_docker_plugin.engine import manifests

    def run(engine: FakeEngine, arguments: list[str], environment: object = None) -> str:
        engine._call(*arguments)
        return "sha256:" + "ab" * 32 if arguments[1] == "push" else ""

    monkeypatch.setattr(manifests, "_run", run)


def publish(builders: list[Builder]) -> str:
    from poetry_docker_plugin.pipeline.publish import publish_platforms

    return publish_platforms(builders, LIST_TAGS, lambda _: None, rebuild=False)


@pytest.mark.usefixtures("fake_manifests")
def test_a_two_platform_push_checks_every_base_before_the_first_push(tmp_path: Path) -> None:
    """Item 4: amd64 was pushed, then the arm64 base was found missing: a partial publish."""
    engine = FakeEngine()
    conda_bases(engine, AMD64)  # no arm64 base, and none can be pulled
    builders = builders_for(tmp_path, engine, (AMD64, ARM64), base_image="acme/conda:1")
    with pytest.raises(DockerPluginError, match="pulling its linux/arm64 image failed"):
        publish(builders)
    assert engine.count("push") == engine.count("build") == 0
    assert engine.count("manifest") == 0


@pytest.mark.usefixtures("fake_manifests")
@pytest.mark.parametrize("step", ["build", "tag"])
def test_a_two_platform_push_builds_every_image_before_the_first_push(
    step: str, tmp_path: Path, private_tmp: Path
) -> None:
    engine = FakeEngine()
    conda_bases(engine, AMD64, ARM64)
    builders = builders_for(tmp_path, engine, (AMD64, ARM64), base_image="acme/conda:1")
    engine.fault(step, "fail", nth=2)  # the second image's build (or its tag) fails
    with pytest.raises(DockerPluginError, match=f"fake engine: {step} failed"):
        publish(builders)
    assert engine.count("push") == 0, "nothing published"
    assert not list(private_tmp.iterdir()), "no staged context or secrets left"


@pytest.mark.usefixtures("fake_manifests")
def test_a_two_platform_push_publishes_the_list_last(tmp_path: Path) -> None:
    engine = FakeEngine()
    conda_bases(engine, AMD64, ARM64)
    builders = builders_for(tmp_path, engine, (AMD64, ARM64), base_image="acme/conda:1")
    reference = publish(builders)
    assert reference == "reg.example:5000/app@sha256:" + "ab" * 32
    order = [call[0] for call in engine.calls if call[0] in ("build", "push", "manifest")]
    assert order == ["build"] * 2 + ["push"] * 4 + ["manifest"] * 4


# -- poetry-docker.lock: edited, nested, huge ---------------------------------------------


@pytest.mark.parametrize(("old", "new"), [('"3.11.2"', '"3.11.3"'), ('"h_offline_0"', '"h_1"')])
def test_a_hand_edited_conda_lock_version_is_refused(old: str, new: str, tmp_path: Path) -> None:
    """Item 5: python 3.11.2 edited to 3.11.3 was accepted; the image held the URL's package
    and the SBOM stated the edited version."""
    from poetry_docker_plugin.conda_lock.file import conda_lock_text, read_conda_lock
    from tests.unit.conda_lock.test_file import LOCK

    path = tmp_path / "poetry-docker.lock"
    text = conda_lock_text(LOCK)
    path.write_text(text)
    assert read_conda_lock(path) is not None
    path.write_text(text.replace(f"version = {old}", f"version = {new}").replace(
        f"build = {old}", f"build = {new}"))  # fmt: skip
    with pytest.raises(DockerPluginError) as refused:
        read_conda_lock(path)
    assert str(path) in str(refused.value)
    assert "python-3.11.2-h_offline_0.tar.bz2, which is another package" in str(refused.value)


@pytest.mark.parametrize("shape", ["nested", "huge"])
def test_a_nested_or_huge_conda_lock_is_one_paragraph(shape: str, tmp_path: Path) -> None:
    """Item 13: a deeply nested lock ended in RecursionError naming no file; a 100 MB lock
    was read whole."""
    from poetry_docker_plugin.conda_lock.file import MAX_LOCK_BYTES, read_conda_lock

    path = tmp_path / "poetry-docker.lock"
    if shape == "nested":
        path.write_text("version = 1\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    else:
        with path.open("wb") as stream:  # sparse: no disk is used for it
            stream.truncate(MAX_LOCK_BYTES * 12)
    with pytest.raises(DockerPluginError) as refused:
        read_conda_lock(path)
    message = str(refused.value)
    assert message.startswith(f"{path} is ")
    assert "`poetry docker lock`" in message


# -- writes never follow a link the project holds (item 11) --------------------------------


@pytest.mark.parametrize(
    ("link", "arguments", "named"),
    [
        (".devcontainer", ("devcontainer",), "file"),
        ("out", ("build", "-o", "out/ctx"), "--output directory"),
        ("out", ("build", "--sbom", "out/sbom.json"), "--sbom path"),
        ("out", ("build", "--push", "--digest-file", "out/d"), "--digest-file path"),
    ],
)
def test_writes_never_follow_a_link_the_project_holds(
    link: str, arguments: tuple[str, ...], named: str, tmp_path: Path
) -> None:
    """Item 11: a .devcontainer that was a symlink made `devcontainer` replace another
    project's file (without --force) while naming the in-project path; so did -o, --sbom and
    --digest-file through a linked folder. Through the real command line, no engine."""
    from tests.conftest import copy_fixture, run_poetry

    (tmp_path / "b").mkdir()
    other = copy_fixture("flat-script", tmp_path / "b")  # another project, its file generated
    env = {"POETRY_DOCKER_ENGINE": "/nonexistent"}
    assert run_poetry(other, "docker", "devcontainer", env=env).returncode == 0
    victim = other / ".devcontainer" / "devcontainer.json"
    generated = victim.read_text()
    project = copy_fixture("flat-script", tmp_path)
    (project / link).symlink_to(other / ".devcontainer")
    result = run_poetry(project, "docker", *arguments, env=env)
    assert result.returncode == 1, result.output
    assert f"The {named} {project}/" in result.stderr
    assert f"goes through {project / link}, a symbolic link inside the project" in result.stderr
    assert "Traceback" not in result.output
    assert victim.read_text() == generated
    assert [p.name for p in victim.parent.iterdir()] == ["devcontainer.json"]


def test_every_call_sweeps_what_killed_calls_left(tmp_path: Path) -> None:
    """Item 6: a killed run's folders stayed until a later call built; a call answered from
    the record (or writing only files) swept nothing."""
    import subprocess

    from tests.conftest import copy_fixture, run_poetry

    project = copy_fixture("flat-script", tmp_path)
    folder = tmp_path / "tmp"
    folder.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs, as a killed call's
    left = folder / f"poetry-docker-context-{gone.pid}-abc123"
    (left / "src").mkdir(parents=True)
    live = folder / f"poetry-docker-context-{os.getpid()}-def456"  # a running call's: kept
    live.mkdir()
    env = {"POETRY_DOCKER_ENGINE": "/nonexistent", "TMPDIR": str(folder)}
    result = run_poetry(project, "docker", "build", "--print", env=env)
    assert result.returncode == 0, result.output
    assert not left.exists()
    assert live.exists()


# -- a shell on code you did not write (item 15) ---------------------------------------------


def test_the_shell_never_mounts_git_writable(tmp_path: Path) -> None:
    """Item 15: ``shell`` handed the container a writable .git/config (an ``fsmonitor`` line
    then runs on the host at the next ``git status``); --read-only mounts the whole tree so."""
    from poetry_docker_plugin.commands.shell import tree_mounts

    (tmp_path / ".git").mkdir()
    tree, git = tree_mounts(tmp_path, "/app", read_only=False)[1::2]
    assert tree == f"type=bind,source={tmp_path},target=/app"
    assert git == f"type=bind,source={tmp_path}/.git,target=/app/.git,readonly"
    assert tree_mounts(tmp_path, "/app", read_only=True) == [
        "--mount", f"type=bind,source={tmp_path},target=/app,readonly"
    ]  # fmt: skip
    (tmp_path / ".git").rmdir()
    (tmp_path / ".git").symlink_to("/etc")  # the link's target is the host's: not mounted
    assert len(tree_mounts(tmp_path, "/app", read_only=False)) == 2


def test_a_build_script_never_runs_on_the_host(tmp_path: Path) -> None:
    """Found here: poetry-core runs a project's ``[tool.poetry.build]`` script when it builds
    the wheel, and the plugin built it in-process: `build -o` ran a stranger's script as you.
    Such a project's wheel is built by pip in the image, from its whole tree."""
    from tests.conftest import copy_fixture, run_poetry

    project = copy_fixture("flat-script", tmp_path)
    ran = tmp_path / "ran-on-the-host"
    (project / "build.py").write_text(f"open({str(ran)!r}, 'w').write('x')\n")
    with (project / "pyproject.toml").open("a") as stream:
        stream.write('\n[tool.poetry.build]\nscript = "build.py"\ngenerate-setup-file = false\n')
    out = tmp_path / "out"
    env = {"POETRY_DOCKER_ENGINE": "/nonexistent"}
    result = run_poetry(project, "docker", "build", "-o", str(out), env=env)
    assert result.returncode == 0, result.output
    assert not ran.exists()
    assert (out / "project" / "build.py").is_file()
    assert "pip wheel" in (out / "Dockerfile").read_text()


# -- messages that name the step, the path and the engine's words (items 7, 8) -------------


def test_a_load_that_fails_says_the_engines_words(tmp_path: Path) -> None:
    """Item 7: `docker load` failing said `Broken pipe (a file of the project or of the
    plugin's cache)`, and the engine's own error was lost."""
    from poetry_docker_plugin.engine.archive import loading
    from tests.unit.fake_engine import fake_client

    engine = fake_client(
        tmp_path,
        'load) echo "Error processing tar file(exit status 1): unexpected EOF" >&2; '
        "exit 1;;\nversion) echo 20.10.24;;",
    )
    with pytest.raises(DockerPluginError) as failed, loading(engine) as (stream, _):
        for _ in range(64):
            stream.write(b"x" * 65536)
    message = str(failed.value)
    assert "`docker load` stopped" in message
    assert "unexpected EOF" in message


def test_a_full_tmpdir_during_the_rewrite_names_the_step_and_folder(
    tmp_path: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 7: TMPDIR full while the layers were rewritten said `No space left on device (a
    file of the project or of the plugin's cache)`, naming no path."""
    import errno

    from poetry_docker_plugin.pipeline import reproducible_archive as image_archive
    from poetry_docker_plugin.pipeline.reproducible import normalise_image

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(image_archive, "normalise_saved", full)
    engine = FakeEngine()
    built = engine.add("app:1", "built").id
    with pytest.raises(DockerPluginError) as failed:
        normalise_image(engine, built, [], 1700000000, lambda _: None)
    message = str(failed.value)
    assert "Could not save the built image and rewrite its layers (--reproducible)" in message
    assert f"({private_tmp}/poetry-docker-normalise-" in message
    assert "Nothing was tagged" in message and "Free space on the disk" in message
    assert not list(private_tmp.iterdir())


@pytest.mark.parametrize(("events", "said"), [("echo oom", "ran out of memory (OOM)"),
                                              ("true", "by `docker kill`")])  # fmt: skip
def test_a_killed_container_is_said(events: str, said: str, tmp_path: Path) -> None:
    """Item 8: `docker kill` of `poetry docker run -- sleep 30`: exit 137 and no message."""
    from poetry_docker_plugin.engine.run import run_container
    from tests.unit.fake_engine import fake_client

    engine = fake_client(tmp_path, f"run) exit 137;;\nevents) {events};;")
    with pytest.raises(DockerPluginError) as killed:
        run_container(engine, ["--rm", "app:1", "sleep", "30"], "app-1234")
    assert killed.value.exit_code == 137
    message = str(killed.value)
    assert message.startswith("The container app-1234 was killed (SIGKILL, exit 137), ")
    assert said in message


def test_an_immutable_file_is_not_called_a_folder_to_make_writable(tmp_path: Path) -> None:
    """Item 10: an immutable lock file (chattr +i) got the hint to make the folder writable."""
    import errno
    import subprocess

    from poetry_docker_plugin.util.oserrors import describe
    from poetry_docker_plugin.util.output_files import write_atomically

    target = tmp_path / "poetry-docker.lock"
    target.write_text("version = 1\n")
    error = OSError(errno.EPERM, "Operation not permitted", str(target))
    said = describe(error, "write poetry-docker.lock", tmp_path)
    assert f"may be immutable or append-only (`lsattr {target}`" in said
    assert "writable" not in said
    if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode != 0:
        return  # no CAP_LINUX_IMMUTABLE here: the message above is what such a host shows
    try:
        with pytest.raises(DockerPluginError) as refused:
            write_atomically("poetry-docker.lock", target, b"version = 1\n# edited\n")
        assert "may be immutable or append-only" in str(refused.value)
        assert target.read_text() == "version = 1\n"
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)


# -- the fault table: each step of a build failed or interrupted ----------------------------

STEP_FAULTS = [
    # (what is built, the sub-command, the fault, its call, the words the message holds)
    ("build", "build", "fail", 1, "fake engine: build failed"),
    ("build", "build", "interrupt", 1, "nothing was tagged"),
    ("build", "tag", "fail", 2, "fake engine: tag failed"),
    ("build", "tag", "sigint", 1, "the move was finished first"),
    ("build", "tag", "sigint+fail", 2, "Interrupted: nothing was tagged"),
    ("reproducible", "save", "fail", 1, "fake engine: save failed"),
    ("reproducible", "save", "interrupt", 1, "nothing was tagged"),
    # `devcontainer --prepare-image` (and `shell`): the development image, the same moves
    ("development", "build", "fail", 1, "fake engine: build failed"),
    ("development", "build", "interrupt", 1, "nothing was tagged"),
    ("development", "tag", "sigint", 1, "the move was finished first"),
    ("two platforms", "push", "fail", 2, "Pushed before it: reg.example:5000/app@sha256:"),
    ("two platforms", "push", "fail", 3, "the platforms before it went through: reg.example"),
    ("two platforms", "manifest", "fail", 1, "fake engine: manifest failed"),
    ("two platforms", "push", "interrupt", 1, "nothing was pushed but what was said above"),
]


@pytest.mark.usefixtures("fake_manifests")
@pytest.mark.parametrize(("kind", "step", "action", "nth", "said"), STEP_FAULTS)
def test_each_step_failed_or_interrupted_leaves_a_true_state(
    kind: str, step: str, action: str, nth: int, said: str, tmp_path: Path, private_tmp: Path
) -> None:
    """After each fault: no tag names a half-made image (each names the old image, or every
    one the new), the message is true, and no temporary folder is left."""
    from poetry_docker_plugin.pipeline.publish import publish_platforms
    from poetry_docker_plugin.util.interrupts import interrupted, signals_raise

    engine = FakeEngine()
    conda_bases(engine, AMD64, ARM64)
    platforms = (AMD64, ARM64) if kind == "two platforms" else (AMD64,)
    builders = builders_for(tmp_path, engine, platforms, development=kind == "development",
                            base_image="acme/conda:1",
                            reproducible=kind == "reproducible")  # fmt: skip
    if kind == "reproducible":
        for builder in builders:
            builder.request = dataclasses.replace(builder.request, epoch=1700000000)
    tags = [tag for builder in builders for tag in builder.request.tags]
    old = engine.add(tags[0], "the previous image").id
    for tag in tags:
        engine.tags[tag] = old
    engine.fault(step, action, nth)
    with pytest.raises((DockerPluginError, KeyboardInterrupt)) as fault, signals_raise():
        if kind == "two platforms":
            publish_platforms(builders, LIST_TAGS, lambda _: None, rebuild=False)
        else:
            builders[0].ensure_image(builders[0].prepare())
    if isinstance(fault.value, KeyboardInterrupt):
        message = interrupted(fault.value, [b.tagged for b in builders if b.tagged])
    else:
        message = str(fault.value)
    assert said in message
    if kind == "development":
        assert builders[0].prepare().plan.project.editable, "the development image's plan"
    for builder in builders:
        ids = {engine.tags[tag] for tag in builder.request.tags}
        assert len(ids) == 1, "the tags of one image name one image"
        assert ids == {old} or (ids <= set(engine.images) and engine.images[ids.pop()].labels)
    assert not list(private_tmp.iterdir()), "no temporary folder left"


def test_a_package_file_that_fails_its_check_names_both_causes() -> None:
    """Item 9: a conda channel that went away mid-build (a file cut short) was reported as
    a channel serving another file under the locked name."""
    from poetry_docker_plugin.plan.pinning import pin
    from poetry_docker_plugin.render.dockerfile import render
    from poetry_docker_plugin.sources.digests import SourceDigests
    from tests.unit.plan.test_pinning import lock_of, plan_of

    plan = plan_of()
    dockerfile = render(pin(plan, lock_of(plan)), SourceDigests("a", "b", "c", "d")).dockerfile
    said = " ".join(line for line in dockerfile.splitlines() if "echo 'poetry-docker:" in line)
    assert "is missing, cut short or does not match its hash in poetry-docker.lock" in said
    assert "download was cut off (a channel that stopped answering" in said
    assert "poetry docker lock --update" in said


# -- `poetry docker lock` under faults, through the real command line and a fake client -------

# Runs a command with SIGINT's default disposition: Python turns SIGINT into KeyboardInterrupt
# only when it was not ignored at its start.
SIGINT_DEFAULT = (
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])",
)

LOCK_CLIENT = r"""
case "$*" in
version*Server.Os*) echo linux/amd64;;
version*) echo 20.10.24;;
"image inspect --format {{json .}} "*)
    echo '{"Id": "sha256:%(id)s", "Os": "linux", "Architecture": "amd64", "Config": {}}';;
"image inspect --format {{.Id}} {{json .RepoDigests}} "*) echo "sha256:%(id)s []";;
*"for p in conda micromamba"*) echo conda;;
*"--entrypoint conda"*) echo '{"envs_dirs": ["/opt/conda/envs"], "virtual_pkgs": []}';;
*py=*) %(solve)s;;
*) echo "fake client: $*" >&2; exit 1;;
esac
"""


@pytest.mark.parametrize(
    ("solve", "said"),
    [
        ("echo 'CondaHTTPError: HTTP 000 CONNECTION FAILED for url "
         "<http://127.0.0.1:5071/c/linux-64/repodata.json>' >&2; exit 1",
         "CONNECTION FAILED for url <http://127.0.0.1:5071/c/linux-64/repodata.json>"),
        ("kill -INT $PPID; sleep 30", "Interrupted: poetry-docker.lock was not changed"),
        # Item 9: conda's error ends with the channel as 'http//127.0.0.1:5071/...' (no
        # colon), which was all the message showed.
        ("printf 'CondaHTTPError: HTTP 000 CONNECTION FAILED for url "
         "<http://127.0.0.1:5071/c/noarch/repodata.json>\\nElapsed: -\\n\\nAn HTTP error "
         "occurred when trying to retrieve this URL.\\n'\\''http//127.0.0.1:5071/c/noarch'"
         "\\''\\n' >&2; exit 1",
         "CONNECTION FAILED for url <http://127.0.0.1:5071/c/noarch/repodata.json>. Nothing"),
    ],
)  # fmt: skip
def test_lock_under_faults_changes_nothing(
    solve: str, said: str, tmp_path: Path, private_tmp: Path
) -> None:
    """The solve fails or is interrupted: the message is true and names the step, the lock
    is as it was, and no temporary folder (the channel credentials') is left."""
    from poetry_docker_plugin.conda_lock.file import conda_lock_text
    from tests.conftest import configure, copy_fixture, run_poetry
    from tests.unit.conda_lock.test_file import LOCK

    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image="acme/conda:1", runtime_base="base", python="3.11")
    (project / "poetry-docker.lock").write_text(before := conda_lock_text(LOCK))
    client = tmp_path / "fake-docker"
    client.write_text("#!/bin/sh\n" + LOCK_CLIENT % {"id": "ab" * 32, "solve": solve})
    client.chmod(0o755)
    env = {"POETRY_DOCKER_ENGINE": str(client), "TMPDIR": str(private_tmp)}
    # Poetry as a terminal starts it: SIGINT raises KeyboardInterrupt, even when this test
    # runs under a parent that ignores it (a shell's background job), which Python inherits
    result = run_poetry(project, "docker", "lock", "--update", env=env, prefix=SIGINT_DEFAULT)
    assert result.returncode != 0
    assert said in result.stderr, result.output
    assert "Traceback" not in result.output
    assert (project / "poetry-docker.lock").read_text() == before
    assert not list(private_tmp.iterdir())


def test_what_the_plugin_cannot_prevent_poetry_runs_project_plugins(tmp_path: Path) -> None:
    """Item 15, README's "cannot prevent": Poetry 2 runs a project's .poetry/plugins/*.pth at
    every command, before the plugin loads. Kept true by this test: when Poetry stops, the
    README's warning goes."""
    from tests.conftest import copy_fixture, run_poetry

    project = copy_fixture("flat-script", tmp_path)
    ran = tmp_path / "ran-on-the-host"
    plugins = project / ".poetry" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "hostile.pth").write_text(f"import pathlib; pathlib.Path({str(ran)!r}).touch()\n")
    env = {"POETRY_DOCKER_ENGINE": "/nonexistent"}
    result = run_poetry(project, "docker", "devcontainer", "--check", env=env)
    assert "Traceback" not in result.output
    from importlib.metadata import version

    # seen here: the newest Poetry runs it; the oldest supported one, 2.0.0, does not yet
    assert ran.exists() == (version("poetry") != "2.0.0"), version("poetry")
