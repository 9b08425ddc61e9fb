"""The builder's orchestration, driven through a fake engine (``tests/unit/fake_engine.py``):
nothing built when nothing changed, a build for each kind of input that changed, a tag
race lost, and Ctrl-C while the tags move. The real engine's side of the same stories is in
tests/engine/ (test_run.py, test_errors.py); here each decision is seen alone, in milliseconds.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.platforms import Platform
from tests.conftest import copy_fixture
from tests.unit.fake_engine import FakeEngine, venv_answers

if TYPE_CHECKING:
    from poetry_docker_plugin.pipeline.builder import Builder

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
BASE = "acme/python:3.11"
TAGS = ("hello-app:0.3.1", "hello-app:latest")


def engine_with_base() -> FakeEngine:
    engine = FakeEngine()
    engine.publish(BASE, "base 1", platform=str(AMD64), answers=venv_answers())
    return engine


def project_in(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    if not (root / "flat-script").exists():
        root.mkdir(exist_ok=True)
        copy_fixture("flat-script", root)
    return root / "flat-script"


def builder(
    tmp_path: Path, engine: FakeEngine, *, settings: dict[str, Any] | None = None, **request: Any
) -> Builder:
    """A builder as ``poetry docker build`` makes it (each call its own, as each command is),
    on the fixture project, the fake engine given to it."""
    from cleo.io.buffered_io import BufferedIO
    from cleo.io.outputs.output import Verbosity
    from poetry.factory import Factory

    from poetry_docker_plugin.freshness.inputs import GivenInputs, ImageInputs
    from poetry_docker_plugin.freshness.request import BuildRequest
    from poetry_docker_plugin.pipeline.builder import Builder
    from poetry_docker_plugin.project.facts import ProjectFacts
    from poetry_docker_plugin.project.settings import Settings

    project_dir = project_in(tmp_path)
    poetry = Factory().create_poetry(project_dir)
    project = ProjectFacts.read(poetry)
    given = GivenInputs.read({}, project_dir, development=False, conda_lock=False, environ={})
    options = {"base_image": BASE, "env_manager": "venv", **(settings or {})}
    made = BuildRequest(groups=frozenset({"main"}), tags=TAGS, **{"platform": AMD64, **request})
    inputs = ImageInputs(given, Settings(**options), made)
    io = BufferedIO()
    io.set_verbosity(Verbosity.VERBOSE)
    return Builder(poetry, project, inputs, io, tmp_path / "cache", engine=engine)


def ensure(made: Builder) -> str:
    """One command's ``ensure_image``; what it said."""
    made.ensure_image(made.prepare(), announce_current=True)
    return made.io.fetch_error()  # type: ignore[attr-defined,no-any-return]


def test_a_call_that_changes_nothing_builds_nothing(tmp_path: Path) -> None:
    engine = engine_with_base()
    said = ensure(builder(tmp_path, engine))
    assert engine.count("build") == 1, said
    first = engine.tags[TAGS[0]]
    assert engine.tags == {BASE: engine.tags[BASE], TAGS[0]: first, TAGS[1]: first}
    said = ensure(builder(tmp_path, engine))
    assert engine.count("build") == 1, "nothing changed: nothing built"
    assert engine.count("tag") == 2, "and no tag moved"
    assert "hello-app:0.3.1 is up to date: nothing changed since it was built." in said


def edit_source(tmp_path: Path) -> dict[str, Any]:
    module = project_in(tmp_path) / "hello_app" / "cli.py"
    module.write_text(module.read_text() + "\n# edited\n")
    return {}


