"""The documentation site in a real browser: headless Chromium (Debian's ``chromium``) renders
the home page and a reference page, and the site's search finds "apt-packages".

    python scripts/docs_browser_check.py [--screenshot PNG] [SITE_DIR]

Builds the site (``mkdocs build --strict``) unless SITE_DIR holds one, serves it on 127.0.0.1,
drives Chromium through its DevTools protocol (a WebSocket: the search runs in a Web Worker,
which ``--dump-dom`` does not wait for), and saves a screenshot of the search's results
(default: docs/assets/search-apt-packages.png, the one the documentation keeps). Exits 1,
saying what is missing, when a check fails. tests/unit/docs/test_browser.py runs it
(scripts/dev test installs Debian's chromium).
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "assets" / "search-apt-packages.png"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--window-size=1280,900",
)


class DevTools:
    """One page's DevTools connection: a WebSocket, written by hand (the standard library has
    no client), enough for JSON messages."""

    def __init__(self, url: str) -> None:
        host, _, path = url.removeprefix("ws://").partition("/")
        name, _, port = host.partition(":")
        self.socket = socket.create_connection((name, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.socket.recv(1)
        if b" 101 " not in response.split(b"\r\n")[0]:
            raise SystemExit(f"Chromium refused the DevTools connection: {response!r}")
        self.next_id = 0

    def _send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.socket.sendall(header + mask + masked)

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.socket.recv(size - len(data))
            if not chunk:
                raise SystemExit("Chromium closed the DevTools connection")
            data += chunk
        return data

    def _receive(self) -> str:
        message = b""
        while True:
            first, second = self._exactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._exactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._exactly(8))
            message += self._exactly(length)
            if first & 0x80:
                return message.decode()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Sends one command and returns its result (events on the way are skipped)."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._receive())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise SystemExit(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str, ready: str, seconds: float = 30) -> None:
        """Navigates to ``url`` and waits until the JavaScript ``ready`` is true."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + seconds
        while not self.evaluate(ready):
            if time.monotonic() > deadline:
                raise SystemExit(f"{url}: not ready after {seconds:.0f} s ({ready})")
            time.sleep(0.2)


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def check(site: Path, screenshot: Path = SCREENSHOT) -> list[str]:
    """The failed checks, each said in a line (none: the site works in the browser)."""
    server, base = serve(site)
    profile = tempfile.mkdtemp(prefix="docs-chromium-")
    browser = subprocess.Popen(
        ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    failures = []
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > deadline or browser.poll() is not None:
                return ["Chromium did not start (is Debian's chromium installed?)"]
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        tools = DevTools(pages[0]["webSocketDebuggerUrl"])

        tools.open(f"{base}/", "document.readyState === 'complete'")
        if "poetry-docker-plugin" not in (tools.evaluate("document.title") or ""):
            failures.append(f"home page: title is {tools.evaluate('document.title')!r}")
        if not tools.evaluate("!!document.querySelector('.md-nav .md-nav__link')"):
            failures.append("home page: no navigation rendered")

        tools.open(f"{base}/reference/settings/", "document.readyState === 'complete'")
        if not tools.evaluate("!!document.getElementById('apt-packages')"):
            failures.append("settings reference: no `apt-packages` heading")

        # Material opens its search with ?q= once the search worker has its index.
        found = "document.querySelectorAll('.md-search-result__item').length > 0"
        try:
            tools.open(f"{base}/?q=apt-packages", found)
        except SystemExit as error:
            failures.append(f"search: {error}")
        links = tools.evaluate(
            "[...document.querySelectorAll('.md-search-result__item a')].map(a => a.href)"
        )
        wanted = [link for link in links or [] if "/reference/settings/" in link]
        if not any(link.endswith("#apt-packages") for link in wanted):
            failures.append(f"search for apt-packages: no result on the settings page ({links})")
        shot = tools.call("Page.captureScreenshot", format="png")
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()
        subprocess.run(["rm", "-rf", profile], check=False)
    return failures


def main(arguments: list[str]) -> int:
    screenshot = SCREENSHOT
    if arguments[:1] == ["--screenshot"]:
        screenshot, arguments = Path(arguments[1]), arguments[2:]
    if arguments:
        site = Path(arguments[0])
    else:
        site = Path(tempfile.mkdtemp(prefix="docs-site-"))
        mkdocs = Path(sys.executable).parent / "mkdocs"
        subprocess.run(
            [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(site)],
            cwd=ROOT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            check=True,
        )
    failures = check(site, screenshot)
    for failure in failures:
        print(failure)
    if not failures:
        print(f"the site renders and search finds apt-packages; screenshot: {screenshot}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
