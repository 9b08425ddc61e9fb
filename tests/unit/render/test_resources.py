"""What runs on the build platform for another platform's image (``render/resources``): the
wheel installer writes what pip writes, the target's account and startup lines land in copies
of its files, and the library check and the SBOM read another root than their own."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from poetry_docker_plugin.names import BASHRC_LINE
from poetry_docker_plugin.render.resources import check_libraries, target_files, write_sbom

RESOURCES = Path(check_libraries.__file__).parent


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def demo_wheel(folder: Path) -> Path:
    """A wheel with a package, a module at the top, and two console scripts (one of them a
    dotted attribute), as a build backend writes it."""
    files = {
        "demo/__init__.py": b"VERSION = '1.0'\n",
        "demo/cli.py": b"class App:\n    @staticmethod\n    def run():\n        return 0\n"
        b"def main():\n    return 0\n",
        "demo_top.py": b"X = 1\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        "demo-1.0.dist-info/entry_points.txt": b"[console_scripts]\ndemo = demo.cli:main\n"
        b"demo-app = demo.cli:App.run\n",
    }
    record = "".join(f"{record_line(name, data)}\n" for name, data in files.items())
    record += "demo-1.0.dist-info/RECORD,,\n"
    wheel = folder / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("demo-1.0.dist-info/RECORD", record)
    return wheel


def installed(prefix: Path) -> dict[str, bytes]:
    """The files the wheel added to a venv at ``prefix``: bytes, .pyc by name only."""
    site = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    found = {}
    for path in [*site.rglob("*"), *prefix.glob("bin/demo*")]:
        if path.is_file() and "demo" in str(path.relative_to(prefix)):
            relative = str(path.relative_to(prefix))
            found[relative] = b"" if path.suffix == ".pyc" else path.read_bytes()
    return found


def test_the_wheel_installer_writes_what_pip_writes(tmp_path: Path) -> None:
    """The same wheel installed by pip into a venv, and by install_wheels.py (PyPA's
    installer) under a root for a venv at the same path: the same files, scripts and RECORD,
    byte for byte (.pyc compared by name: they hold the time of the install)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    demo_wheel(wheels)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index"]
    subprocess.run([*pip, "--find-links", str(wheels), "demo==1.0"], check=True)
    by_pip = installed(venv)
    root = tmp_path / "root"
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run(
        [sys.executable, "-I", str(RESOURCES / "install_wheels.py"), "--prefix", str(venv),
         "--python", python, "--root", str(root), str(wheels / "demo-1.0-py3-none-any.whl")],
        check=True,
    )  # fmt: skip
    by_installer = installed(Path(str(root) + str(venv)))
    assert sorted(by_installer) == sorted(by_pip)
    for name, data in by_pip.items():
        assert by_installer[name] == data, name
    record = next(name for name in by_pip if name.endswith("dist-info/RECORD"))
    assert b"__pycache__/demo_top.cpython-" in by_pip[record]  # what pip lists, so do we
    assert by_pip["bin/demo-app"].endswith(b"sys.exit(App.run())\n")


def fake_target(root: Path) -> Path:
    """A target's root as a Debian base has it, with tini already there."""
    etc = root / "etc"
    (etc / "skel").mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\nshadow:x:42:\n")
    for name in ("shadow", "gshadow"):
        (etc / name).write_text(
            "root:*::\n" if name == "gshadow" else "root:*:19000:0:99999:7:::\n"
        )
        (etc / name).chmod(0o640)
        os.chown(etc / name, 0, 42)
    shutil.copy2("/etc/login.defs", etc / "login.defs")
    (etc / "skel" / ".bashrc").write_text("# skel\n")
    (etc / "bash.bashrc").write_text("# system-wide\n")
    (root / "root").mkdir(mode=0o700)
    (root / "root").chmod(0o700)
    (root / "root" / ".bashrc").write_text("# root's\n")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tini").write_bytes(b"\x7fELF")
    return root


def run_target_files(tmp_path: Path, target: Path, account: str | None) -> Path:
    settings = tmp_path / "target-files.json"
    settings.write_text(
        json.dumps(
            {"debian_architecture": "arm64", "account": account, "uid": 10001 if account else None,
             "workdir": "/app", "bashrc_line": BASHRC_LINE}
        )
    )  # fmt: skip
    out = tmp_path / "out"
    assert target_files.main([str(settings), str(target), str(out)]) == 0
    return out


@pytest.fixture
def as_root() -> None:
    """useradd and chown need root, as the build's stage has; CI runs the suite as root."""
    if os.geteuid() != 0:
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail("the unit suite runs as root in CI (useradd --prefix, chown)")
        pytest.skip("needs root (useradd --prefix, chown), as the build's stage has")


