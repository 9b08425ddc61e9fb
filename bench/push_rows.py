"""The rows of the foreign platform (issue 32) and of the bytes pushed per change (issue 33),
from their typed results: arithmetic only, as in ``report``, so that the tests check them on
results built in memory."""

from __future__ import annotations

from bench.config import (
    FOREIGN_PLATFORM,
    LARGE_BUMP,
    LAYERS,
    TWO_PLATFORM_BASE,
    TWO_PLATFORMS,
    VENV,
    VENV_ARM64,
)
from bench.results import BuildTimes, ForeignTimes, LayerPushes, PushBytes, Row, Unit

# The foreign platform's builds against the native ones: at native speed, what emulating only
# what must run on the target gives (issue 32: 5.2 before it); the two-platform push, two
# builds and their push, against one native cold build.
FOREIGN_TARGET = 1.3
TWO_PLATFORM_TARGET = 2.5
# The bytes a push sends per change (issue 33), each over what the issue counts it against.
EDIT_ALLOWANCE = 1e6  # a source edit: the project's wheel + 1 MB
ENVIRONMENT_SHARE = 0.05  # a small bump: 5% of the environment; a large one: its size + 5%
SMALL_BUMP_REBUILD = 0.3  # the small bump's build and push over the cold build and push
LAYERS_LABEL = f"{LAYERS.name}, {LAYERS.base}, layers-app"
# The foreign builds' base: the two test bases as one reference, a variant for each platform.
FOREIGN_LABEL = f"{VENV.name}, {TWO_PLATFORM_BASE} ({FOREIGN_PLATFORM}, in the registry)"


def foreign_rows(native: BuildTimes, foreign: ForeignTimes) -> list[Row]:
    """The venv copy built for linux/arm64 beside the same builds native (from the base with a
    variant for each platform; and stated, from the single-platform arm64 base, every step
    emulated); the two-platform push (n/a when not measured) beside one native cold build."""
    two_platform_label = f"{VENV.name}, {TWO_PLATFORM_BASE} ({TWO_PLATFORMS}, in the registry)"
    return [
        Row(f"cold build, {FOREIGN_PLATFORM}", foreign.cold, native.cold, "native cold build",
            FOREIGN_TARGET, manager=FOREIGN_LABEL),
        Row(f"no-change build, {FOREIGN_PLATFORM}", foreign.no_change, native.no_change,
            "native no-change build", FOREIGN_TARGET, check=foreign.no_change_check,
            manager=FOREIGN_LABEL),
        Row(f"source edit, {FOREIGN_PLATFORM}", foreign.edit, native.edit,
            "native source edit", FOREIGN_TARGET, manager=FOREIGN_LABEL),
        Row(f"cold build, {FOREIGN_PLATFORM}, all emulated", foreign.cold_emulated, native.cold,
            "native cold build", None, manager=VENV_ARM64.label),
        Row("two-platform push", foreign.two_platform_push, native.cold, "native cold build",
            TWO_PLATFORM_TARGET, manager=two_platform_label),
    ]  # fmt: skip


def layer_rows(pushes: LayerPushes) -> list[Row]:
    """Bytes the registry received per push of layers-app, ours measured against the issue's
    allowance for each change, poetry-dockerize's beside them; then the small bump's rebuild
    time over the cold build's."""
    ours, theirs = pushes.ours, pushes.dockerize

    def of(bytes_pushed: PushBytes | None, change: str) -> float | None:
        return None if bytes_pushed is None else float(getattr(bytes_pushed, change))

    environment = pushes.environment
    rows = [
        ("push bytes, cold", ours.cold, None, "", None, of(theirs, "cold")),
        ("push bytes, no change", ours.no_change, pushes.ours.cold, "the cold push", 0.0,
         of(theirs, "no_change")),
        ("push bytes, source edit", ours.edit, pushes.wheel + EDIT_ALLOWANCE,
         "the project's wheel + 1 MB", 1.0, of(theirs, "edit")),
        ("push bytes, small compiled bump", ours.small_bump, environment * ENVIRONMENT_SHARE,
         "5% of the environment", 1.0, of(theirs, "small_bump")),
        ("push bytes, large package bump", ours.large_bump,
         pushes.large_package + environment * ENVIRONMENT_SHARE,
         f"{LARGE_BUMP}'s size + 5% of the environment", 1.0, of(theirs, "large_bump")),
    ]  # fmt: skip
    table = [
        Row(name, measured, baseline, baseline_name, target, unit=Unit.BYTES,
            dockerize=dockerize, manager=LAYERS_LABEL,
            check=pushes.edit_check if name == "push bytes, source edit" else "")
        for name, measured, baseline, baseline_name, target, dockerize in rows
    ]  # fmt: skip
    table.append(
        Row(
            "rebuild, small compiled bump",
            pushes.small_bump,
            pushes.cold,
            "cold build and push",
            SMALL_BUMP_REBUILD,
            manager=LAYERS_LABEL,
        )
    )
    return table
