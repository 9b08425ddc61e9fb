"""``build --push`` and ``--cache-from`` against a real registry, and a second engine that
plays another machine (a CI runner) with none of the first one's images or layers."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.conftest import (
    DOCKER,
    Registry,
    SecondEngine,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


DIGEST_REFERENCE = re.compile(r"(?P<repository>\S+)@sha256:[0-9a-f]{64}")


@pytest.fixture(scope="session")
def registry_bases(
    registry: Registry, base_image: str, conda_base_image: str
) -> Iterator[dict[str, str]]:
    """The test bases, pushed to the registry: another machine pulls them from there, as a
    CI runner pulls its bases. Their tags on the first engine are removed at the end."""
    pushed = {}
    for manager, image in (("venv", base_image), ("conda", conda_base_image)):
        reference = registry.reference(image)
        docker("tag", image, reference)
        docker("push", reference)
        pushed[manager] = reference
    yield pushed
    for reference in pushed.values():
        docker("image", "rm", reference, check=False)


def registry_settings(manager: str, bases: dict[str, str]) -> dict[str, object]:
    """Settings that build on the registry's bases (the conda runtime stage's too)."""
    if manager == "venv":
        return {"base_image": bases["venv"]}
    return {
        "base_image": bases["conda"],
        "env_manager": "conda",
        "python": "3.11",
        "conda_packages": ["actdemo"],
        "runtime_base": bases["venv"],
    }


@pytest.fixture
def repository(registry: Registry) -> Iterator[str]:
    """A unique repository in the registry; its images on the first engine are removed."""
    name = registry.reference(f"pdp-test-{uuid.uuid4().hex[:10]}")
    yield name
    images = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for reference in images.stdout.split():
        docker("image", "rm", "--force", reference, check=False)


def registry_tags(repository: str) -> list[str]:
    """The tags the registry holds for ``repository`` (its HTTP API)."""
    import json
    import urllib.request

    host, _, name = repository.partition("/")
    with urllib.request.urlopen(f"http://{host}/v2/{name}/tags/list", timeout=10) as response:
        return sorted(json.load(response)["tags"])


def steps(output: str) -> dict[str, str]:
    """BuildKit's plain progress: each step's instruction, and how it ended (CACHED/DONE)."""
    names: dict[str, str] = {}
    ends: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"#(\d+) (\[.*)", line)
        if match and match.group(1) not in names:
            names[match.group(1)] = match.group(2)
        end = re.match(r"#(\d+) (CACHED|DONE|ERROR)", line)
        if end:
            ends[end.group(1)] = end.group(2)
    return {names[number]: ends.get(number, "") for number in names}


# (fixture, manager, the file a source edit changes, the project's pin, what its image prints)
CASES = {
    "venv": ("flat-script", "venv", "hello_app/cli.py", "hello-app==0.3.1", "hello from"),
    "conda": ("flat-script", "conda", "hello_app/cli.py", "hello-app==0.3.1", "hello from"),
    # An sdist built into a wheel in the `wheels` stage, whose result the final stage mounts.
    "venv-wheels-stage": ("sdist-only", "venv", "sdist_only/__init__.py", "sdist-only==0.1.0",
                          "docopt 0.6.2"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_push_then_another_machine_reuses_every_dependency_layer(
    tmp_path: Path,
    case: str,
    registry_bases: dict[str, str],
    repository: str,
    second_engine: SecondEngine,
) -> None:
    """Every tag pushed, by digest; pulled and run elsewhere; a source edit built there from
    the pushed cache reinstalls no dependency (that engine has none of the layers)."""
    fixture, manager, edited_file, pin, greeting = CASES[case]
    project = copy_fixture(fixture, tmp_path)
    settings = registry_settings(manager, registry_bases)
    configure(project, image=repository, tags=["1.0", "latest"], **settings)
    plain = run_poetry(project, "docker", "build")
    assert plain.returncode == 0, plain.output
    digest_file = tmp_path / "out" / "image.digest"
    push = ("docker", "build", "--push", "--digest-file", str(digest_file))
    pushed = run_poetry(project, *push)
    assert pushed.returncode == 0, pushed.output
    assert "built without the inline cache" in pushed.stderr, "rebuilt with it, to push"
    rebuilt_steps = steps(pushed.stderr)
    assert rebuilt_steps and set(rebuilt_steps.values()) <= {"CACHED", "DONE"}
    assert all(end == "CACHED" for step, end in rebuilt_steps.items() if " RUN " in step), (
        "every step cached"
    )
    reference = pushed.stdout.strip()
    match = DIGEST_REFERENCE.fullmatch(reference)
    assert match and match.group("repository") == repository, pushed.stdout
    assert digest_file.read_text() == f"{reference}\n"
    for tag in ("1.0", "latest"):
        assert f"Pushed {repository}:{tag} as {reference}" in pushed.stderr
    assert registry_tags(repository) == ["1.0", "latest"]
    again = run_poetry(project, *push)
    assert again.returncode == 0, again.output
    assert "is up to date" in again.stderr and "Pushing" in again.stderr
    assert again.stdout.strip() == reference, "pushed again when nothing changed"

    second_engine.docker("pull", reference)
    output = second_engine.docker("run", "--rm", reference).stdout
    assert output.startswith(greeting), output

    source = project / edited_file
    source.write_text(source.read_text().replace("hello from", "edited elsewhere:") + "\n# edit\n")
    remote = {"DOCKER_HOST": second_engine.socket}
    if case == "venv-wheels-stage":  # the setting, rather than the option
        configure(project, cache_from=[f"{repository}:1.0"])
        cache_from: tuple[str, ...] = ()
    else:  # repeatable
        cache_from = ("--cache-from", f"{repository}:1.0", "--cache-from", f"{repository}:latest")
    rebuilt = run_poetry(project, "docker", "build", *cache_from, env=remote)
    assert rebuilt.returncode == 0, rebuilt.output
    progress = steps(rebuilt.stderr)
    dependencies = [step for step in progress if "--require-hashes" in step]
    assert dependencies, rebuilt.stderr
    project_step = [step for step in progress if pin in step]
    assert [progress[step] for step in project_step] == ["DONE"], "the edited project is rebuilt"
    others = [step for step in progress if " RUN " in step or " COPY " in step]
    not_cached = [step for step in others if progress[step] != "CACHED"]
    assert not_cached == project_step, rebuilt.stderr
    edited = second_engine.docker("run", "--rm", f"{repository}:1.0").stdout
    assert edited.startswith(greeting.replace("hello from", "edited elsewhere:")), edited


def test_a_failed_push_names_the_tag_and_the_reason(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    """No traceback, a non-zero exit, and no digest file."""
    from tests.conftest import free_port

    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=base_image)
    hub = f"{project_image}:1.0"
    result = run_poetry(project, "docker", "build", "--tag", hub, "--push")
    assert result.returncode != 0
    assert f"Pushing {hub} failed:" in result.stderr, result.output
    assert "names no registry, so the engine pushed it to Docker Hub" in result.stderr
    assert "Traceback" not in result.output and "sha256:" not in result.stdout

    nowhere = f"127.0.0.1:{free_port()}/{project_image}:1.0"
    digest_file = tmp_path / "image.digest"
    result = run_poetry(
        project, "docker", "build", "--tag", nowhere, "--push", "--digest-file", str(digest_file)
    )
    assert result.returncode != 0
    assert f"Pushing {nowhere} failed:" in result.stderr, result.output
    assert "connection refused" in result.stderr
    assert "Check that the registry is running" in result.stderr
    assert not digest_file.exists() and "Traceback" not in result.output
    docker("image", "rm", nowhere, check=False)


def test_remote_engine_builds_and_runs_there_and_shell_is_refused(
    tmp_path: Path, registry_bases: dict[str, str], second_engine: SecondEngine
) -> None:
    """Through DOCKER_HOST (tcp://) and through a docker context, as the docker CLI would."""
    project = copy_fixture("flat-script", tmp_path)
    image = f"pdp-test-{uuid.uuid4().hex[:10]}"
    configure(project, image=image, base_image=registry_bases["venv"])
    remote = {"DOCKER_HOST": second_engine.tcp}
    # That engine's bridge has no route out (no iptables rules, to leave the first engine's
    # alone): its build steps reach Debian's and PyPI's mirrors on the host's network.
    built = run_poetry(project, "docker", "build", "--network", "host", env=remote)
    assert built.returncode == 0, built.output
    assert built.stdout.strip() == f"{image}:0.3.1"
    second_engine.docker("image", "inspect", f"{image}:0.3.1")
    assert docker("image", "inspect", f"{image}:0.3.1", check=False).returncode != 0, (
        "not on this machine's engine"
    )
    ran = run_poetry(project, "docker", "run", "--", "hello", "there", env=remote)
    assert ran.returncode == 0, ran.output
    assert "args: there" in ran.stdout

    refused = run_poetry(project, "docker", "shell", "-c", "true", env=remote)
    assert refused.returncode == 1
    assert f"the Docker engine is remote ({second_engine.tcp}" in refused.stderr, refused.output
    assert "Traceback" not in refused.output
    assert second_engine.docker("image", "inspect", f"{image}:dev", check=False).returncode != 0

    # A docker context that points at the engine, chosen with `docker context use`.
    config = {"DOCKER_CONFIG": str(tmp_path / "docker-config")}
    context = ("context", "create", "pdp-remote", "--docker", f"host={second_engine.tcp}")
    for arguments in (context, ("context", "use", "pdp-remote")):
        assert run_docker(arguments, config).returncode == 0
    ran = run_poetry(project, "docker", "run", "--", "hello", "context", env=config)
    assert ran.returncode == 0, ran.output
    assert "args: context" in ran.stdout
    assert docker("image", "inspect", f"{image}:0.3.1", check=False).returncode != 0
    refused = run_poetry(project, "docker", "shell", "-c", "true", env=config)
    assert refused.returncode == 1
    assert f"the Docker engine is remote ({second_engine.tcp}" in refused.stderr, refused.output


def run_docker(arguments: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *arguments], env={**os.environ, **env}, capture_output=True, text=True
    )