@pytest.mark.usefixtures("as_root")
def test_the_account_and_the_activation_land_in_copies_of_the_targets_files(
    tmp_path: Path,
) -> None:
    """The account is added to copies of the target's files (useradd --prefix), with its home
    from the target's skel and the working directory it owns; the shells' startup files get
    the line; a file left as the target has it is left out; a directory keeps its mode."""
    target = fake_target(tmp_path / "target")
    out = run_target_files(tmp_path, target, "app")
    entry = next(
        line for line in (out / "etc/passwd").read_text().splitlines() if line[:4] == "app:"
    )
    name, _, uid, gid, _, home, _ = entry.split(":")
    assert (name, uid, gid, home) == ("app", "10001", "10001", "/home/app")
    assert (out / "etc/passwd").read_text().startswith("root:x:0:0:")
    assert "app:10001:" in ":".join((out / "etc/group").read_text().split(":x:"))
    assert (out / "home/app/.bashrc").read_text() == f"# skel\n\n{BASHRC_LINE}\n"
    assert (out / "home/app").stat().st_uid == 10001
    assert (out / "etc/bash.bashrc").read_text() == f"# system-wide\n\n{BASHRC_LINE}\n"
    assert (out / "root/.bashrc").read_text() == f"# root's\n\n{BASHRC_LINE}\n"
    assert (out / "root").stat().st_mode & 0o777 == 0o700  # as the target's: COPY keeps it
    assert (out / "app").stat().st_uid == 10001
    assert not (out / "etc/login.defs").exists() and not (out / "etc/skel").exists()
    assert (out / "etc/shadow").stat().st_gid == 42
    assert not (out / "usr").exists()  # the target has tini: nothing installed


@pytest.mark.usefixtures("as_root")
def test_an_account_the_target_has_is_not_added_again(tmp_path: Path) -> None:
    target = fake_target(tmp_path / "target")
    with (target / "etc/passwd").open("a") as passwd:
        passwd.write("app:x:2000:2000::/srv/app:/bin/sh\n")
    (target / "srv/app").mkdir(parents=True)
    (target / "srv/app/.bashrc").write_text("# app's\n")
    out = run_target_files(tmp_path, target, "app")
    assert not (out / "etc/passwd").exists()  # unchanged: left out
    assert (out / "srv/app/.bashrc").read_text() == f"# app's\n\n{BASHRC_LINE}\n"
    assert not (out / "home").exists()


def elf_root(tmp_path: Path, *, with_libc: bool) -> Path:
    """A root whose environment holds one ELF file (a copy of this machine's libz, which
    needs libc.so.6), with or without a libc where its ld.so.conf.d says to look."""
    import sysconfig

    libz = Path(sysconfig.get_config_var("LIBDIR") or "/usr/lib") / "x86_64-linux-gnu/libz.so.1"
    if not libz.exists():
        libz = next(Path("/usr/lib").rglob("libz.so.1"))
    root = tmp_path / ("with" if with_libc else "without")
    extension = root / "opt/venv/lib/python3.11/site-packages/demo/_demo.so"
    extension.parent.mkdir(parents=True)
    shutil.copyfile(libz.resolve(), extension)
    (root / "etc/ld.so.conf.d").mkdir(parents=True)
    (root / "etc/ld.so.conf.d/multiarch.conf").write_text("/usr/lib/multiarch\n")
    if with_libc:
        (root / "usr/lib/multiarch").mkdir(parents=True)
        (root / "usr/lib/multiarch/libc.so.6").write_bytes(b"")
    return root


@pytest.mark.parametrize("with_libc", [True, False])
def test_the_library_check_reads_another_root(
    tmp_path: Path, with_libc: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under --root only the root's directories count (this machine's libc is no answer),
    and a missing library fails naming the probable package and the setting."""
    root = elf_root(tmp_path, with_libc=with_libc)
    settings = tmp_path / "library-check.json"
    settings.write_text(json.dumps({"prefix": "/opt/venv", "ignore": [], "packages": {}}))
    code = check_libraries.main(["--root", str(root), str(settings)])
    said = capsys.readouterr().out
    if with_libc:
        assert (code, said) == (0, "")
        return
    assert code == 1
    assert "missing shared libraries: the environment needs libc.so.6" in said
    assert "a build for another platform checks the image's files" in said
    assert "`apt-packages` in [tool.poetry-docker] (probably libc6;" in said


def test_the_sbom_reads_the_distributions_under_another_root(tmp_path: Path) -> None:
    """Run by the build platform's venv of the same Python, the SBOM lists what is installed
    under the root at that venv's paths, and nothing of the Python that runs it."""
    site = next(Path(entry) for entry in sys.path if entry.endswith("site-packages"))
    dist_info = Path(str(tmp_path) + str(site)) / "demo-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    found = write_sbom.installed_distributions(Path(str(tmp_path) + sys.prefix), tmp_path)
    assert [(name, version) for name, version, *_ in found] == [("demo", "1.0")]


@pytest.mark.usefixtures("as_root")
def test_a_home_that_climbs_stays_inside_the_image(tmp_path: Path) -> None:
    """A base's passwd is a stranger's: a home of ``/../../srv/app`` is /srv/app in the image,
    as the kernel resolves it there, and nothing is read or written above the two roots."""
    target = fake_target(tmp_path / "a" / "target")
    with (target / "etc/passwd").open("a") as passwd:
        passwd.write("app:x:2000:2000::/../../srv/app:/bin/sh\n")
    (target / "srv/app").mkdir(parents=True)
    (target / "srv/app/.bashrc").write_text("# app's\n")
    out = run_target_files(tmp_path / "a", target, "app")
    assert (out / "srv/app/.bashrc").read_text() == f"# app's\n\n{BASHRC_LINE}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a"]
    assert sorted(path.name for path in (tmp_path / "a").iterdir()) == [
        "out",
        "target",
        "target-files.json",
    ]
