"""A failed build's output read for what is missing (issue 28): one paragraph per common cause,
naming the setting that adds it. The outputs are the failing steps' lines as BuildKit prints
them (``#12 1.234 ...``), taken from real builds of the packages named."""

from __future__ import annotations

import pytest

from poetry_docker_plugin.system.failures import explain

PYTHON_LDAP = """\
#14 3.102   running build_ext
#14 3.110   building '_ldap' extension
#14 3.203   In file included from Modules/LDAPObject.c:3:
#14 3.203   Modules/common.h:15:10: fatal error: lber.h: No such file or directory
#14 3.203      15 | #include <lber.h>
#14 3.203         |          ^~~~~~~~
#14 3.204   compilation terminated.
#14 3.220   error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1
#14 3.401   ERROR: Failed building wheel for python-ldap
#14 3.402 Failed to build python-ldap
"""
PSYCOPG2 = """\
#14 2.410   Building wheel for psycopg2 (pyproject.toml): started
#14 2.870   running egg_info
#14 2.880   Error: pg_config executable not found.
#14 2.880
#14 2.880   pg_config is required to build psycopg2 from source.  Please add the directory
#14 2.880   containing pg_config to the $PATH or specify the full executable path with the
"""
MYSQLCLIENT = """\
#14 1.902   Trying pkg-config --exists mysqlclient
#14 1.905   Command 'pkg-config --exists mysqlclient' returned non-zero exit status 1.
#14 1.906   Trying pkg-config --exists mariadb
#14 1.909   Command 'pkg-config --exists mariadb' returned non-zero exit status 1.
#14 1.910   Exception: Can not find valid pkg-config name.
#14 1.910   Specify MYSQLCLIENT_CFLAGS and MYSQLCLIENT_LDFLAGS env vars manually
#14 1.920   /bin/sh: 1: pkg-config: not found
#14 2.001 ERROR: Failed to build installable wheels for some pyproject.toml based projects (mysqlclient)
"""
PYCAIRO = """\
#14 6.100   Dependency cairo found: NO (tried pkgconfig and cmake)
#14 6.101   Package 'cairo', required by 'virtual:world', not found
#14 6.200 Failed to build pycairo
"""
MANIMPANGO = """\
#14 9.120   Package 'pangocairo' was not found
#14 9.121   subprocess.CalledProcessError: Command '['pkg-config', '--print-errors', '--atleast-version', '1.30.0', 'pangocairo']' returned non-zero exit status 1.
#14 9.300 Failed to build manimpango
"""
NO_COMPILER = """\
#14 2.201   building 'cadd._cadd' extension
#14 2.202   error: command 'x86_64-linux-gnu-gcc' failed: No such file or directory
#14 2.300   Building wheel for cadd (pyproject.toml): finished with status 'error'
"""
CONDA_PYTHON = """\
#7 4.551 PackagesNotFoundError: The following packages are not available from current channels:
#7 4.551
#7 4.551   - python=3.14
#7 4.551
#7 4.551 Current channels:
"""
CONDA_PACKAGE = """\
#7 4.551 PackagesNotFoundError: The following packages are not available from current channels:
#7 4.551
#7 4.551   - gdal=9.9
#7 4.551
"""
GIT_HOST = """\
#13 0.812   Running command git clone --filter=blob:none --quiet https://github.com/org/lib.git /tmp/pip-req-build-x
#13 1.020   fatal: unable to access 'https://github.com/org/lib.git/': Could not resolve host: github.com
#13 1.031   error: subprocess-exited-with-error
"""
APT_HOST = """\
#9 0.611 Err:1 http://deb.debian.org/debian bookworm InRelease
#9 0.611   Temporary failure resolving 'deb.debian.org'
#9 2.350 E: Unable to locate package libpq-dev
"""
CERTIFICATE = """\
#11 3.1 WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))
"""
NO_APT = """\
#9 0.212 /bin/sh: 1: apt-get: not found
"""
LIBRARY_CHECK = """\
#15 4.831 poetry-docker: missing shared libraries: the environment needs libfoo.so.3 (needed by foo 1.0: lib/python3.11/site-packages/foo/_foo.so), which nothing in the image provides, and the image has no apt-get: importing it would fail at run time. Add the package that ships it to `apt-packages` in [tool.poetry-docker].
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            PYTHON_LDAP,
            (
                "python-ldap",
                "the C header `lber.h`",
                "libldap2-dev",
                "`build-apt-packages`",
                "openldap",
            ),
        ),
        (
            PSYCOPG2,
            ("psycopg2", "the program `pg_config`", '["libpq-dev"]', "`build-apt-packages`"),
        ),
        (MYSQLCLIENT, ("the program `pkg-config`", '["pkg-config"]')),
        (PYCAIRO, ("pycairo", "the pkg-config module `cairo`", "libcairo2-dev")),
        (MANIMPANGO, ("manimpango", "the pkg-config module `pangocairo`", "libpango1.0-dev")),
        (NO_COMPILER, ("cadd", "the program `gcc`", "build-essential")),
        (CONDA_PYTHON, ("no python 3.14", "`python`", "--python")),
        (CONDA_PACKAGE, ("gdal=9.9", "`conda-packages`", "`conda-channels`")),
        (GIT_HOST, ("github.com", "--network", "HTTPS_PROXY")),
        (APT_HOST, ("deb.debian.org", "--network")),
        (CERTIFICATE, ("`ca-bundle`",)),
        (NO_APT, ("no apt-get", "`base-image`", "`conda-packages`")),
        (LIBRARY_CHECK, ("libfoo.so.3", "foo 1.0", "`apt-packages`")),
    ],
    ids=[
        "header",
        "pg_config",
        "pkg-config",
        "pkg-config-module",
        "pkg-config-module-was-not-found",
        "compiler",
        "conda-python",
        "conda-package",
        "git-host",
        "apt-host",
        "certificate",
        "no-apt",
        "library-check",
    ],
)
def test_a_failure_names_what_is_missing_and_the_setting(
    output: str, expected: tuple[str, ...]
) -> None:
    explanation = explain(output)
    assert explanation is not None
    for words in expected:
        assert words in explanation, explanation
    assert "\n" not in explanation, "one paragraph"


def test_a_conda_spec_is_repeated_only_as_a_spec() -> None:
    """The build's output is a stranger's: a control character in it never reaches the message."""
    hostile = CONDA_PACKAGE.replace("gdal=9.9", "gdal=9.9\x07\x1b]0;owned\x07")
    explanation = explain(hostile) or ""
    assert "gdal=9.9" in explanation
    assert not any(ord(c) < 32 for c in explanation)


def test_an_unknown_failure_adds_nothing() -> None:
    assert explain("#14 2.0 error: something else went wrong\n") is None
    assert explain("") is None


def test_the_last_cause_is_the_one_named() -> None:
    """An sdist that looked for pkg-config before failing on a header names the header."""
    assert "lber.h" in (explain(MYSQLCLIENT + PYTHON_LDAP) or "")


def test_what_the_library_check_installed_is_said_again_once() -> None:
    from poetry_docker_plugin.system.failures import notes

    output = (
        "#13 5.728 poetry-docker: installed the Debian package libgomp1 for libgomp.so.1 (needed by lightgbm 4.5.0: lib/x.so).\n"
        "#13 5.728 poetry-docker: installed the Debian package libgomp1 for libgomp.so.1 (needed by lightgbm 4.5.0: lib/x.so).\n"
    )
    assert notes(output) == [
        "Added for the wheels: installed the Debian package libgomp1 for libgomp.so.1 (needed by lightgbm 4.5.0: lib/x.so)."
    ]
    assert notes("#13 0.1 nothing\n") == []
