"""One value holds every input of an image (``inputs``): each option of the commands, each
setting and each field of the request either reaches both the record's key and the
fingerprint, or is listed (with why) as not changing the image."""

from __future__ import annotations

import dataclasses
import subprocess
from typing import TYPE_CHECKING, Any

import pytest

from poetry_docker_plugin.commands.build import BuildCommand
from poetry_docker_plugin.commands.run import RunCommand
from poetry_docker_plugin.commands.shell import ShellCommand
from poetry_docker_plugin.freshness.inputs import (
    NOT_IMAGE_OPTIONS,
    NOT_IMAGE_REQUEST,
    NOT_IMAGE_SETTINGS,
    GivenInputs,
    ImageInputs,
)
from poetry_docker_plugin.freshness.request import BuildRequest
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.project.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from cleo.io.inputs.option import Option

COMMANDS = (BuildCommand, RunCommand, ShellCommand)
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def given(root: Path, values: dict[str, Any], environ: dict[str, str] = EPOCH) -> GivenInputs:
    return GivenInputs.read(values, root, development=False, conda_lock=False, environ=environ)


def unset(option: Option) -> object:
    return [] if option.is_list() else (False if option.is_flag() else None)


def another(option: Option) -> object:
    return ["x"] if option.is_list() else (True if option.is_flag() else "x")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_option_reaches_the_record_key_or_is_listed(
    command: type[BuildCommand], tmp_path: Path
) -> None:
    defaults = {option.name: unset(option) for option in command.options}
    key = given(tmp_path, defaults).record_key()
    for option in command.options:
        changed = given(tmp_path, {**defaults, option.name: another(option)}).record_key()
        if option.name in NOT_IMAGE_OPTIONS:
            assert changed == key, f"--{option.name} is listed as not changing the image"
        else:
            assert changed != key, f"--{option.name} does not reach the record's key"


def test_the_list_of_options_that_change_nothing_names_real_options() -> None:
    names = {option.name for command in COMMANDS for option in command.options}
    assert set(NOT_IMAGE_OPTIONS) <= names, sorted(set(NOT_IMAGE_OPTIONS) - names)


def changed_value(value: object) -> Any:
    """Another value of a field's type, from its default."""
    if isinstance(value, bool):
        return not value
    if value is None or isinstance(value, str):
        return f"{value or ''}x"
    if isinstance(value, frozenset):
        return frozenset({*value, "x"})
    assert isinstance(value, tuple), value
    return (*value, Platform("linux", "arm64") if not value else "x")


def inputs(settings: Settings, request: BuildRequest, root: Path) -> ImageInputs:
    return ImageInputs(given(root, {}), settings, request)


def test_every_setting_reaches_the_fingerprint_or_is_listed(tmp_path: Path) -> None:
    request = BuildRequest(groups=frozenset({"main"}))
    options = inputs(Settings(), request, tmp_path).fingerprint_options()
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert set(NOT_IMAGE_SETTINGS) <= fields
    for name in fields:
        new = changed_value(getattr(Settings(), name))
        settings = dataclasses.replace(Settings(), **{name: new})
        changed = inputs(settings, request, tmp_path).fingerprint_options()
        if name in NOT_IMAGE_SETTINGS:
            assert changed == options, f"{name} is listed as not changing the image"
        else:
            assert changed != options, f"the setting {name} does not reach the fingerprint"


def test_every_field_of_the_request_reaches_the_fingerprint_or_is_listed(tmp_path: Path) -> None:
    request = BuildRequest(groups=frozenset({"main"}))
    options = inputs(Settings(), request, tmp_path).fingerprint_options()
    fields = {field.name for field in dataclasses.fields(BuildRequest)}
    assert set(NOT_IMAGE_REQUEST) <= fields
    for name in fields:
        value = getattr(request, name)
        new: Any = 1 if name == "epoch" else changed_value(value)
        changed = inputs(Settings(), dataclasses.replace(request, **{name: new}), tmp_path)
        if name in NOT_IMAGE_REQUEST:
            assert changed.fingerprint_options() == options, name
        else:
            assert changed.fingerprint_options() != options, f"request.{name} is not printed"


def test_another_epoch_is_another_record_and_another_image(tmp_path: Path) -> None:
    """Issue 29, item 1: SOURCE_DATE_EPOCH changed, --reproducible answered "up to date"."""
    first = given(tmp_path, {"reproducible": True}, {"SOURCE_DATE_EPOCH": "1700000000"})
    second = given(tmp_path, {"reproducible": True}, {"SOURCE_DATE_EPOCH": "1700000100"})
    assert first.record_key() != second.record_key()
    request = BuildRequest(groups=frozenset({"main"}), epoch=first.epoch)
    settings = Settings(reproducible=True)
    printed = ImageInputs(first, settings, request).fingerprint_options()
    again = ImageInputs(second, settings, dataclasses.replace(request, epoch=second.epoch))
    assert again.fingerprint_options() != printed


def test_a_new_commit_is_another_record(tmp_path: Path) -> None:
    """README: "a new commit rebuilds the image" (without SOURCE_DATE_EPOCH)."""

    def commit(when: int) -> GivenInputs:
        subprocess.run(
            ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com",
             "commit", "-q", "--allow-empty", "-m", str(when)],
            check=True, capture_output=True, env={"GIT_COMMITTER_DATE": f"@{when} +0000"},
        )  # fmt: skip
        return given(tmp_path, {"reproducible": True}, {})

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    first, second = commit(1700000000), commit(1700000500)
    assert (first.epoch, second.epoch) == (1700000000, 1700000500)
    assert first.record_key() != second.record_key()
