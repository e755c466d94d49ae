"""Headless Chromium (Debian `chromium`) driven over the DevTools protocol on a pipe.

`--remote-debugging-pipe` reads JSON commands on fd 3 and answers on fd 4, each
message ended by a NUL byte: no port, no websocket client, nothing to download.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Chromium wants the pipe on fds 3 and 4 exactly; dup first so that neither end overwrites
# the other whatever numbers they had (a shell's `3<&17` cannot do that, nor fds above 9).
ONTO_FDS_3_AND_4 = """
import os, sys
a, b = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2]))
os.dup2(a, 3)
os.dup2(b, 4)
os.set_inheritable(3, True)  # dup2 onto itself (a == 3) keeps dup's non-inheritable flag
os.set_inheritable(4, True)
os.execvp(sys.argv[3], sys.argv[3:])
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError("chromium is missing: apt-get install -y chromium (scripts/setup does)")
    return exe


class Browser:
    def __init__(self, workdir: Path, width: int = 1920, height: int = 1080) -> None:
        self.workdir = workdir
        self.width, self.height = width, height
        self.proc: subprocess.Popen[bytes] | None = None
        self._to: int = -1
        self._from: int = -1
        self._buf = b""
        self._id = 0
        self.session = ""

    def __enter__(self) -> Browser:
        to_r, self._to = os.pipe()
        self._from, from_w = os.pipe()
        args = [
            chromium(),
            "--headless",
            "--no-sandbox",  # we run as root in CI; the page is our own, on loopback
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={self.workdir / 'chromium-profile'}",
            f"--window-size={self.width},{self.height}",
        ]
        log = (self.workdir / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ONTO_FDS_3_AND_4, str(to_r), str(from_w), *args],
            pass_fds=(to_r, from_w),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        os.close(to_r)
        os.close(from_w)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for fd in (self._to, self._from):
            if fd >= 0:
                os.close(fd)
        self._to = self._from = -1

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer; see chromium.log")
            ready, _, _ = select.select([self._from], [], [], left)
            if ready:
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium exited; see chromium.log")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return dict(json.loads(raw))

    def open(self, url: str, timeout: float = 30) -> None:
        """Navigate and return once the page has loaded (navigate itself returns before)."""
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        while not self.evaluate(loaded):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load within {timeout:.0f}s")
            time.sleep(0.1)

    def login(self, base: str, name: str, password: str, then: str, timeout: float = 30) -> None:
        """Log in through the login page (/login?next=…) as a person would; the page's
        cookie then opens `then`."""
        self.open(f"{base}/login?next={then}")
        fill = (
            f"document.getElementById('name').value = {json.dumps(name)};"
            f"document.getElementById('password').value = {json.dumps(password)};"
            "document.querySelector('#login button').click();"
        )
        self.evaluate(fill)
        deadline = time.monotonic() + timeout
        arrived = (
            f"location.href === {json.dumps(base + then)} && document.readyState === 'complete'"
        )
        while not self.evaluate(arrived):
            if time.monotonic() > deadline:
                error = self.evaluate("document.getElementById('error')?.textContent")
                raise TimeoutError(f"login as {name} did not reach {then}: {error!r}")
            time.sleep(0.1)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path