def edit_lock(tmp_path: Path) -> dict[str, Any]:
    """Another file of markupsafe's (its hash), as a relock after a re-upload would give."""
    lock = project_in(tmp_path) / "poetry.lock"
    text = lock.read_text()
    first = re.search(r'hash = "sha256:([0-9a-f]{64})"', text)
    assert first
    lock.write_text(text.replace(first.group(1), "0" * 64, 1))
    return {}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (edit_source, "the project's files changed"),
        (edit_lock, "the locked requirements changed"),
        (lambda _: {"settings": {"apt_packages": ("curl",)}}, "the Dockerfile"),
        (lambda _: {"build_args": (("MODE", "fast"),)}, "the settings, build options"),
        (lambda _: {"settings": {"env": (("MODE", "fast"),)}}, "the Dockerfile"),
    ],
    ids=["source", "lock", "apt-packages", "build-arg", "env"],
)
def test_each_kind_of_input_changed_builds_again_and_says_which(
    change: Any, said: str, tmp_path: Path
) -> None:
    engine = engine_with_base()
    ensure(builder(tmp_path, engine))
    first = engine.tags[TAGS[0]]
    options = change(tmp_path)
    output = ensure(builder(tmp_path, engine, **options))
    assert engine.count("build") == 2, output
    assert f"Rebuilding hello-app:0.3.1: {said}" in output
    new = engine.tags[TAGS[0]]
    assert new != first and engine.tags[TAGS[1]] == new, "both tags on the new image"
    assert engine.count("build") == 2
    ensure(builder(tmp_path, engine, **options))
    assert engine.count("build") == 2, "and the new image is current for the next call"


def test_what_is_not_an_input_of_the_image_builds_nothing(tmp_path: Path) -> None:
    """The build steps' network (what they fetch is pinned by the lock's hashes) and an
    unrelated file beside the project are not inputs: the image stays current."""
    engine = engine_with_base()
    ensure(builder(tmp_path, engine))
    (project_in(tmp_path) / "notes.txt").write_text("not in the wheel\n")
    said = ensure(builder(tmp_path, engine, network="host"))
    assert engine.count("build") == 1, said
    assert "is up to date" in said


def test_a_base_rebuilt_under_the_same_name_builds_again_from_it(tmp_path: Path) -> None:
    engine = engine_with_base()
    ensure(builder(tmp_path, engine))
    moved = engine.add(BASE, "base 2", platform=str(AMD64), answers=venv_answers())
    second = builder(tmp_path, engine)
    output = ensure(second)
    assert engine.count("build") == 2, output
    assert "the settings, build options or base image changed" in output
    assert second.prepare().plan.environment.base.id == moved.id, "built on the base as it is"


def test_a_tag_taken_by_another_build_meanwhile_is_left_to_it(tmp_path: Path) -> None:
    """Two copies of a project with one image name, built at once: the one that finishes
    second must not move the tag over the first one's image (its caller printed it)."""
    engine = engine_with_base()
    hold = engine.fault("build", "hold")
    other = engine.add("elsewhere:1", "the other copy's image").id

    def other_build_finishes() -> None:
        assert hold.reached.wait(30)
        engine.tags[TAGS[0]] = other  # the other copy's build moved the tag meanwhile
        hold.gate.set()

    racer = threading.Thread(target=other_build_finishes)
    racer.start()
    try:
        with pytest.raises(
            DockerPluginError, match=re.escape("Another build moved the tag hello-app:0.3.1")
        ):
            ensure(builder(tmp_path, engine))
    finally:
        hold.gate.set()
        racer.join()
    assert engine.tags[TAGS[0]] == other, "left to the other build"
    assert TAGS[1] not in engine.tags, "and no tag of this build moved: all or nothing"
    assert engine.count("build") == 1


def test_ctrl_c_while_the_tags_move_moves_them_all_then_stops(tmp_path: Path) -> None:
    from poetry_docker_plugin.util.interrupts import interrupted

    engine = engine_with_base()
    ensure(builder(tmp_path, engine))
    old = engine.tags[TAGS[0]]
    engine.fault("tag", "sigint", nth=3)  # the first tag of the second build: a real SIGINT
    with pytest.raises(KeyboardInterrupt) as interrupt:
        ensure(builder(tmp_path, engine, build_args=(("MODE", "fast"),)))
    new = engine.tags[TAGS[0]]
    assert new != old and engine.tags[TAGS[1]] == new, "every tag moved, none left behind"
    message = interrupted(interrupt.value, [])
    assert f"hello-app:0.3.1, hello-app:latest name the new image {new}" in message


