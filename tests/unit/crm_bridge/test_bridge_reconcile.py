"""The CDR backstop (crm_bridge/cdr.py, cdr_calls.py, reconcile.py) on a CDR file laid out
as Asterisk's cdr_sqlite3_custom writes it (asterisk/templates/cdr_sqlite3_custom.conf.j2),
with rows shaped like those Asterisk wrote for the integration tests' calls."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.calls.models import CallRecord, Disposition, RecordSource
from hotline.config.settings import Settings
from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.cdr import CDR_COLUMNS, parse_row, read_cdr
from hotline.crm_bridge.cdr_calls import call_from_cdr, created_at, group_by_call
from hotline.crm_bridge.errors import CdrError
from hotline.crm_bridge.journal import decode, encode
from hotline.crm_bridge.reconcile import (
    Reconciliation,
    alarms,
    made_from_cdr,
    missing,
    reconcile,
)
from hotline.crm_bridge.service import store_calls
from hotline.kernel.db import make_engine, upgrade
from hotline.workorders.calendar import load_calendar

T0 = 1795560948.0  # the answered call's channel was created at this second


def iso(epoch: float) -> str:
    """A time as the template has Asterisk write it (to the second, with the offset)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


# linkedid, uniqueid, src, clid, dst, dcontext, channel, dstchannel, lastapp, lastdata,
# started, answered, ended, duration, billsec, disposition
ANSWERED = [
    ("1795560948.20", "1795560948.20", "13900000701", '"Citizen" <13900000701>', "complaint",
     "hotline-queues", "PJSIP/carrier-00000014", "PJSIP/1001-00000015", "Queue",
     "hotline-complaint,c,,,20,,,,", iso(T0 + 9), iso(T0 + 9), iso(T0 + 22),
     "13", "13", "ANSWERED"),
    ("1795560948.20", "1795560948.20", "13900000701", '"Citizen" <13900000701>', "s",
     "hotline-survey", "PJSIP/carrier-00000014", "", "Hangup", "", iso(T0 + 22),
     iso(T0 + 22), iso(T0 + 30), "8", "8", "ANSWERED"),
]  # fmt: skip
IN_QUEUE = [
    ("1795560990.30", "1795560990.30", "13900000702", "", "general", "hotline-queues",
     "PJSIP/carrier-00000020", "", "Queue", "hotline-general,c,,,,,,,", iso(1795560991),
     iso(1795560991), iso(1795561010), "19", "19", "ANSWERED"),
]  # fmt: skip
IN_IVR = [
    ("1795561020.40", "1795561020.40", "13900000703", "", "12345", "hotline-inbound",
     "PJSIP/carrier-00000030", "", "AGI", "agi://127.0.0.1:4573/ivr", "2026-11-24 22:57:00",
     "2026-11-24 22:57:00", "2026-11-24 22:57:04", "4", "4", "ANSWERED"),
]  # fmt: skip
MALFORMED = [
    ("1795561030.50", "1795561030.50", "13900000704", "", "12345", "hotline-inbound",
     "PJSIP/carrier-00000040", "", "AGI", "", iso(1795561030), "", "not a time", "1", "1",
     "ANSWERED"),
]  # fmt: skip


