"""Agents' states and supervisor actions through the real Asterisk, with SIPp phones.

The menu speaks 0.3 s tones (conftest's tone_ivr): a citizen who presses 4 at 1.5 s is
in the queue about half a second later; talk_ms counts from the key, so the agent talks
for about talk_ms.

Agents 1003 and 1004 serve the report queue (key 4), whose wrap-up is
REPORT_WRAPUP_SECONDS; 1005 is the supervisor's phone. The session's agents 1001 and
1002 never see these calls (report overflows to general only after 20 s unanswered).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template
from typing import Any

import httpx
import pytest
import redis

from hotline.asterisk.ami import AmiClient
from hotline.asterisk.settings import AmiSettings
from tests.helpers.ports import PORTS, SIP_TARGET
from tests.helpers.session_hotline import (
    ACD_AGENTS,
    NAMESPACE,
    OWN_SERVICE_PORTS,
    Hotline,
    port_open,
)
from tests.helpers.sipp import HERE, AgentPhone, Caller, sipp

TENANT = NAMESPACE
SUPERVISOR = "1005"

pytestmark = pytest.mark.usefixtures("tone_ivr")


def state(agent: str) -> dict[str, str]:
    r = redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True, socket_timeout=2)
    try:
        return dict(r.hgetall(f"hotline:{TENANT}:agent:{agent}"))  # type: ignore[arg-type]
    except redis.ConnectionError:
        return {}
    finally:
        r.close()


def wait_state(agent: str, wanted: str, timeout: float = 40) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = state(agent)
        if now.get("state") == wanted:
            return now
        time.sleep(0.2)
    raise AssertionError(f"agent {agent} not {wanted} within {timeout:.0f}s: {state(agent)}")


def dial_code(tmp_path: Path, agent: str, code: str) -> None:
    """The agent's phone dials a feature code and hears it confirmed."""
    scenario = tmp_path / f"code-{agent}.xml"
    scenario.write_text(Template((HERE / "feature_code.xml").read_text()).substitute(agent=agent))
    out = subprocess.run(
        [
            *(sipp(), SIP_TARGET, "-sf", str(scenario), "-s", code, "-m", "1"),
            *("-i", "127.0.0.1", "-p", "5082", "-mp", "17600", "-nostdin"),
            *("-timeout", "30s", "-timeout_error"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def ami_rows(hotline: Hotline, action: dict[str, str]) -> list[dict[str, str]]:
    secrets = dict(
        line.split("=", 1)
        for line in (hotline.var / "secrets.env").read_text().splitlines()
        if "=" in line
    )
    settings = AmiSettings(port=PORTS["ami"], secret=secrets["HOTLINE_AMI__SECRET"])

    async def run() -> list[dict[str, str]]:
        ami = AmiClient(settings, queue_size=1000)
        await ami.connect()
        try:
            reply: Any = await ami.action(action, as_list=True)
            return [{str(k): str(v) for k, v in r.items()} for r in reply]
        finally:
            ami.close()

    return asyncio.run(run())


def spy_channels(hotline: Hotline) -> list[dict[str, str]]:
    rows = ami_rows(hotline, {"Action": "CoreShowChannels"})
    return [r for r in rows if r.get("Application") == "ChanSpy"]


def wait_spy(hotline: Hotline, timeout: float = 20) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        up = [c for c in spy_channels(hotline) if c.get("ChannelStateDesc") == "Up"]
        if up:
            return up[0]
        time.sleep(0.3)
    raise AssertionError("no ChanSpy channel came up")


def waiting_in_report(hotline: Hotline) -> int:
    rows = ami_rows(hotline, {"Action": "QueueStatus", "Queue": "hotline-report"})
    return sum(1 for r in rows if r.get("Event") == "QueueEntry")


def token(hotline: Hotline, name: str, role: str, agent_id: str = "") -> str:
    return hotline.user(name, role, agent_id)


def post(hotline: Hotline, path: str, tok: str, body: dict[str, str] | None = None) -> Any:
    r = httpx.post(
        hotline.api + path, json=body or {}, headers={"Authorization": f"Bearer {tok}"}, timeout=30
    )
    return r


@pytest.fixture(scope="module")
def phones(hotline: Hotline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    work = tmp_path_factory.mktemp("acd-phones")
    started = [AgentPhone(work, int(a["port"]), int(a["media"])) for a in ACD_AGENTS]  # type: ignore[call-overload]
    for p in started:
        p.start()
    try:
        yield
    finally:
        for a in ("1003", "1004"):
            hotline.cli("agent", "logout", a, check=False)
        for p in started:
            p.stop()


@pytest.fixture(scope="module")
def tokens(hotline: Hotline) -> dict[str, str]:
    return {
        "supervisor": token(hotline, "banzhang", "supervisor"),
        "1004": token(hotline, "agent1004", "agent", "1004"),
    }


def test_feature_codes_log_in_pause_unpause_and_log_out(
    hotline: Hotline, phones: None, tmp_path: Path
) -> None:
    dial_code(tmp_path, "1003", "*11")
    s = wait_state("1003", "available")
    assert s["queues"] == "report,general" and s["reason"] == ""
    assert "1003" in redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True).smembers(
        f"hotline:{TENANT}:agents"
    )
    dial_code(tmp_path, "1003", "*132")  # 2 = meal
    assert wait_state("1003", "paused")["reason"] == "meal"
    dial_code(tmp_path, "1003", "*14")
    assert wait_state("1003", "available")["reason"] == ""
    dial_code(tmp_path, "1003", "*12")
    assert wait_state("1003", "logged_out")["queues"] == "report,general"  # its configured ones


def test_log_in_pause_and_wrap_up_change_who_gets_the_next_call(
    hotline: Hotline, phones: None, tokens: dict[str, str], tmp_path: Path
) -> None:
    hotline.cli("agent", "login", "1003")
    hotline.cli("agent", "logout", "1004")
    # calls handled today, from the call records: other modules' calls may be among them
    handled = {
        "1003": int(wait_state("1003", "available")["calls_handled"]),
        "1004": int(wait_state("1004", "logged_out")["calls_handled"]),
    }

    # A: 1003 is the only report agent
    first = Caller(tmp_path, port=5063, media_port=16200)
    assert first.call("13900000401", "4", talk_ms=3000).ok
    # B arrives while 1003 is in wrap-up: it waits, 1003 idle but not offered the call...
    # (talks long enough to outlast a position announcement while it waits)
    second = Caller(tmp_path, port=5065, media_port=16300).start("13900000402", "4", talk_ms=9000)
    assert hotline.wait_call("13900000401")["agent"] == "1003"
    assert wait_state("1003", "wrap_up")["calls_handled"] == str(handled["1003"] + 1)
    deadline = time.monotonic() + 20
    while waiting_in_report(hotline) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert waiting_in_report(hotline) == 1
    assert state("1003")["state"] == "wrap_up"
    # ...until 1004 logs in (through the API, with the agent's own token): 1004 gets it
    r = post(hotline, "/api/agents/1004/login", tokens["1004"])
    assert r.status_code == 200, r.text
    assert second.wait(60).ok
    assert hotline.wait_call("13900000402")["agent"] == "1004"
    wait_state("1003", "available")  # wrap-up ends by itself
    wait_state("1004", "available")

    # C: longest-idle would pick 1003, but a supervisor paused it (meeting): 1004 answers
    r = post(hotline, "/api/agents/1003/pause", tokens["supervisor"], {"reason": "meeting"})
    assert r.status_code == 200, r.text
    assert wait_state("1003", "paused")["reason"] == "meeting"
    assert Caller(tmp_path, port=5067, media_port=16400).call("13900000403", "4", talk_ms=3000).ok
    assert hotline.wait_call("13900000403")["agent"] == "1004"
    # (1004's wrap-up ending by itself was seen after B; no need to sit it out again)
    assert wait_state("1004", "wrap_up")["calls_handled"] == str(handled["1004"] + 2)
    hotline.cli("agent", "unpause", "1003", "--by", "banzhang")
    assert state("1003")["calls_handled"] == str(handled["1003"] + 1)

    # bad input is refused with what is allowed
    r = post(hotline, "/api/agents/1003/pause", tokens["supervisor"], {"reason": "nap"})
    assert r.status_code == 422
    assert r.json()["detail"]["error_id"] == "unknown_reason"
    assert "meal (用餐)" in r.json()["detail"]["detail"]
    r = post(hotline, "/api/agents/9999/logout", tokens["supervisor"])
    assert r.status_code == 404 and r.json()["detail"]["error_id"] == "unknown_agent"
    assert post(hotline, "/api/agents/1003/logout", tokens["1004"]).status_code == 403
    out = subprocess.run(
        [*hotline_cmd(), "agent", "pause", "1003", "--reason", "nap"],
        env=hotline.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and "allowed: break (休息)" in out.stderr

    # the audit: who did what to whom
    audit = httpx.get(
        hotline.api + "/api/agent-actions",
        headers={"Authorization": f"Bearer {tokens['supervisor']}"},
        timeout=10,
    ).json()
    rows = {(a["action"], a["agent"], a["actor"], a["forced"]) for a in audit}
    assert ("login", "1004", "agent1004", False) in rows
    assert ("pause", "1003", "banzhang", True) in rows
    assert ("unpause", "1003", "banzhang", True) in rows

    # what the wallboard reads over MQTT: the same fields, retained, no phone number
    msg = mqtt_retained(f"hotline/{TENANT}/agent/1004")
    assert msg == {"agent": "1004", **state("1004")}
    assert not re.search(r"1390000040", json.dumps(msg))


def hotline_cmd() -> list[str]:
    from tests.helpers.session_hotline import HOTLINE

    return HOTLINE


def mqtt_retained(topic: str) -> dict[str, str]:
    import aiomqtt

    async def first() -> dict[str, str]:
        async with aiomqtt.Client("127.0.0.1", OWN_SERVICE_PORTS["mqtt"]) as client:
            await client.subscribe(topic)
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes | bytearray)
                return dict(json.loads(payload))
        raise AssertionError("no message")

    return asyncio.run(asyncio.wait_for(first(), 10))


def test_whisper_and_barge_join_the_supervisors_phone(
    hotline: Hotline, phones: None, tokens: dict[str, str], tmp_path: Path
) -> None:
    hotline.cli("agent", "login", "1003")
    hotline.cli("agent", "logout", "1004")
    wait_state("1003", "available")
    call = Caller(tmp_path, port=5063, media_port=16200).start("13900000404", "4", talk_ms=20000)
    wait_state("1003", "on_call")

    # whisper from the CLI: the supervisor's phone rings, answers, and spies with w
    out = hotline.cli("agent", "whisper", "1003", "--supervisor", SUPERVISOR, "--by", "banzhang")
    assert "ringing phone 1005" in out
    spy = wait_spy(hotline)
    assert spy["Channel"].startswith(f"PJSIP/{SUPERVISOR}-")
    assert spy["ApplicationData"] == "PJSIP/1003-,qEw"
    hotline.asterisk(f"channel request hangup {spy['Channel']}")
    deadline = time.monotonic() + 15
    while spy_channels(hotline) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert spy_channels(hotline) == []

    # barge through the API: three-way (B)
    r = post(hotline, "/api/agents/1003/barge", tokens["supervisor"], {"supervisor": SUPERVISOR})
    assert r.status_code == 200, r.text
    spy = wait_spy(hotline)
    assert spy["ApplicationData"] == "PJSIP/1003-,qEB"
    assert spy["Channel"].startswith(f"PJSIP/{SUPERVISOR}-")

    # an agent cannot barge, nor can anyone on an agent without a call
    assert (
        post(hotline, "/api/agents/1003/listen", tokens["1004"], {"supervisor": "1004"}).status_code
        == 403
    )
    r = post(hotline, "/api/agents/1002/listen", tokens["supervisor"], {"supervisor": SUPERVISOR})
    assert r.status_code == 409 and r.json()["detail"]["error_id"] == "no_live_call"

    assert call.wait(60).ok
    assert hotline.wait_call("13900000404")["agent"] == "1003"
    # ChanSpy's E: the supervisor's leg ends with the agent's call
    deadline = time.monotonic() + 15
    while spy_channels(hotline) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert spy_channels(hotline) == []
    audit = hotline.cli("agent", "audit", "1003")
    assert re.search(r"whisper\s+1003\s+by banzhang \(cli, forced\) from 1005 ok", audit), audit
    assert re.search(r"barge\s+1003\s+by banzhang \(api, forced\) from 1005 ok", audit), audit


def restart_redis(hotline: Hotline) -> None:
    """Stop the session's own Redis; `hotline up` starts it again, empty, on the same port."""
    children_file = hotline.var / "run" / "children.json"
    [before] = [c for c in json.loads(children_file.read_text()) if c["name"] == "redis"]
    redis.Redis(port=OWN_SERVICE_PORTS["redis"]).shutdown(nosave=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [now] = [c for c in json.loads(children_file.read_text()) if c["name"] == "redis"]
        if now["pid"] != before["pid"] and port_open(OWN_SERVICE_PORTS["redis"]):
            return
        time.sleep(0.1)
    raise AssertionError("the supervisor did not start Redis again within 30 s")


def test_redis_restarted_mid_call_rebuilds_the_state(
    hotline: Hotline, phones: None, tmp_path: Path
) -> None:
    hotline.cli("agent", "login", "1003")
    hotline.cli("agent", "login", "1004")
    hotline.cli("agent", "pause", "1004", "--reason", "training")
    wait_state("1004", "paused")
    wait_state("1003", "available")  # 1003's wrap-up from the last test is over
    # the call must outlast a restart and a rebuild
    call = Caller(tmp_path, port=5063, media_port=16200).start("13900000405", "4", talk_ms=10000)
    before = wait_state("1003", "on_call")
    restart_redis(hotline)
    after = wait_state("1003", "on_call")
    assert after["queues"] == before["queues"] == "report,general"
    assert after["calls_handled"] == before["calls_handled"]  # from the call records + this call
    paused = wait_state("1004", "paused")
    assert paused["reason"] == "training"
    ids = redis.Redis(port=OWN_SERVICE_PORTS["redis"], decode_responses=True).smembers(
        f"hotline:{TENANT}:agents"
    )
    assert {"1001", "1002", "1003", "1004", "1005"} <= set(ids)
    assert state("1005")["state"] == "logged_out"
    out = hotline.cli("agent", "status", "1004")
    assert re.match(r"1004\s+paused \(training\)\s+since .* report,general$", out.strip()), out
    assert call.wait(60).ok
    # nothing stuck: wrap-up, then available again; the pause is lifted
    wait_state("1003", "wrap_up")
    wait_state("1003", "available")
    hotline.cli("agent", "unpause", "1004")
    wait_state("1004", "available")
