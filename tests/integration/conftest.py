"""A real hotline for the integration tests: Asterisk, bridge and API through
`hotline up --detach`, the FastAGI server as its own `hotline serve agi` (so a
test can stop it), and SIPp desk phones for two agents.

The tests take over the cached Asterisk root: stop your own `hotline up` first.
"""

from __future__ import annotations

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
import pytest
import yaml

from hotline.asterisk_root import exclusive_use
from tests.helpers.sipp import AgentPhone, Caller

REPO = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-m", "hotline"]
PORTS = {"sip": 5060, "ami": 5038, "agi": 4573, "api": 8345}
# Ports where nothing answers, so that `hotline up` starts its own Redis and Mosquitto
# (HOTLINE_TEST_REDIS_PORT / HOTLINE_TEST_MQTT_PORT move them off a port left busy).
OWN_SERVICE_PORTS = {
    "redis": int(os.environ.get("HOTLINE_TEST_REDIS_PORT", "6391")),
    "mqtt": int(os.environ.get("HOTLINE_TEST_MQTT_PORT", "1891")),
}
# What `hotline up` runs in the tests (the FastAGI server runs apart, so a test can stop it).
SERVICES = "asterisk,bridge,live,api,recordings"

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

    def cli(self, *args: str, check: bool = True, timeout: float = 240) -> str:
        out = subprocess.run(
            [*HOTLINE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
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

    def active_channels(self) -> int:
        out = self.cli("asterisk", "cli", "core", "show", "channels", "count")
        m = re.search(r"(\d+) active channel", out)
        assert m, out
        return int(m.group(1))

    def get(self, path: str, **params: str) -> Any:
        r = httpx.get(self.api + path, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

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


@pytest.fixture(scope="session")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    with exclusive_use("the integration tests"):
        yield from _hotline(tmp_path_factory)


def _hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    busy = [name for name, port in {**PORTS, **OWN_SERVICE_PORTS}.items() if port_open(port)]
    if busy:
        raise RuntimeError(
            f"ports in use {busy}: another hotline or Asterisk runs; stop it (hotline down)"
        )
    var = tmp_path_factory.mktemp("var")
    config = var / "hotline.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "agents": [{k: a[k] for k in ("id", "name", "skills", "contact")} for a in AGENTS],
                # tests read Asterisk's own file after the call; the worker archives a copy
                "recordings": {"keep_spool": True},
            },
            allow_unicode=True,
        )
    )
    env = {
        **os.environ,
        "HOTLINE_CONFIG_FILE": str(config),
        "HOTLINE_VAR_DIR": str(var),
        "HOTLINE_REDIS__PORT": str(OWN_SERVICE_PORTS["redis"]),
        "HOTLINE_MQTT__PORT": str(OWN_SERVICE_PORTS["mqtt"]),
    }
    env.pop("HOTLINE_AMI__SECRET", None)
    h = Hotline(var, env)
    h.cli("asterisk", "install", timeout=900)
    h.cli("up", "--detach", "--services", SERVICES)
    phones = [AgentPhone(var, a["port"], a["media"]) for a in AGENTS]  # type: ignore[arg-type]
    try:
        for phone in phones:
            phone.start()
        h.start_agi()
        for a in AGENTS:
            h.cli("agent", "login", str(a["id"]))
        yield h
    finally:
        h.stop_agi()
        for phone in phones:
            phone.stop()
        h.cli("down", check=False)


@pytest.fixture
def caller(hotline: Hotline, tmp_path: Path) -> Caller:
    return Caller(tmp_path)


@pytest.fixture(autouse=True)
def no_leftover_channels(hotline: Hotline) -> Iterator[None]:
    """After every call test Asterisk must hold no channel (asterisk/testsuite's leak check)."""
    yield
    deadline = time.monotonic() + 15
    while (n := hotline.active_channels()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert n == 0, hotline.cli("asterisk", "cli", "core", "show", "channels")
