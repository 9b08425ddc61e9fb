"""Writes the files that a venv image adds to its base, for another platform, without running it.

Run by the build platform's python3, in a stage ``FROM --platform=$BUILDPLATFORM`` with the
target's base mounted at TARGET (writable, its writes discarded): the unprivileged account
(``useradd --prefix``, on copies of the target's account files), the working directory it
owns, the line that activates the environment in the shells' startup files, and tini from
Debian's package for the target's architecture (installed by dpkg into TARGET: its
maintainer has no scripts). Each lands under OUT at its path in the image; a file the same
as the target's is left out, so the stage that copies OUT over the base changes only these.
What the template's steps do in the target's own stage when its code can run there.

Usage: target_files.py SETTINGS.json TARGET OUT
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Where the shell looks for tini (the PATH of a Debian image's root).
PATH_DIRECTORIES = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# What useradd reads and writes under its --prefix.
ACCOUNT_FILES = (
    "etc/passwd",
    "etc/group",
    "etc/shadow",
    "etc/gshadow",
    "etc/subuid",
    "etc/subgid",
    "etc/login.defs",
    "etc/default/useradd",
    "etc/skel",
)


def image_path(path: str) -> Path:
    """``path`` of the image, relative to its root: ``..`` cannot climb above it (a home
    read from the base's passwd is a stranger's value), as in the image itself."""
    return Path(os.path.normpath("/" + path).lstrip("/"))


def inside(root: Path, path: str) -> Path:
    """``path`` of the image, under ``root``."""
    return root / image_path(path)


def mirror_parents(target: Path, out: Path, relative: Path) -> None:
    """Creates the directories above ``relative`` in ``out`` with the owner and mode they have
    in ``target``, so that copying ``out`` over the image changes neither."""
    for parent in reversed(list(relative.parents)[:-1]):
        made = out / parent
        if made.is_dir():
            continue
        made.mkdir()
        source = target / parent
        if source.is_dir() and not source.is_symlink():
            status = source.stat()
            os.chown(made, status.st_uid, status.st_gid)
            made.chmod(status.st_mode & 0o7777)


def copy_in(target: Path, out: Path, path: str) -> Path:
    """The copy in ``out`` of the image's file ``path`` (made from the target's if needed)."""
    relative = image_path(path)
    copied = out / relative
    if copied.exists() or copied.is_symlink():
        return copied
    mirror_parents(target, out, relative)
    source = target / relative
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, copied, symlinks=True)
    elif source.exists() or source.is_symlink():
        shutil.copy2(source, copied, follow_symlinks=False)
        status = source.lstat()
        os.chown(copied, status.st_uid, status.st_gid, follow_symlinks=False)
    return copied


def has_tini(target: Path) -> bool:
    return any(inside(target, d + "/tini").exists() for d in PATH_DIRECTORIES)


def run(*command: str, cwd: str | None = None) -> None:
    subprocess.run(command, check=True, stdout=sys.stderr, cwd=cwd)


def install_tini(target: Path, out: Path, architecture: str) -> None:
    """tini for ``architecture`` from Debian, installed by dpkg into the target's root itself
    (mounted writable; what is written there is discarded), as the target's dpkg would: only
    its files, its package database entry and files list change, and those are copied."""
    run("dpkg", "--add-architecture", architecture)
    run("apt-get", "update", "-qq")
    with tempfile.TemporaryDirectory() as downloads:
        run("apt-get", "download", "-qq", f"tini:{architecture}", cwd=downloads)
        (package,) = Path(downloads).glob("tini_*.deb")
        dpkg = ("dpkg", f"--root={target}", "--force-architecture", "--force-script-chrootless")
        # Unpacked, then configured, as apt-get has dpkg do it (status-old is the between).
        run(*dpkg, "--unpack", str(package))
        run(*dpkg, "--configure", "--pending")
    database = "/var/lib/dpkg"
    listed = inside(target, f"{database}/info/tini.list").read_text(encoding="utf-8")
    changed = [f"{database}/status", f"{database}/status-old", *listed.splitlines()]
    changed += [f"{database}/info/{p.name}" for p in inside(target, database).glob("info/tini.*")]
    for path in changed:
        source = inside(target, path)
        if source.is_symlink() or source.is_file():
            copy_in(target, out, path)


def passwd_entry(out: Path, account: str) -> list[str] | None:
    text = (out / "etc/passwd").read_text(encoding="utf-8")
    for line in text.splitlines():
        fields = line.split(":")
        if fields[0] == account and len(fields) == 7:
            return fields
    return None


def add_account(target: Path, out: Path, account: str, uid: int | None, workdir: str) -> str:
    """The account (as ``useradd --create-home --user-group`` adds it when it is missing), and
    the working directory it owns when the base has none; returns its home."""
    for path in ACCOUNT_FILES:
        copy_in(target, out, path)
    if passwd_entry(out, account) is None:
        uid_option = ["--uid", str(uid)] if uid else []
        # --skel: useradd --prefix reads the prefix's account files but this system's skel.
        skel = ["--skel", str(out / "etc/skel")] if (out / "etc/skel").is_dir() else []
        run(
            "useradd",
            "--prefix",
            str(out),
            *skel,
            "--create-home",
            "--user-group",
            *uid_option,
            account,
        )
    entry = passwd_entry(out, account)
    if entry is None:
        raise SystemExit(f"poetry-docker: useradd did not add the account {account}.")
    if not inside(target, workdir).exists() and not inside(out, workdir).exists():
        relative = image_path(workdir)
        mirror_parents(target, out, relative)
        made = out / relative
        made.mkdir(mode=0o755)
        made.chmod(0o755)
        os.chown(made, int(entry[2]), 0)
    return entry[5]


def activate_in(target: Path, out: Path, files: list[str], line: str) -> None:
    """``line`` appended to each of ``files`` that the image has."""
    for path in files:
        if not (inside(out, path).is_file() or inside(target, path).is_file()):
            continue
        copied = copy_in(target, out, path)
        if copied.is_symlink():  # nothing is written through a link the base holds
            continue
        with copied.open("a", encoding="utf-8") as handle:
            handle.write(f"\n{line}\n")


def left_out_when_same(target: Path, out: Path) -> None:
    """Removes from ``out`` the files, links and directories the target has as they are."""
    for root, directories, files in os.walk(out, topdown=False):
        for name in files + directories:
            path = Path(root, name)
            twin = target / path.relative_to(out)
            if path.is_symlink() or not path.is_dir():
                if same_file(path, twin):
                    path.unlink()
            elif (
                not any(path.iterdir())
                and twin.is_dir()
                and not twin.is_symlink()
                and same_owner_and_mode(path, twin)
            ):
                path.rmdir()


def same_owner_and_mode(path: Path, twin: Path) -> bool:
    one, other = path.lstat(), twin.lstat()
    return (one.st_uid, one.st_gid, one.st_mode) == (other.st_uid, other.st_gid, other.st_mode)


def same_file(path: Path, twin: Path) -> bool:
    if not (twin.exists() or twin.is_symlink()) or not same_owner_and_mode(path, twin):
        return False
    if path.is_symlink():
        # (os.readlink: Path.readlink is 3.9's, and the base's Python may be 3.8)
        return twin.is_symlink() and os.readlink(path) == os.readlink(twin)  # noqa: PTH115
    return twin.is_file() and filecmp.cmp(path, twin, shallow=False)


def main(arguments: list[str]) -> int:
    settings: dict[str, Any] = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    target, out = Path(arguments[1]), Path(arguments[2])
    out.mkdir(parents=True, exist_ok=True)
    files = ["/etc/bash.bashrc", "/root/.bashrc"]
    account = settings.get("account")
    if account:
        home = add_account(target, out, account, settings.get("uid"), settings["workdir"])
        files.append(f"{home}/.bashrc")
    activate_in(target, out, files, settings["bashrc_line"])
    left_out_when_same(target, out)
    # Last: it writes into the target's root, which the steps above compare against.
    if not has_tini(target) and inside(target, "/usr/bin/apt-get").exists():
        install_tini(target, out, settings["debian_architecture"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
