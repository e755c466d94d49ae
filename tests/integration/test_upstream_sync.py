"""Upstream sync (issue 7 item 4): the platform's receiver is down while calls are
stored and a work order changes (and the upstream service restarts), then comes up:
every change arrives exactly once, in order, and every signature verifies.

A second hotline process (`hotline up --services bridge,upstream` with its own var
directory, database and generated secret) listens to the test hotline's Asterisk and
pushes to `hotline upstream receiver`, the reference receiver, started only later.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.crm_bridge.upstream import wire
from tests.helpers.session_hotline import HOTLINE, REPO, Hotline
from tests.helpers.sipp import Caller

ANSWERED, IN_MENU = "13900007401", "13900007402"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class UpstreamHotline:
    def __init__(self, hotline: Hotline, var: Path, port: int) -> None:
        secret = (hotline.var / "secrets.env").read_text()
        var.mkdir(parents=True)
        self.var = var
        self.receiver_url = f"http://127.0.0.1:{port}"
        self.port = port
        self.env = {
            **hotline.env,
            "HOTLINE_VAR_DIR": str(var),
            "HOTLINE_AMI__SECRET": secret.split("HOTLINE_AMI__SECRET=", 1)[1].split()[0],
            "HOTLINE_ASTERISK_ROOT": str(hotline.root),
            "HOTLINE_UPSTREAM__URL": f"{self.receiver_url}/upstream",
            "HOTLINE_UPSTREAM__RETRY_FIRST_SECONDS": "0.2",
            "HOTLINE_UPSTREAM__RETRY_CAP_SECONDS": "1",
            "HOTLINE_UPSTREAM__POLL_SECONDS": "0.2",
        }
        self.env.pop("HOTLINE_UPSTREAM__SECRET", None)  # generated into var/secrets.env
        self.receiver: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [*HOTLINE, *args], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, f"hotline {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.cli("upstream", "status", "--json")))

    def start_receiver(self) -> None:
        log = (self.var / "receiver.log").open("ab")
        self.receiver = subprocess.Popen(
            [*HOTLINE, "upstream", "receiver", "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def stop(self) -> None:
        if self.receiver is not None and self.receiver.poll() is None:
            self.receiver.terminate()
            self.receiver.wait(15)
        subprocess.run([*HOTLINE, "down"], env=self.env, cwd=REPO, capture_output=True, timeout=90)


@pytest.fixture
def upstream(hotline: Hotline, tmp_path: Path) -> Iterator[UpstreamHotline]:
    u = UpstreamHotline(hotline, tmp_path / "var-upstream", free_port())
    try:
        u.cli("up", "--detach", "--services", "bridge,upstream")
        yield u
    finally:
        u.stop()


def wait_for(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout:.0f}s")


def test_receiver_down_then_up_every_change_arrives_once_signed(
    hotline: Hotline, upstream: UpstreamHotline, tmp_path: Path
) -> None:
    answered = Caller(tmp_path).start(ANSWERED, "3", talk_ms=5000)  # complaint desk 1001
    in_menu = Caller(tmp_path, port=5063, media_port=16200).start(
        IN_MENU, None, before_key_ms=500, talk_ms=1500
    )
    assert answered.wait(60).ok and in_menu.wait(60).ok

    # stored by the second bridge, each with its change waiting: nobody receives yet
    def three_waiting() -> bool:
        s = upstream.status()
        return s["pending"] >= 3 and "ConnectError" in s["last_error"]

    wait_for("two calls and a draft order waiting for the platform", three_waiting)
    order = upstream.cli("orders", "list").split()[0]  # the only order: the draft
    upstream.cli("orders", "accept", order, "--content", "小区夜间施工噪音", "--by", "1001")
    status = upstream.status()
    assert status["delivered"] == 0 and status["dead"] == 0 and status["pending"] == 4

    # the upstream service restarted meanwhile: the backlog is in the database, not in it
    upstream.cli("down")
    upstream.cli("up", "--detach", "--services", "bridge,upstream")
    assert upstream.status()["pending"] == 4

    upstream.start_receiver()
    wait_for("the backlog delivered", lambda: upstream.status()["pending"] == 0)
    status = upstream.status()
    assert status["delivered"] == 4 and status["dead"] == 0

    got = httpx.get(f"{upstream.receiver_url}/upstream/received", timeout=10).json()
    refused = httpx.get(f"{upstream.receiver_url}/upstream/refused", timeout=10).json()
    assert refused == []  # no bad signature, no malformed body
    secret = (upstream.var / "secrets.env").read_text().split("HOTLINE_UPSTREAM__SECRET=")[1]
    assert all(wire.verify(secret.split()[0], g["body"].encode(), g["signature"]) for g in got)
    assert len(got) == 4 and len({g["idempotency_key"] for g in got}) == 4
    bodies = [json.loads(g["body"]) for g in got]
    calls = {b["data"]["caller_number"]: b["data"] for b in bodies if b["kind"] == "call_record"}
    assert calls[ANSWERED]["disposition"] == "answered" and calls[ANSWERED]["agent"] == "1001"
    assert calls[IN_MENU]["disposition"] == "abandoned_in_ivr"
    versions = [b for b in bodies if b["kind"] == "work_order" and b["ref"] == order]
    assert [v["data"]["status"] for v in versions] == ["draft", "accepted"]  # in order
    assert versions[1]["data"]["content"] == "小区夜间施工噪音"
    assert versions[0]["data"]["linkedid"] == calls[ANSWERED]["linkedid"]
