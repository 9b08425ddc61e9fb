"""A project's files are untrusted input (issue 18): a hostile poetry.lock, pyproject.toml or
source tree is refused with one clear paragraph, and nothing reaches the host outside the
context or the --output directory. Each test looks at the file system, not at the message
alone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import tomlkit

from tests.conftest import configure, copy_fixture, git_init, poetry_in_process


def snapshot(*folders: Path) -> set[str]:
    """Every path under ``folders`` (what a hostile build could have written there)."""
    return {str(p) for folder in folders for p in folder.rglob("*")}


def refused(project: Path, *arguments: str, env: dict[str, str] | None = None) -> str:
    """Runs the build (with -q: errors show whatever the verbosity); its one-paragraph error."""
    result = poetry_in_process(project, "docker", "build", "-q", *arguments, env=env)
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output and "│" not in result.output, result.output
    message = result.stderr.strip()
    assert message and "\n" not in message, message
    return message


def edit_lock(project: Path, package_name: str, **values: str) -> None:
    lock = project / "poetry.lock"
    document = tomlkit.parse(lock.read_text())
    for package in document["package"]:
        if package["name"] == package_name:
            for key, value in values.items():
                if key == "url":
                    package["source"]["url"] = value
                else:
                    package[key] = value
    lock.write_text(tomlkit.dumps(document))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("name", "{tmp}/pwned", id="absolute-name"),
        pytest.param("name", "..", id="dotdot-name"),
        pytest.param("name", "../../pwned", id="relative-name"),
        pytest.param("name", "tinylib\nRUN touch /pwned", id="newline-name"),
        pytest.param("name", "tinylib;touch${{IFS}}/tmp/pwned", id="semicolon-name"),
        pytest.param("version", "0.1.0\nRUN touch /pwned", id="newline-version"),
        pytest.param("version", "0.1.0;touch /tmp/pwned", id="semicolon-version"),
    ],
)
def test_a_hostile_lock_value_writes_nothing(tmp_path: Path, key: str, value: str) -> None:
    monorepo = copy_fixture("monorepo", tmp_path)
    project = monorepo / "app"
    value = value.format(tmp=tmp_path)
    edit_lock(project, "tinylib", **{key: value})
    assert poetry_in_process(project, "check", "--lock").returncode == 0, "Poetry calls it fresh"
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    message = refused(project, "--output", str(out))
    assert "poetry.lock" in message
    assert snapshot(tmp_path) == before, "nothing written, neither the output nor elsewhere"
    assert not Path("/pwned").exists() and not Path("/tmp/pwned").exists()


def setuptools_project(folder: Path, name: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )


def test_a_lock_cannot_redirect_a_path_dependency(tmp_path: Path) -> None:
    """pyproject.toml still names vendor/tinylib; the lock alone points elsewhere."""
    monorepo = copy_fixture("monorepo", tmp_path)
    project = monorepo / "app"
    outside = tmp_path / "outside"
    setuptools_project(outside, "tinylib")
    (outside / "stolen.txt").write_text("a file of the host outside the project\n")
    edit_lock(project, "tinylib", url=os.path.relpath(outside, project))
    assert poetry_in_process(project, "check", "--lock").returncode == 0
    out = tmp_path / "out"
    message = refused(project, "--output", str(out))
    assert "tinylib" in message and "vendor/tinylib" in message and str(outside) in message
    assert not out.exists()


def test_a_path_dependency_must_be_a_python_project(tmp_path: Path) -> None:
    monorepo = copy_fixture("monorepo", tmp_path)
    (monorepo / "app" / "vendor" / "tinylib" / "pyproject.toml").unlink()
    (monorepo / "app" / "vendor" / "tinylib" / "README").write_text("no project here\n")
    message = refused(monorepo / "app", "--output", str(tmp_path / "out"))
    assert "not a Python project" in message
    assert not (tmp_path / "out").exists()


def file_dependency_project(tmp_path: Path) -> tuple[Path, Path]:
    """A package-mode = false project that depends on a wheel file inside it, locked."""
    from poetry.core.factory import Factory
    from poetry.core.masonry.builders.wheel import WheelBuilder

    monorepo = copy_fixture("monorepo", tmp_path)
    vendor = tmp_path / "project" / "vendor"
    vendor.mkdir(parents=True)
    wheel = vendor / WheelBuilder.make_in(
        Factory().create_poetry(monorepo / "app" / "vendor" / "tinylib"), vendor
    )
    project = vendor.parent
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = "^3.9"\n'
        f'tinylib = {{ path = "vendor/{wheel.name}" }}\n'
    )
    (project / "main.py").write_text("print('hi')\n")
    locked = poetry_in_process(project, "lock")
    assert locked.returncode == 0, locked.output
    return project, wheel


def test_a_file_dependency_must_have_its_locked_hash(tmp_path: Path) -> None:
    project, wheel = file_dependency_project(tmp_path)
    good = poetry_in_process(project, "docker", "build", "--output", str(tmp_path / "good"))
    assert good.returncode == 0, good.output
    wheel.write_bytes(wheel.read_bytes() + b"\0")  # the file changed after the lock
    out = tmp_path / "out"
    message = refused(project, "--output", str(out))
    assert "tinylib" in message and "hash" in message and str(wheel) in message
    assert not out.exists()


KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+/\n"
    "-----END PRIVATE KEY-----\n"
)
CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3RzMAoGCCqGSM49BAMC\n"
    "-----END CERTIFICATE-----\n"
)


@pytest.mark.parametrize(
    "bundle",
    [
        pytest.param("key", id="private-key"),
        pytest.param("/proc/self/environ", id="proc-environ"),
        pytest.param("text", id="not-pem"),
    ],
)
def test_a_ca_bundle_without_certificates_is_refused(tmp_path: Path, bundle: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    if bundle == "key":
        (project / "proxy.pem").write_text(KEY)
        bundle = "proxy.pem"
    elif bundle == "text":
        (project / "proxy.pem").write_text("AWS_SECRET_ACCESS_KEY=hunter2\n")
        bundle = "proxy.pem"
    configure(project, ca_bundle=bundle)
    message = refused(project, "--print", env={"CI_SECRET": "hunter2"})
    assert "ca-bundle" in message and "no PEM certificate" in message


def test_only_the_certificates_of_a_ca_bundle_reach_the_build(tmp_path: Path) -> None:
    from poetry.factory import Factory

    from poetry_docker_plugin.names import CA_BUNDLE_SECRET
    from poetry_docker_plugin.project.credentials import build_secrets

    bundle = tmp_path / "bundle.pem"
    bundle.write_text(f"# the proxy\n{KEY}{CERTIFICATE}trailing words\n{CERTIFICATE}")
    poetry = Factory().create_poetry(copy_fixture("flat-script", tmp_path))
    with build_secrets(poetry, (), bundle) as secrets:
        written = secrets[CA_BUNDLE_SECRET]
        assert written != bundle
        assert written.read_text() == CERTIFICATE * 2
        assert written.stat().st_mode & 0o077 == 0
    assert not written.exists()


def test_credentials_never_reach_files_or_caches(tmp_path: Path) -> None:
    """A token in a channel's path, a user:password in a source URL, a token in a query.
    (A package: with package-mode = false, pyproject.toml itself is one of the sources.)"""
    project = copy_fixture("flat-script", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[[tool.poetry.source]]\nname = "corp"\n'
        'url = "https://alice:hunter2@pypi.corp.example/simple/?token=tok3n"\n'
        'priority = "supplemental"\n'
    )
    poetry_in_process(project, "lock")  # the content hash; nothing comes from the source
    configure(
        project,
        env_manager="conda",
        base_image="miniforge-standin:25.3.1",
        python="3.11",
        conda_channels=["https://conda.anaconda.org/t/an-0123-secret/mychannel", "conda-forge"],
    )
    cache = tmp_path / "cache"
    env = {"POETRY_CACHE_DIR": str(cache)}
    printed = poetry_in_process(project, "docker", "build", "--print", "-vv", env=env)
    assert printed.returncode == 0, printed.output
    out = tmp_path / "out"
    written = poetry_in_process(project, "docker", "build", "--output", str(out), "-vv", env=env)
    assert written.returncode == 0, written.output
    assert "https://conda.anaconda.org/mychannel" in printed.stdout
    texts = [printed.output, written.output]
    texts += [
        p.read_text(errors="replace") for p in [*out.rglob("*"), *cache.rglob("*")] if p.is_file()
    ]
    for secret in ("an-0123-secret", "hunter2", "tok3n"):
        assert not any(secret in text for text in texts), secret


def test_a_lock_url_with_a_credential_is_refused(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    lock = project / "poetry.lock"
    document = tomlkit.parse(lock.read_text())
    package = next(p for p in document["package"] if p["name"] == "markupsafe")
    package["source"] = {"type": "url", "url": "https://user:hunter2@files.example/m.whl"}
    lock.write_text(tomlkit.dumps(document))
    message = refused(project, "--print")
    assert "credential" in message and "hunter2" not in message


def test_git_that_refuses_the_tree_is_an_error_not_every_file(tmp_path: Path) -> None:
    """As in CI containers: the checkout belongs to another user than the one building."""
    project = copy_fixture("no-package", tmp_path)
    (project / "secret.txt").write_text("git-ignored secret\n")
    git_init(project, "secret.txt")
    subprocess.run(["chown", "-R", "12345:12345", str(project)], check=True)
    out = tmp_path / "out"
    message = refused(project, "--output", str(out), env={"GIT_CONFIG_GLOBAL": "/dev/null"})
    assert "dubious ownership" in message
    assert f"git config --global --add safe.directory {project}" in message
    assert not out.exists()


def listed(project: Path, out: Path) -> list[str]:
    result = poetry_in_process(project, "docker", "build", "--output", str(out))
    assert result.returncode == 0, result.output
    return sorted(
        p.relative_to(out / "project").as_posix()
        for p in (out / "project").rglob("*")
        if p.is_file()
    )


def test_a_folder_replaced_by_a_link_brings_nothing_from_outside(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    (project / "lib").mkdir()
    (project / "lib" / "util.py").write_text("X = 1\n")
    git_init(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "util.py").write_text("a file of the host outside the project\n")
    (project / "lib" / "util.py").unlink()
    (project / "lib").rmdir()
    (project / "lib").symlink_to(outside)  # git still lists lib/util.py
    assert "lib/util.py" not in listed(project, tmp_path / "out")


def test_the_built_in_exclusions_ignore_case_and_cover_common_credentials(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    secrets = [
        ".ENV",
        "ID_RSA",
        "Server.KEY",
        "secrets.json",
        ".dockercfg",
        "pip.conf",
        ".vault-token",
        "kubeconfig",
        "prod.kubeconfig",
        "service-account-prod.json",
        ".config/gcloud/application_default_credentials.json",
        ".config/gh/hosts.yml",
        "sub/.Netrc",
    ]
    for name in secrets:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("secret\n")
    (project / ".config" / "app.toml").write_text("kept = true\n")
    files = listed(project, tmp_path / "out")
    assert ".config/app.toml" in files
    assert not set(secrets) & set(files)


def test_a_non_utf8_name_is_one_clear_error(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    folder = Path(os.fsdecode(os.fsencode(project) + b"/data-\xff"))  # a name as the OS has it
    folder.mkdir()
    (folder / "rows.csv").write_text("a,b\n")
    message = refused(project, "--output", str(tmp_path / "out"))
    assert "data-\\xff/rows.csv" in message and "not UTF-8" in message
    assert not (tmp_path / "out").exists()
    (project / ".dockerignore").write_text("data-*\n")  # left out: no longer in the way
    assert "main.py" in listed(project, tmp_path / "out2")


def test_a_non_utf8_name_outside_the_package_is_no_concern(tmp_path: Path) -> None:
    """As with `poetry build`: only the package's files are read."""
    project = copy_fixture("flat-script", tmp_path)
    folder = Path(os.fsdecode(os.fsencode(project) + b"/notes-\xff"))
    folder.mkdir()
    for path in (folder, project):  # old enough for the listing's cache to look at them
        os.utime(path, (1_600_000_000, 1_600_000_000))
    result = poetry_in_process(project, "docker", "build", "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.output


def test_sources_are_readable_by_the_runtime_user_whatever_the_host_mode(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    (project / "settings.ini").write_text("[app]\n")
    (project / "settings.ini").chmod(0o600)
    out = tmp_path / "out"
    assert "settings.ini" in listed(project, out)
    assert (out / "project" / "settings.ini").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("option", ["--output", "--sbom", "--digest-file"])
def test_an_empty_path_option_is_refused(tmp_path: Path, option: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    before = snapshot(project)
    message = refused(project, option, "")
    assert f"The {option} option is empty" in message
    assert snapshot(project) == before


def test_control_characters_in_the_metadata_are_refused(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'description = "A flat-layout', 'description = "\\u001b[2J\\u202eA flat-layout'
        )
    )
    poetry_in_process(project, "lock")
    message = refused(project, "--print")
    assert "description" in message and "control character" in message
