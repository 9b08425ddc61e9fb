"""Tables of what well-known Python packages need from the operating system, and the Debian
package that ships a library, header or program.

Each entry cites where its package documents the need. They are applied by the plan (the
wheels stage's build packages, the runtime's libraries loaded with ctypes), by the in-image
library check (``resources/check_libraries.py``: sonames Debian names against its policy) and
by the reading of a failed build (``failures``). A package the tables lack is handled by the
``build-apt-packages`` and ``apt-packages`` settings; README says how to add an entry here.

Names are Debian bookworm's (and Ubuntu's, where Miniforge's images come from: the same names
for these); conda-forge's are given for users of ``conda-packages``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemNeeds:
    """What building (or loading) one Python package needs from the system."""

    debian: tuple[str, ...]  # Debian/Ubuntu packages
    conda: tuple[str, ...]  # conda-forge packages that provide the same
    source: str  # where the Python package documents it


# Built from an sdist (the lock has no wheel for the target), these need headers or programs
# besides the compiler. Keys are normalised distribution names.
SDIST_BUILD_NEEDS: dict[str, SystemNeeds] = {
    "psycopg2": SystemNeeds(
        ("libpq-dev",), ("libpq",),
        "https://www.psycopg.org/docs/install.html#build-prerequisites",
    ),
    # the same sdist, for a Python or platform its wheels do not cover
    "psycopg2-binary": SystemNeeds(
        ("libpq-dev",), ("libpq",),
        "https://www.psycopg.org/docs/install.html#build-prerequisites",
    ),
    "psycopg-c": SystemNeeds(
        ("libpq-dev",), ("libpq",),
        "https://www.psycopg.org/psycopg3/docs/basic/install.html#local-installation",
    ),
    "python-ldap": SystemNeeds(
        ("libldap2-dev", "libsasl2-dev"), ("openldap", "cyrus-sasl"),
        "https://www.python-ldap.org/en/latest/installing.html#debian",
    ),
    "mysqlclient": SystemNeeds(
        ("default-libmysqlclient-dev", "pkg-config"), ("mysql-libs", "pkg-config"),
        "https://github.com/PyMySQL/mysqlclient#linux",
    ),
    "mariadb": SystemNeeds(
        ("libmariadb-dev",), ("mariadb-connector-c",),
        "https://mariadb-corporation.github.io/mariadb-connector-python/install.html",
    ),
    "pycairo": SystemNeeds(
        ("libcairo2-dev", "pkg-config"), ("cairo", "pkg-config"),
        "https://pycairo.readthedocs.io/en/latest/getting_started.html",
    ),
    "manimpango": SystemNeeds(
        ("libpango1.0-dev", "pkg-config"), ("pango", "pkg-config"),
        "https://github.com/ManimCommunity/ManimPango#building",
    ),
    "pygobject": SystemNeeds(
        ("libgirepository1.0-dev", "libcairo2-dev", "pkg-config"),
        ("gobject-introspection", "cairo", "pkg-config"),
        "https://pygobject.gnome.org/getting_started.html",
    ),
    "pyodbc": SystemNeeds(
        ("unixodbc-dev",), ("unixodbc",),
        "https://github.com/mkleehammer/pyodbc/wiki/Install",
    ),
    "pymssql": SystemNeeds(
        ("freetds-dev",), ("freetds",),
        "https://pymssql.readthedocs.io/en/stable/intro.html#install",
    ),
    "gssapi": SystemNeeds(
        ("libkrb5-dev",), ("krb5",),
        "https://pythongssapi.github.io/python-gssapi/#requirements",
    ),
    "krb5": SystemNeeds(
        ("libkrb5-dev",), ("krb5",), "https://github.com/jborean93/pykrb5#installation"
    ),
    "pykerberos": SystemNeeds(
        ("libkrb5-dev",), ("krb5",), "https://github.com/02strich/pykerberos#installation"
    ),
    "kerberos": SystemNeeds(
        ("libkrb5-dev",), ("krb5",), "https://github.com/apple/ccs-pykerberos#readme"
    ),
    "sasl": SystemNeeds(
        ("libsasl2-dev",), ("cyrus-sasl",), "https://github.com/cloudera/python-sasl#readme"
    ),
    "cryptography": SystemNeeds(
        ("libssl-dev", "pkg-config", "rustc", "cargo"), ("openssl", "pkg-config", "rust"),
        "https://cryptography.io/en/latest/installation/#debian-ubuntu",
    ),
    "cffi": SystemNeeds(
        ("libffi-dev",), ("libffi",),
        "https://cffi.readthedocs.io/en/stable/installation.html#platform-specific-instructions",
    ),
    "lxml": SystemNeeds(
        ("libxml2-dev", "libxslt1-dev"), ("libxml2", "libxslt"),
        "https://lxml.de/installation.html#requirements",
    ),
    "xmlsec": SystemNeeds(
        ("libxmlsec1-dev", "libxml2-dev", "pkg-config"), ("xmlsec", "libxml2", "pkg-config"),
        "https://xmlsec.readthedocs.io/en/stable/install.html#linux-debian",
    ),
    "pillow": SystemNeeds(
        ("libjpeg-dev", "zlib1g-dev"), ("libjpeg-turbo", "zlib"),
        "https://pillow.readthedocs.io/en/stable/installation/building-from-source.html",
    ),
    "h5py": SystemNeeds(
        ("libhdf5-dev", "pkg-config"), ("hdf5", "pkg-config"),
        "https://docs.h5py.org/en/stable/build.html#source-installation",
    ),
    "pygraphviz": SystemNeeds(
        ("graphviz-dev",), ("graphviz",), "https://pygraphviz.github.io/documentation/stable/install.html"
    ),
    "pycurl": SystemNeeds(
        ("libcurl4-openssl-dev", "libssl-dev"), ("libcurl", "openssl"),
        "http://pycurl.io/docs/latest/install.html",
    ),
    "dbus-python": SystemNeeds(
        ("libdbus-1-dev", "libglib2.0-dev", "pkg-config"), ("dbus", "glib", "pkg-config"),
        "https://dbus.freedesktop.org/doc/dbus-python/",
    ),
    "pyaudio": SystemNeeds(
        ("portaudio19-dev",), ("portaudio",), "https://people.csail.mit.edu/hubert/pyaudio/"
    ),
    "pygit2": SystemNeeds(
        ("libgit2-dev",), ("libgit2",), "https://www.pygit2.org/install.html"
    ),
    "python-snappy": SystemNeeds(
        ("libsnappy-dev",), ("snappy",), "https://github.com/intake/python-snappy#installation"
    ),
    "pyzmq": SystemNeeds(
        ("libzmq3-dev",), ("zeromq",), "https://pyzmq.readthedocs.io/en/latest/howto/build.html"
    ),
    "pyyaml": SystemNeeds(
        ("libyaml-dev",), ("yaml",), "https://pyyaml.org/wiki/PyYAMLDocumentation#installation"
    ),
}  # fmt: skip

# Loaded at run time with ctypes or cffi's dlopen, so no ELF file of theirs names the library
# and the in-image check cannot see the need: the runtime stage gets these packages.
RUNTIME_LOADED: dict[str, SystemNeeds] = {
    "python-magic": SystemNeeds(
        ("libmagic1",), ("libmagic",), "https://github.com/ahupp/python-magic#installation"
    ),
    "cairocffi": SystemNeeds(
        ("libcairo2",), ("cairo",), "https://doc.courtbouillon.org/cairocffi/stable/overview.html"
    ),
    "weasyprint": SystemNeeds(
        ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"), ("pango",),
        "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#linux",
    ),
    "pyvips": SystemNeeds(
        ("libvips42",), ("libvips",), "https://github.com/libvips/pyvips#non-binary-mode"
    ),
    # psycopg 3's pure-Python implementation; psycopg-binary and psycopg-c bring their own
    "psycopg": SystemNeeds(
        ("libpq5",), ("libpq",),
        "https://www.psycopg.org/psycopg3/docs/basic/install.html#pure-python-installation",
    ),
    "sounddevice": SystemNeeds(
        ("libportaudio2",), ("portaudio",),
        "https://python-sounddevice.readthedocs.io/en/latest/installation.html",
    ),
    "pyzbar": SystemNeeds(
        ("libzbar0",), ("zbar",), "https://github.com/NaturalHistoryMuseum/pyzbar#installation"
    ),
}  # fmt: skip
# Installed beside one of these, a package of RUNTIME_LOADED loads its library from them.
RUNTIME_PROVIDED_BY: dict[str, tuple[str, ...]] = {"psycopg": ("psycopg-binary", "psycopg-c")}

# Libraries that the host provides at run time, never the image: the GPU driver's, which the
# NVIDIA container toolkit mounts (CUDA wheels link libcuda.so.1), and WSL's.
DEFAULT_HOST_LIBRARIES = ("libcuda.so*", "libnvidia-*.so*", "libnvcuvid.so*", "libdxcore.so*")

# Sonames whose Debian package is not the one Debian's policy names after it (libfoo.so.1 ->
# libfoo1): the in-image check tries this table first.
SONAME_PACKAGES: dict[str, str] = {
    "libz.so.1": "zlib1g",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "liblber-2.5.so.0": "libldap-2.5-0",
    "libxml2.so.2": "libxml2",
    "libxslt.so.1": "libxslt1.1",
    "libexslt.so.0": "libxslt1.1",
    "libcrypto.so.3": "libssl3",
    "libjpeg.so.62": "libjpeg62-turbo",
    "libgeos_c.so.1": "libgeos-c1v5",
    "libGLU.so.1": "libglu1-mesa",
    "libsnappy.so.1": "libsnappy1v5",
    "libhdf5_serial.so.103": "libhdf5-103-1",
    "libicuuc.so.72": "libicu72",
    "libicui18n.so.72": "libicu72",
    "libicudata.so.72": "libicu72",
    "libmysqlclient.so.21": "libmariadb3",
}

# Headers a C compiler reports missing (``fatal error: X.h: No such file or directory``).
HEADER_PACKAGES: dict[str, str] = {
    "lber.h": "libldap2-dev",
    "ldap.h": "libldap2-dev",
    "sasl/sasl.h": "libsasl2-dev",
    "libpq-fe.h": "libpq-dev",
    "pg_config.h": "libpq-dev",
    "mysql.h": "default-libmysqlclient-dev",
    "mysql/mysql.h": "default-libmysqlclient-dev",
    "mariadb/mysql.h": "libmariadb-dev",
    "ffi.h": "libffi-dev",
    "krb5.h": "libkrb5-dev",
    "gssapi.h": "libkrb5-dev",
    "gssapi/gssapi.h": "libkrb5-dev",
    "sql.h": "unixodbc-dev",
    "sqlext.h": "unixodbc-dev",
    "sybdb.h": "freetds-dev",
    "cairo.h": "libcairo2-dev",
    "zlib.h": "zlib1g-dev",
    "jpeglib.h": "libjpeg-dev",
    "png.h": "libpng-dev",
    "tiffio.h": "libtiff-dev",
    "ft2build.h": "libfreetype-dev",
    "yaml.h": "libyaml-dev",
    "lzma.h": "liblzma-dev",
    "bzlib.h": "libbz2-dev",
    "sqlite3.h": "libsqlite3-dev",
    "gmp.h": "libgmp-dev",
    "hdf5.h": "libhdf5-dev",
    "geos_c.h": "libgeos-dev",
    "gdal.h": "libgdal-dev",
    "proj.h": "libproj-dev",
    "snappy-c.h": "libsnappy-dev",
    "zmq.h": "libzmq3-dev",
    "curl/curl.h": "libcurl4-openssl-dev",
    "portaudio.h": "portaudio19-dev",
    "git2.h": "libgit2-dev",
    "dbus/dbus.h": "libdbus-1-dev",
    "glib.h": "libglib2.0-dev",
    "uuid/uuid.h": "uuid-dev",
    "security/pam_appl.h": "libpam0g-dev",
    "readline/readline.h": "libreadline-dev",
    "ncurses.h": "libncurses-dev",
    "curses.h": "libncurses-dev",
    "systemd/sd-daemon.h": "libsystemd-dev",
    "pcap.h": "libpcap-dev",
    "libudev.h": "libudev-dev",
    "fftw3.h": "libfftw3-dev",
    "cblas.h": "libopenblas-dev",
    "lapacke.h": "liblapacke-dev",
    "X11/Xlib.h": "libx11-dev",
    "GL/gl.h": "libgl-dev",
    "magic.h": "libmagic-dev",
    "expat.h": "libexpat1-dev",
    "lz4.h": "liblz4-dev",
    "zstd.h": "libzstd-dev",
    "libusb-1.0/libusb.h": "libusb-1.0-0-dev",
    "xmlsec/xmlsec.h": "libxmlsec1-dev",
    "libxml/xmlversion.h": "libxml2-dev",
    "libxslt/xsltconfig.h": "libxslt1-dev",
}
# Header directories whose package is known whatever the file (openssl/ssl.h, libxml/tree.h).
HEADER_DIRECTORY_PACKAGES: dict[str, str] = {
    "openssl": "libssl-dev",
    "libxml": "libxml2-dev",
    "libxslt": "libxslt1-dev",
    "libexslt": "libxslt1-dev",
    "xmlsec": "libxmlsec1-dev",
    "postgresql": "libpq-dev",
    "mysql": "default-libmysqlclient-dev",
    "gssapi": "libkrb5-dev",
    "krb5": "libkrb5-dev",
    "sasl": "libsasl2-dev",
    "cairo": "libcairo2-dev",
    "girepository": "libgirepository1.0-dev",
}
# Programs a build runs to find a library (``pg_config executable not found``).
PROGRAM_PACKAGES: dict[str, str] = {
    "pg_config": "libpq-dev",
    "mysql_config": "default-libmysqlclient-dev",
    "mariadb_config": "libmariadb-dev",
    "pkg-config": "pkg-config",
    "krb5-config": "libkrb5-dev",
    "xml2-config": "libxml2-dev",
    "xslt-config": "libxslt1-dev",
    "curl-config": "libcurl4-openssl-dev",
    "gdal-config": "libgdal-dev",
    "geos-config": "libgeos-dev",
    "odbc_config": "unixodbc-dev",
    "gcc": "build-essential",
    "cc": "build-essential",
    "g++": "build-essential",
    "c++": "build-essential",
    "make": "build-essential",
    "cmake": "cmake",
    "gfortran": "gfortran",
    "swig": "swig",
    "git": "git",
    "cargo": "cargo",
    "rustc": "rustc",
}
# pkg-config modules (``Package 'libpq' not found``).
PKG_CONFIG_PACKAGES: dict[str, str] = {
    "libpq": "libpq-dev",
    "mysqlclient": "default-libmysqlclient-dev",
    "mariadb": "libmariadb-dev",
    "libmariadb": "libmariadb-dev",
    "cairo": "libcairo2-dev",
    "gobject-introspection-1.0": "libgirepository1.0-dev",
    "libxml-2.0": "libxml2-dev",
    "libxslt": "libxslt1-dev",
    "xmlsec1": "libxmlsec1-dev",
    "krb5": "libkrb5-dev",
    "krb5-gssapi": "libkrb5-dev",
    "openssl": "libssl-dev",
    "libffi": "libffi-dev",
    "hdf5": "libhdf5-dev",
    "dbus-1": "libdbus-1-dev",
    "glib-2.0": "libglib2.0-dev",
    "libgit2": "libgit2-dev",
    "proj": "libproj-dev",
    "libzmq": "libzmq3-dev",
    "libcurl": "libcurl4-openssl-dev",
    "odbc": "unixodbc-dev",
    "portaudio-2.0": "portaudio19-dev",
    "pango": "libpango1.0-dev",
    "pangocairo": "libpango1.0-dev",
    "pangoft2": "libpango1.0-dev",
}


def build_packages(names: tuple[str, ...]) -> tuple[str, ...]:
    """The Debian packages that building these distributions from sdists needs, in order."""
    needs = [SDIST_BUILD_NEEDS[name] for name in names if name in SDIST_BUILD_NEEDS]
    found = [package for need in needs for package in need.debian]
    return tuple(dict.fromkeys(found))


def runtime_packages(names: tuple[str, ...]) -> tuple[str, ...]:
    """The Debian packages of libraries these distributions load with ctypes or cffi."""
    present = set(names)
    needs = [
        RUNTIME_LOADED[name]
        for name in names
        if name in RUNTIME_LOADED and not present & set(RUNTIME_PROVIDED_BY.get(name, ()))
    ]
    found = [package for need in needs for package in need.debian]
    return tuple(dict.fromkeys(found))


def header_package(header: str) -> str | None:
    """The Debian package that ships ``header`` (``lber.h``, ``openssl/ssl.h``), if known."""
    if header in HEADER_PACKAGES:
        return HEADER_PACKAGES[header]
    directory = header.split("/", 1)[0] if "/" in header else ""
    return HEADER_DIRECTORY_PACKAGES.get(directory)
