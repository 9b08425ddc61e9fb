"""Platforms: one value, whatever the spelling it was read from."""

from __future__ import annotations

import pytest

from poetry_docker_plugin.platforms import Platform, parse_platforms


@pytest.mark.parametrize(
    ("text", "expected", "machine", "subdir"),
    [
        ("linux/amd64", "linux/amd64", "x86_64", "linux-64"),
        ("linux/x86_64", "linux/amd64", "x86_64", "linux-64"),
        ("LINUX/AARCH64", "linux/arm64", "aarch64", "linux-aarch64"),
        ("linux/arm64/v8", "linux/arm64", "aarch64", "linux-aarch64"),
        ("linux/arm", "linux/arm/v7", "armv7l", "linux-armv7l"),
        ("linux/ppc64le", "linux/ppc64le", "ppc64le", "linux-ppc64le"),
    ],
)
def test_each_spelling_is_one_platform(text: str, expected: str, machine: str, subdir: str) -> None:
    platform = Platform.parse(text)
    assert str(platform) == expected
    assert (platform.machine, platform.conda_subdir) == (machine, subdir)
    assert Platform.parse(str(platform)) == platform


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("windows/amd64", "names the OS 'windows'"),
        ("linux/mips", "not a platform this plugin builds for"),
        ("amd64", "not a platform this plugin builds for"),
        ("linux/amd64; rm -rf /", "not a platform"),
    ],
)
def test_other_platforms_are_refused_with_the_accepted_ones(text: str, says: str) -> None:
    with pytest.raises(ValueError, match="linux/") as raised:
        Platform.parse(text)
    assert says in str(raised.value)


def test_an_image_that_says_nothing_is_no_platform() -> None:
    assert Platform.of_image("") is None
    assert Platform.of_image("linux/arm64") == Platform("linux", "arm64")


def test_a_list_of_platforms_comma_separated_or_not_each_once() -> None:
    both = (Platform("linux", "amd64"), Platform("linux", "arm64"))
    assert parse_platforms("linux/amd64,linux/arm64") == both
    assert parse_platforms(["linux/amd64", "linux/aarch64", "linux/x86_64"]) == both
    with pytest.raises(ValueError, match="as strings"):
        parse_platforms(["linux/amd64", 3])
    with pytest.raises(ValueError, match="no platform"):
        parse_platforms(" , ")


def test_per_platform_tags_end_as_multi_arch_images_name_them() -> None:
    assert Platform.parse("linux/arm64").tag_suffix == "arm64"
    assert Platform.parse("linux/arm/v7").tag_suffix == "armv7"
