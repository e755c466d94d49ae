"""Recordings through the real Asterisk: archive, chain, access control, a full disk, and
the secondary spool kept through dialplan and core reloads.

The worker runs inside `hotline up` (service "recordings"); SIPp plays g711a audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import sqlite3
import struct
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydub import AudioSegment  # type: ignore[import-untyped]
from sqlmodel import Session, select

from hotline.app.call import CALLER_SCENARIO
from hotline.config.settings import load_settings
from hotline.kernel.db import make_engine
from hotline.recordings.models import ManifestEntry, Recording
from hotline.recordings.worker import RecordingWorker
from tests.helpers.alarms import AlarmListener
from tests.helpers.session_hotline import Hotline
from tests.helpers.sipp import Caller
from tests.helpers.waiting import until


def token(hotline: Hotline, name: str, role: str, agent_id: str = "") -> str:
    return hotline.user(name, role, agent_id)


def api(hotline: Hotline, path: str, tok: str, **headers: str) -> httpx.Response:
    return httpx.get(
        hotline.api + path, headers={"Authorization": f"Bearer {tok}", **headers}, timeout=20
    )


def wait_recording(
    hotline: Hotline, linkedid: str, tok: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = api(hotline, f"/api/recordings/{linkedid}", tok)
        if r.status_code == 200:
            body = r.json()
            if body["status"] != "pending":
                return body
        time.sleep(0.5)
    raise AssertionError(f"recording of {linkedid} not processed within {timeout:.0f}s: {body}")


def call_seconds(call: dict[str, Any]) -> float:
    started = datetime.fromisoformat(call["started_at"])
    ended = datetime.fromisoformat(call["ended_at"])
    return (ended - started).total_seconds()


G711A = Path("/usr/share/sip-tester/g711a.pcap")  # 7 s of speech, 30 ms PCMA packets


def looped_pcap(dst: Path, seconds: float) -> Path:
    """g711a.pcap played back to back, RTP sequence and timestamps continued, so that
    Asterisk takes every packet (a replayed pcap restarts them, and is dropped)."""
    data = G711A.read_bytes()
    header, link = data[:24], struct.unpack("<I", data[20:24])[0]
    assert link == 1, "expected an Ethernet capture"
    packets: list[tuple[float, bytes]] = []
    off = 24
    while off < len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off : off + 16])
        packets.append((sec + usec / 1e6, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    t0, span = packets[0][0], packets[-1][0] - packets[0][0] + 0.03
    out = bytearray(header)
    k = 0
    while k * span < seconds:
        for when, pkt in packets:
            p = bytearray(pkt)
            udp = 14 + (p[14] & 15) * 4
            rtp = udp + 8
            seq, ts = struct.unpack(">HI", p[rtp + 2 : rtp + 8])
            shift = k * len(packets)  # packets already sent, 240 samples each
            struct.pack_into(">HI", p, rtp + 2, (seq + shift) % 65536, (ts + shift * 240) % 2**32)
            struct.pack_into(">H", p, udp + 6, 0)  # no UDP checksum (allowed on IPv4)
            at = when - t0 + k * span
            out += struct.pack("<IIII", int(at), int((at % 1) * 1e6), len(p), len(p)) + p
        k += 1
    dst.write_bytes(bytes(out))
    return dst


@pytest.fixture
def talking_caller(hotline: Hotline, tmp_path: Path) -> Caller:
    """A citizen who keeps talking until hang-up, as a real phone keeps sending RTP.

    (SIPp's agent phones send no audio, and MixMonitor writes nothing while neither side
    sends any: a real call never has that gap, so the test caller talks throughout.)
    """
    text = CALLER_SCENARIO.read_text()
    play = f'<exec play_pcap_audio="{G711A}"/>'
    assert play in text, f"{CALLER_SCENARIO} changed: update talking_caller"
    looped = looped_pcap(tmp_path / "talk.pcap", 60)
    scenario = tmp_path / "caller.xml"
    scenario.write_text(text.replace(play, f'<exec play_pcap_audio="{looped}"/>'))
    return Caller(tmp_path, scenario=scenario)


def test_real_call_is_archived_chained_and_access_controlled(
    hotline: Hotline, talking_caller: Caller
) -> None:
    result = talking_caller.call("13900000601", "3", before_key_ms=1500, talk_ms=12000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000601")
    assert call["agent"] == "1001"
    auditor = token(hotline, "audit-li", "auditor")
    other_agent = token(hotline, "agent-1002", "agent", "1002")
    own_agent = token(hotline, "agent-1001", "agent", "1001")

    rec = wait_recording(hotline, call["linkedid"], auditor)
    assert rec["status"] == "archived" and rec["archive_format"] == "gsm"
    assert not rec["truncated"], json.dumps({"recording": rec, "call": call})
    # an auditor sees masked numbers unless auth.full_number_roles says otherwise
    assert rec["caller_number"] == "139******01"
    assert (
        api(hotline, f"/api/recordings/{call['linkedid']}", hotline.token).json()["caller_number"]
        == "13900000601"
    )  # the session's supervisor sees it in full

    # the archived file itself: duration within 1 s of the call, hash as chained
    dl = api(hotline, f"/api/recordings/{call['linkedid']}/download", auditor)
    assert dl.status_code == 200
    audio = AudioSegment.from_file(io.BytesIO(dl.content), format="gsm")
    assert abs(len(audio) / 1000 - call_seconds(call)) <= 1.0, (len(audio), call)
    assert hashlib.sha256(dl.content).hexdigest() == rec["sha256"]
    out = hotline.cli("recordings", "verify")
    assert out.strip().endswith("OK"), out
    engine = make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")
    with Session(engine) as s:
        chained = s.exec(select(ManifestEntry.sha256)).all()
    engine.dispose()
    assert rec["sha256"] in chained

    # access: another agent is refused, the call's own agent and an auditor may listen
    assert api(hotline, f"/api/recordings/{call['linkedid']}/audio", other_agent).status_code == 403
    ranged = api(hotline, f"/api/recordings/{call['linkedid']}/audio", auditor, Range="bytes=0-99")
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert ranged.headers["content-type"] == "audio/wav"
    assert ranged.content[:4] == b"RIFF"
    assert api(hotline, f"/api/recordings/{call['linkedid']}/audio", own_agent).status_code == 200
    # (other tests of the session may have given these agents calls too)
    listed = {r["linkedid"]: r for r in api(hotline, "/api/recordings", own_agent).json()}
    assert {r["agent"] for r in listed.values()} == {"1001"}
    assert listed[call["linkedid"]]["caller_number"] == "139******01"  # agents see masked numbers
    theirs = api(hotline, "/api/recordings", other_agent).json()
    assert call["linkedid"] not in {r["linkedid"] for r in theirs}
    assert {r["agent"] for r in theirs} <= {"1002"}
    refused = api(hotline, "/api/recordings?caller=13900000601", other_agent)
    assert refused.status_code == 403

    log = api(hotline, f"/api/recordings/audit?linkedid={call['linkedid']}", auditor).json()
    seen = {(a["user"], a["action"], a["status_code"], a["allowed"]) for a in log}
    assert ("agent-1002", "play", 403, False) in seen
    assert ("audit-li", "play", 200, True) in seen
    assert ("audit-li", "download", 200, True) in seen
    assert all(a["remote"] == "127.0.0.1" for a in log)


@pytest.fixture
def alarms() -> Iterator[AlarmListener]:
    """Subscribed before the spool fills: alarms are not retained, one is sent per episode."""
    with AlarmListener() as listener:
        yield listener


@pytest.fixture
def tiny_spool(hotline: Hotline, alarms: AlarmListener) -> Iterator[Path]:
    """Today's recording directory on a 96 kB tmpfs (about 6 s of 8 kHz WAV)."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y/%m/%d")
    target = hotline.root / "var/spool/asterisk/monitor/hotline" / day
    target.mkdir(parents=True, exist_ok=True)
    uid, gid = 0, 0
    for line in (hotline.root / "etc/passwd").read_text().splitlines():
        if line.startswith("asterisk:"):
            uid, gid = (int(x) for x in line.split(":")[2:4])
    opts = f"size=96k,mode=0750,uid={uid},gid={gid}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        if subprocess.run(["umount", str(target)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], check=False)