def test_a_build_that_fails_moves_no_tag_and_leaves_no_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    engine = engine_with_base()
    ensure(builder(tmp_path, engine))
    before = dict(engine.tags)
    engine.fault("build", "fail", nth=2)
    with pytest.raises(DockerPluginError, match="fake engine: build failed"):
        ensure(builder(tmp_path, engine, build_args=(("MODE", "fast"),)))
    assert engine.tags == before
    assert not list(private.iterdir()), "no staged context or secrets left"


@pytest.mark.parametrize(
    ("version", "linked"), [("20.10.24", False), ("23.0.1", True), ("27.3.1", True)]
)
def test_copy_link_is_used_when_the_engine_says_it_takes_it(
    version: str, linked: bool, tmp_path: Path
) -> None:
    """Docker 23 and later take ``COPY --link`` (the dependency layers then need no rebase
    onto the layers below); Docker 20.10's built-in frontend does not: plain COPY there."""
    from tests.unit.fake_engine import FakeEngine

    engine = FakeEngine(version=version)
    engine.publish(BASE, "base 1", platform=str(AMD64), answers=venv_answers())
    dockerfile = builder(tmp_path, engine).prepare().rendered.dockerfile
    assert "COPY --from=layer-" in dockerfile or "COPY --link --from=layer-" in dockerfile
    assert ("COPY --link --from=layer-" in dockerfile) is linked
    assert ("COPY --from=layer-" in dockerfile) is not linked


def test_a_build_for_another_platform_asks_for_the_bases_twin_once_and_keeps_its_tag(
    tmp_path: Path,
) -> None:
    """For linux/arm64 on an amd64 engine, from a base with both variants: the amd64 variant
    is pulled and looked at (its Python the same: the environment is made natively), the
    base's tag is given back to the arm64 image the plan was made from, and the next call
    that plans again asks the cache, not the registry."""
    engine = FakeEngine()
    arm64 = engine.publish(BASE, "base arm64", platform="linux/arm64", answers=venv_answers())
    engine.publish(BASE, "base amd64", platform="linux/amd64", answers=venv_answers())
    said = ensure(builder(tmp_path, engine, platform=ARM64))
    assert "natively on linux/amd64: creating the venv environment" in said, said
    assert "emulated (linux/arm64): nothing" in said
    assert engine.tags[BASE] == arm64.id, "the base's tag names the target's image again"
    assert engine.count("pull") == 1
    edit_source(tmp_path)
    said = ensure(builder(tmp_path, engine, platform=ARM64))
    assert engine.count("build") == 2 and "emulated (linux/arm64): nothing" in said
    assert engine.count("pull") == 1, "the twin was known: no pull"
    assert engine.tags[BASE] == arm64.id


def test_the_twin_of_an_image_is_the_twin_of_its_name_only(tmp_path: Path) -> None:
    """The arm64 image that one name's index holds with an amd64 variant is also tagged under
    a name of its own that has none: built under that name, nothing is taken from the other
    name's variant (its stages would ask a registry for a variant that name lacks)."""
    engine = FakeEngine()
    arm64 = engine.publish(BASE, "base arm64", platform="linux/arm64", answers=venv_answers())
    engine.publish(BASE, "base amd64", platform="linux/amd64", answers=venv_answers())
    ensure(builder(tmp_path, engine, platform=ARM64))
    engine.tags["acme/python:arm64-only"] = arm64.id
    settings = {"base_image": "acme/python:arm64-only"}
    said = ensure(builder(tmp_path, engine, settings=settings, platform=ARM64))
    assert "emulated (linux/arm64): creating the venv environment" in said, said
    assert "the base image has no variant for the build platform" in said


def test_a_twin_that_cannot_be_looked_at_gives_the_tag_back_and_emulates(tmp_path: Path) -> None:
    """The amd64 variant is pulled (its tag moves) but has no python3 to ask: the base's tag
    names the arm64 image again, and every step is planned emulated, saying why."""
    engine = FakeEngine()
    arm64 = engine.publish(BASE, "base arm64", platform="linux/arm64", answers=venv_answers())
    engine.publish(BASE, "base amd64", platform="linux/amd64", answers={})
    said = ensure(builder(tmp_path, engine, platform=ARM64))
    assert engine.count("pull") == 1 and engine.tags[BASE] == arm64.id
    assert "the base image has no variant for the build platform" in said, said
    assert engine.count("build") == 1