def write_cdr(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """The table as cdr_sqlite3_custom creates it (untyped columns after AcctId)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        f"CREATE TABLE IF NOT EXISTS cdr (AcctId INTEGER PRIMARY KEY, {', '.join(CDR_COLUMNS)})"
    )
    marks = ", ".join("?" * len(CDR_COLUMNS))
    db.executemany(f"INSERT INTO cdr VALUES (NULL, {marks})", rows)
    db.commit()
    db.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", asterisk_root=tmp_path / "root")


@pytest.fixture
def engine(settings: Settings) -> Engine:
    upgrade(settings.db_url)
    return make_engine(settings.db_url)


def _store(settings: Settings, engine: Engine) -> Callable[[list[FinishedCall]], None]:
    calendar, tz = load_calendar(), ZoneInfo(settings.timezone)

    def store(calls: list[FinishedCall]) -> None:
        store_calls(settings, engine, calls, calendar=calendar, tz=tz)

    return store


def test_a_row_parses_to_utc_times() -> None:
    row = parse_row(ANSWERED[0])
    assert row.linkedid == "1795560948.20" and row.dstchannel == "PJSIP/1001-00000015"
    assert row.started == datetime.fromtimestamp(T0 + 9, UTC)
    assert row.billsec == 13


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({12: "not a time"}, "ended: not a time"),
        ({10: ""}, "started: missing"),
        ({0: " "}, "linkedid: empty"),
        ({14: "x"}, "billsec: not a number"),
    ],
)
def test_a_bad_row_says_what_is_wrong(change: dict[int, str], error: str) -> None:
    values = list(ANSWERED[0])
    for i, v in change.items():
        values[i] = v
    with pytest.raises(CdrError, match=error):
        parse_row(values)


@pytest.mark.parametrize("never", ["", "0.000000", "1970-01-01T00:00:00+0000"])
def test_no_answer_time_is_none(never: str) -> None:
    values = list(IN_QUEUE[0])
    values[11] = never
    assert parse_row(values).answered is None


def test_every_time_format_asterisk_may_write() -> None:
    values = list(IN_QUEUE[0])
    for text in ("2026-11-25T07:56:31+0800", "2026-11-24 23:56:31", "1795564591"):
        values[10] = text
        assert parse_row(values).started == datetime(2026, 11, 24, 23, 56, 31, tzinfo=UTC)


def test_reading_skips_and_logs_a_malformed_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cdr.db"
    write_cdr(path, [*ANSWERED, *MALFORMED, *IN_IVR])
    with caplog.at_level(logging.WARNING):
        rows = read_cdr(path)
    assert [r.linkedid for r in rows] == ["1795560948.20"] * 2 + ["1795561020.40"]
    assert "CDR row of call 1795561030.50 skipped: ended: not a time" in caplog.text


def test_reading_by_end_time_keeps_every_leg_of_a_call(tmp_path: Path) -> None:
    path = tmp_path / "cdr.db"
    write_cdr(path, [*ANSWERED, *IN_QUEUE])
    since = datetime.fromtimestamp(T0 + 25, UTC)  # the queue leg ended before, the survey after
    rows = read_cdr(path, ended_after=since)
    assert [r.lastapp for r in rows if r.linkedid == "1795560948.20"] == ["Queue", "Hangup"]
    assert read_cdr(path, ended_after=datetime.fromtimestamp(T0 + 70, UTC)) == []
    assert read_cdr(path, linkedids=["1795560990.30"])[0].src == "13900000702"
    assert read_cdr(tmp_path / "absent.db") == []


def test_calls_from_the_cdr() -> None:
    calls = {
        i: call_from_cdr(rows)
        for i, rows in group_by_call(parse_row(r) for r in [*ANSWERED, *IN_QUEUE, *IN_IVR]).items()
    }
    answered = calls["1795560948.20"]
    assert answered.disposition is Disposition.ANSWERED
    assert (answered.agent, answered.queue, answered.caller_number) == (
        "1001",
        "complaint",
        "13900000701",
    )
    assert answered.started_at == datetime.fromtimestamp(T0, UTC)  # from the Linkedid
    assert answered.answered_at == datetime.fromtimestamp(T0 + 9, UTC)
    assert answered.ended_at == datetime.fromtimestamp(T0 + 30, UTC)
    assert answered.talk_seconds == 13
    queued = calls["1795560990.30"]
    assert (queued.disposition, queued.queue, queued.agent) == (
        Disposition.ABANDONED_IN_QUEUE,
        "general",
        "",
    )
    assert calls["1795561020.40"].disposition is Disposition.ABANDONED_IN_IVR


def test_created_at_reads_the_uniqueid() -> None:
    assert created_at("1795560948.20") == datetime.fromtimestamp(T0, UTC)
    assert created_at("pbx1-1795560948.20") == datetime.fromtimestamp(T0, UTC)
    assert created_at("abc") is None


def test_missing_leaves_recorded_in_progress_and_recent_calls() -> None:
    grouped = group_by_call(parse_row(r) for r in [*ANSWERED, *IN_QUEUE, *IN_IVR])
    late = datetime.fromtimestamp(1795561100, UTC)
    assert missing(grouped, set(), set(), settled_before=late) == list(grouped)
    assert missing(grouped, {"1795560948.20"}, {"1795560990.30"}, settled_before=late) == [
        "1795561020.40"
    ]
    early = datetime.fromtimestamp(1795561015, UTC)  # the IVR call ended after this
    assert "1795561020.40" not in missing(grouped, set(), set(), settled_before=early)


def test_reconcile_creates_the_missing_calls_once(settings: Settings, engine: Engine) -> None:
    write_cdr(settings.cdr_file, [*ANSWERED, *IN_QUEUE, *IN_IVR, *MALFORMED])
    store = _store(settings, engine)
    now = datetime.fromtimestamp(1795561200, UTC)
    since = now - timedelta(hours=1)
    had = replace(call_from_cdr([parse_row(r) for r in IN_IVR]), source=RecordSource.AMI)
    store([had])  # the bridge had this one, from its events
    first = reconcile(settings, engine, store, since=since, now=now, in_progress={"1795560990.30"})
    assert [c.linkedid for c in first.created] == ["1795560948.20"] and first.examined == 3
    # the next comparison starts where the call still in progress ended, not an hour back
    assert first.resume_from == datetime.fromtimestamp(1795561010, UTC)
    again = reconcile(settings, engine, store, since=first.resume_from, now=now)
    assert [c.linkedid for c in again.created] == ["1795560990.30"]  # no longer in progress
    assert again.examined == 2  # it and the IVR call after it: the answered one is not read
    grace = timedelta(seconds=settings.bridge.reconcile_grace_seconds)
    assert again.resume_from == now - grace  # everything that ended before is settled
    assert reconcile(settings, engine, store, since=since, now=now).created == []
    with Session(engine) as s:
        rec = s.exec(select(CallRecord).where(CallRecord.linkedid == "1795560948.20")).one()
        sources = {r.linkedid: r.source for r in s.exec(select(CallRecord))}
    assert (rec.disposition, rec.agent, rec.queue) == ("answered", "1001", "complaint")
    assert sources == {"1795560948.20": "cdr", "1795560990.30": "cdr", "1795561020.40": "ami"}
    assert [r.linkedid for r in made_from_cdr(engine, since)] == ["1795560948.20", "1795560990.30"]
    # the call's events turn up after all: the full record replaces the backstop's
    full = replace(first.created[0], source=RecordSource.AMI, ivr_choice="3")
    store([full])
    with Session(engine) as s:
        rec = s.exec(select(CallRecord).where(CallRecord.linkedid == "1795560948.20")).one()
    assert (rec.source, rec.ivr_choice) == ("ami", "3")
    assert [r.linkedid for r in made_from_cdr(engine, since)] == ["1795560990.30"]


def test_the_source_survives_the_journal() -> None:
    call = call_from_cdr([parse_row(r) for r in ANSWERED])
    assert decode(encode(call)).source is RecordSource.CDR
    older = json.loads(encode(call))
    del older["source"]  # a journal written before the field existed: events' calls only
    assert decode(json.dumps(older)).source is RecordSource.AMI


def test_the_api_and_the_cli_show_what_the_backstop_made(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from hotline.app.api import create_app
    from hotline.app.cli import app
    from tests.helpers.auth_tokens import bearer

    write_cdr(settings.cdr_file, [*ANSWERED, *IN_IVR])
    store = _store(settings, engine)
    had = replace(call_from_cdr([parse_row(r) for r in IN_IVR]), source=RecordSource.AMI)
    store([had])
    for name, value in {
        "HOTLINE_CONFIG_FILE": str(settings.var_dir / "none.yaml"),
        "HOTLINE_VAR_DIR": str(settings.var_dir),
        "HOTLINE_ASTERISK_ROOT": str(settings.root),
        "HOTLINE_MQTT__PORT": "9",  # no broker: the alarm is only logged
    }.items():
        monkeypatch.setenv(name, value)
    (settings.var_dir / "none.yaml").write_text("{}\n")
    since = ["--since", datetime.fromtimestamp(T0 - 60, UTC).isoformat()]
    first = CliRunner().invoke(app, ["bridge", "reconcile", *since])
    assert first.exit_code == 0, first.output
    assert "2 calls in Asterisk's CDR" in first.output
    assert "1 missing from the call records, created" in first.output
    assert "1 call records since" in first.output and "1 created now, 0 before" in first.output
    line = next(x for x in first.output.splitlines() if "1795560948.20" in x)
    assert "source cdr" in line and "(created now)" in line and "139******01" in line
    assert "1795561020.40" not in first.output  # the events' record is not listed
    again = CliRunner().invoke(app, ["bridge", "reconcile", *since])
    assert "0 missing from the call records" in again.output, again.output
    assert "0 created now, 1 before" in again.output
    line = next(x for x in again.output.splitlines() if "1795560948.20" in x)
    assert "source cdr" in line and "(created now)" not in line

    supervisor = bearer(engine, "banzhang", "supervisor")
    calls = TestClient(create_app(settings, engine), headers=supervisor).get("/api/calls").json()
    assert {c["linkedid"]: c["source"] for c in calls} == {
        "1795560948.20": "cdr",
        "1795561020.40": "ami",
    }


def test_a_recording_in_the_spool_is_attached(settings: Settings, engine: Engine) -> None:
    call = call_from_cdr([parse_row(r) for r in ANSWERED])
    day = call.started_at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y/%m/%d")
    wav = settings.root / "var/spool/asterisk/monitor/hotline" / day / "1795560948.20.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF")
    write_cdr(settings.cdr_file, ANSWERED)
    now = datetime.fromtimestamp(1795561200, UTC)
    result = reconcile(
        settings, engine, _store(settings, engine), since=now - timedelta(hours=1), now=now
    )
    assert (
        result.created[0].recording
        == f"/var/spool/asterisk/monitor/hotline/{day}/1795560948.20.wav"
    )


def test_alarms_mask_the_number_and_stay_few() -> None:
    call = call_from_cdr([parse_row(r) for r in ANSWERED])

    [one] = alarms(Reconciliation(call.started_at, 1, [call], call.started_at))
    assert one.kind == "call_reconciled" and one.linkedid == call.linkedid
    assert "13900000701" not in one.message and "139******01" in one.message
    many = alarms(Reconciliation(call.started_at, 25, [call] * 25, call.started_at))
    assert len(many) == 11 and "15 more calls" in many[-1].message


def test_reconcile_since_takes_an_age_or_a_time() -> None:
    import typer

    from hotline.app.cli_bridge import parse_since

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("3d", now) == now - timedelta(days=3)
    assert parse_since("2026-11-24T08:00", now) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert parse_since("2026-11-24T08:00+08:00", now) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    with pytest.raises(typer.BadParameter, match="an age such as 90m"):
        parse_since("yesterday", now)