def test_full_disk_alarms_keeps_the_call_and_flags_the_recording(
    hotline: Hotline, talking_caller: Caller, alarms: AlarmListener, tiny_spool: Path
) -> None:
    auditor = token(hotline, "audit-wang", "auditor")
    disk = alarms.wait_for("disk_low", timeout=30)  # before any call records there
    assert "spool" in disk["message"]
    status = json.loads(hotline.cli("status", "--json", check=False))
    assert status["components"]["recordings"]["ok"] is False

    result = talking_caller.call("13900000602", "3", before_key_ms=1500, talk_ms=22000)
    assert result.ok, result.stdout[-2000:]  # the call was not dropped
    call = hotline.wait_call("13900000602")
    assert call["disposition"] == "answered" and call["hangup_cause_text"] == "Normal Clearing"
    assert call["talk_seconds"] >= 12  # went on well past the ~6 s the spool could hold

    rec = wait_recording(hotline, call["linkedid"], auditor)
    assert rec["truncated"] is True, rec
    assert rec["duration_seconds"] < call_seconds(call) - 5
    alarm = alarms.wait_for("recording_truncated", timeout=30, linkedid=call["linkedid"])
    assert "truncated" in alarm["message"]


SECONDARY = "/var/spool/asterisk/monitor/hotline-secondary"


