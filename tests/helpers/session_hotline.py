"""The integration tests' hotline: its agents and settings, and `Hotline`, what a test
drives it with (the CLI, the HTTP API as the session's supervisor, Asterisk's CLI).
tests/integration/conftest.py starts it once a session (the `hotline` fixture).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from hotline.asterisk.root import asterisk_cmd
from tests.helpers.ports import PORTS

REPO = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-m", "hotline"]
# Ports where nothing answers, so that `hotline up` starts its own Redis and Mosquitto
# (HOTLINE_TEST_REDIS_PORT / HOTLINE_TEST_MQTT_PORT move them off a port left busy).
OWN_SERVICE_PORTS = {
    "redis": int(os.environ.get("HOTLINE_TEST_REDIS_PORT", "6391")),
    "mqtt": int(os.environ.get("HOTLINE_TEST_MQTT_PORT", "1891")),
}
# The session hotline's Redis keys (hotline:<ns>:…) and MQTT topics (hotline/<ns>/…)
NAMESPACE = "nanning-it"
# What `hotline up` runs in the tests (the FastAGI server runs apart, so a test can stop it).
SERVICES = "asterisk,acd,bridge,live,api,recordings,callbacks,duty,speech"

AGENTS = [
    {
        "id": "1001",
        "name": "投诉坐席",
        "skills": ["complaint"],
        "contact": "sip:1001@127.0.0.1:5070",
        "port": 5070,
        "media": 17000,
    },
    {
        "id": "1002",
        "name": "综合坐席",
        "skills": [],
        "contact": "sip:1002@127.0.0.1:5072",
        "port": 5072,
        "media": 17100,
    },
]
# Agents of the ACD tests (tests/integration/test_acd_agents.py), configured but not
# logged in by the session: report-queue agents and a supervisor's phone.
ACD_AGENTS = [
    {"id": "1003", "name": "举报坐席甲", "skills": ["report"], "port": 5074, "media": 17300},
    {"id": "1004", "name": "举报坐席乙", "skills": ["report"], "port": 5076, "media": 17400},
    {"id": "1005", "name": "值班班长", "skills": [], "port": 5078, "media": 17500},
]
# test_dead_phones.py: report agents whose phones fail. 1021's rings and is never picked
# up; 1022's answers (report:3, so 1021 is rung first); 1023's is asked every 2 s whether
# it is there (the session's other phones are not: they start and stop with their tests).
DEAD_PHONE_AGENTS = [
    {"id": "1021", "name": "无人接听", "skills": ["report"], "port": 5084, "media": 18100},
    {"id": "1022", "name": "接听坐席", "skills": ["report:3"], "port": 5088, "media": 18200},
    {"id": "1023", "name": "话机离线", "skills": ["report"], "port": 5152, "media": 18300,
     "qualify_seconds": 2},
]  # fmt: skip
# Only the report queue has after-call work in the tests; elsewhere none, so that the
# other tests' calls are not held back by wrap-up.
REPORT_WRAPUP_SECONDS = 8
WIDENING = {"secondary_after_seconds": 3, "general_after_seconds": 20}
HELP_WIDENING = {
    "secondary_after_seconds": 2,
    "general_after_seconds": 6,
    "trunk_after_seconds": 16,
}
# The overflow trunk's other centre (only the help queue has a trunk step)
OVERFLOW_CENTRE = 5094


def user_password(name: str) -> str:
    """The test users' passwords (made up here, never a default of the product)."""
    return f"{name}-test-password"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Hotline:
    def __init__(self, var: Path, env: dict[str, str]) -> None:
        self.var = var
        self.env = env
        self.api = f"http://127.0.0.1:{PORTS['api']}"
        self.agi: subprocess.Popen[bytes] | None = None
        self.token = ""  # the session's supervisor, logged in over HTTP (see `user`)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cli(
        self, *args: str, check: bool = True, timeout: float = 240, input: str | None = None
    ) -> str:
        out = subprocess.run(
            [*HOTLINE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
            input=input,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"hotline {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    @property
    def root(self) -> Path:
        return self.var / "asterisk-root"

    def start_agi(self) -> None:
        log = (self.var / "log" / "agi.log").open("ab")
        self.agi = subprocess.Popen(
            [*HOTLINE, "serve", "agi"], env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 30
        while not port_open(PORTS["agi"]):
            if self.agi.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("hotline serve agi did not start; see var/log/agi.log")
            time.sleep(0.1)

    def stop_agi(self) -> None:
        if self.agi is not None and self.agi.poll() is None:
            self.agi.terminate()
            self.agi.wait(15)
        self.agi = None

    @contextlib.contextmanager
    def agi_with_env(self, env: dict[str, str]) -> Iterator[None]:
        """The apart FastAGI server started with `env` (the CLI too), then the usual one back."""
        saved = dict(self.env)
        try:
            self.stop_agi()
            self.env.clear()
            self.env.update(env)
            self.start_agi()
            yield
        finally:
            self.stop_agi()
            self.env.clear()
            self.env.update(saved)
            self.start_agi()

    def asterisk(self, command: str, *, check: bool = True) -> str:
        """An Asterisk CLI command, run as `hotline asterisk cli` runs it (asterisk -rx in
        the root) without the second or more that starting the Python CLI takes: the leak
        check runs it after every test."""
        out = subprocess.run(
            asterisk_cmd(self.root, "-rx", command),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"asterisk -rx {command!r} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def active_channels(self) -> int:
        out = self.asterisk("core show channels count")
        m = re.search(r"(\d+) active channel", out)
        assert m, out
        return int(m.group(1))

    def get(self, path: str, **params: str) -> Any:
        r = httpx.get(self.api + path, params=params, headers=self.auth, timeout=10)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(self.api + path, json=body or {}, headers=self.auth, timeout=30)

    def user(self, name: str, role: str, agent_id: str = "", unit: str = "") -> str:
        """Add a user (`hotline users add`, password on stdin) and log them in over HTTP;
        their token. A user added before is logged in again."""
        password = user_password(name)
        args = ["users", "add", name, "--role", role, "--password-stdin"]
        args += ["--agent-id", agent_id] if agent_id else []
        args += ["--unit", unit] if unit else []
        out = subprocess.run(
            [*HOTLINE, *args], env=self.env, cwd=REPO, input=password + "\n",
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0 or "exists already" in out.stderr, out.stderr
        return self.login(name, password)

    def login(self, name: str, password: str) -> str:
        r = httpx.post(
            self.api + "/api/login", json={"name": name, "password": password}, timeout=30
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def wait_call(self, caller: str, timeout: float = 30) -> dict[str, Any]:
        """The stored call record of this caller (the bridge writes it at hangup)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.get("/api/calls", caller=caller)
            if calls:
                assert len(calls) == 1, calls
                return dict(calls[0])
            time.sleep(0.3)
        raise AssertionError(f"no call record for {caller} within {timeout:.0f}s")


# the tone prompts, sounds/hotline-test/ in the root (the tone_ivr fixture makes them)
TEST_PROMPTS = "hotline-test"


def heard_by(log: Path, first: str) -> list[str]:
    """The sounds played in Mandarin to the citizen's channel that heard `first` first
    (played by the dialplan, app_queue or an AGI STREAM FILE)."""
    plays = re.findall(
        r"<(PJSIP/carrier-\w+)> ?Playing '([^.']+)\.\w+' [^\n]*\(language 'zh'\)",
        log.read_text(errors="replace"),
    )
    channel = next(c for c, sound in plays if sound == first)
    sounds = [sound for c, sound in plays if c == channel]
    return sounds[sounds.index(first) :]