@pytest.fixture
def secondary_worker(
    hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RecordingWorker]:
    """A recordings worker with the session's settings plus a secondary_dir (the session's
    own worker has none, and leaves AstDB alone once it found no choice there at its start);
    the choice is removed afterwards."""
    for name, value in hotline.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOTLINE_RECORDINGS__SECONDARY_DIR", SECONDARY)
    settings = load_settings()
    assert settings.root == hotline.root and settings.recordings.secondary_dir == SECONDARY
    worker = RecordingWorker(settings, make_engine(settings.db_url))
    try:
        yield worker
    finally:
        hotline.asterisk("database del hotline recdir", check=False)
        worker.pool.shutdown()
        worker.engine.dispose()


def astdb_value(hotline: Hotline, key: str) -> str | None:
    """A key as Asterisk has written it to its database file (what a restart reads)."""
    path = hotline.root / "var/lib/asterisk/astdb.sqlite3"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT value FROM astdb WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def test_secondary_spool_is_kept_through_dialplan_and_core_reload(
    hotline: Hotline,
    talking_caller: Caller,
    alarms: AlarmListener,
    tiny_spool: Path,
    secondary_worker: RecordingWorker,
) -> None:
    asyncio.run(secondary_worker.guard_disk())
    assert secondary_worker.on_secondary is True
    assert f"Value: {SECONDARY}" in hotline.asterisk("database get hotline recdir")
    for reload in ("dialplan reload", "core reload"):
        hotline.asterisk(reload)
    # the reloads reset the global (clearglobalvars=yes), where the choice used to be kept
    globals_ = hotline.asterisk("dialplan show globals")
    assert "HOTLINE_RECDIR=/var/spool/asterisk/monitor/hotline\n" in globals_, globals_
    asyncio.run(secondary_worker.guard_disk())  # reads the choice back: still in place
    assert secondary_worker.on_secondary is True
    until(
        "the choice in astdb.sqlite3", lambda: astdb_value(hotline, "/hotline/recdir") == SECONDARY
    )

    result = talking_caller.call("13900009461", "3", before_key_ms=1500, talk_ms=6000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900009461")
    rec = wait_recording(hotline, call["linkedid"], token(hotline, "audit-zhao", "auditor"))
    assert rec["status"] == "archived" and not rec["truncated"], json.dumps([rec, call])
    engine = make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")
    with Session(engine) as s:
        path = s.exec(select(Recording.path).where(Recording.linkedid == call["linkedid"])).one()
    engine.dispose()
    day = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y/%m/%d")
    assert path.startswith(f"{SECONDARY}/{day}/"), path
    assert (hotline.root / path.lstrip("/")).stat().st_size > 0  # keep_spool: Asterisk's own file
    assert not list(tiny_spool.glob(f"{call['linkedid']}.*"))
