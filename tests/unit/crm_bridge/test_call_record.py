"""The call record's shapes agree with its one declaration (calls/models.py CallRecord):
every column comes from a field of the finished call (crm_bridge/assembler.py) or is the
store's own, every field of the finished call reaches a column (or its linkage tables), the
API's answer is the public columns, and every field survives the journal into its column.

No field is named here: the finished call below gives every field a value of its declared
type that is not the column's default, so a field added later is checked as well."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, select

from hotline.calls.models import CallRecord, RecordSource
from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.journal import decode, encode
from hotline.crm_bridge.record import PARTS, PUBLIC, CallOut, call_out
from hotline.crm_bridge.service import store_call
from hotline.kernel.db import make_engine, upgrade
from hotline.workorders.calendar import WorkCalendar

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
# the store's own columns, and the finished call's fields with tables of their own
NOT_FROM_THE_CALL = {"id", "tenant"}
OWN_TABLES = {"linkages"}  # emergency_linkage and emergency_party (service.store_linkages)
PRIVATE = {"id", "tenant", "caller_name", "ivr_left_at"}  # never in GET /api/calls


def _bare(kind: object) -> object:
    """X for X | None."""
    if get_origin(kind) in (Union, UnionType):
        (kind,) = (k for k in get_args(kind) if k is not type(None))
    return kind


def _sample(kind: object, n: int) -> object:
    """A value of the declared type `kind`, not its default (the n-th of its kind)."""
    kind = _bare(kind)
    if get_origin(kind) is tuple:
        item = get_args(kind)[0]
        return (_sample(item, n), _sample(item, n + 1))
    if kind is str:
        return f"v{n}"
    if kind is bool:
        return True
    if kind is int:
        return 40 + n
    if kind is float:
        return 1.5 + n
    if kind is datetime:
        return START + timedelta(seconds=n)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind)[-1]  # the defaults (RecordSource.AMI) come first
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        values: dict[str, Any] = {
            f.name: _sample(hints[f.name], n * 10 + i) for i, f in enumerate(fields(kind))
        }
        return kind(**values)
    raise AssertionError(f"no sample for {kind!r}: teach _sample the new type")


def _call() -> FinishedCall:
    call = _sample(FinishedCall, 1)
    assert isinstance(call, FinishedCall)
    return call


def _attribute(obj: object, path: str) -> object:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _as_stored(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return ",".join(value)
    return value


def _call_type(path: str) -> object:
    kind: object = FinishedCall
    for name in path.split("."):
        kind = _bare(get_type_hints(kind)[name])
    return kind


def test_every_column_comes_from_the_call_with_its_type_or_is_the_stores() -> None:
    declared = CallRecord.model_fields
    assert [p.name for p in PARTS] == list(declared)
    assert {p.name for p in PARTS if p.call is None} == NOT_FROM_THE_CALL
    for p in PARTS:
        if p.call is None:
            continue
        column, call = _bare(declared[p.name].annotation), _call_type(p.call)
        if column is str and get_origin(call) is tuple:
            assert p.listed and get_args(call)[0] is str, p.name  # joined by commas
        elif column is str and isinstance(call, type) and issubclass(call, Enum):
            assert all(isinstance(m.value, str) for m in call), p.name  # stored by value
        else:
            assert column is call, (p.name, column, call)
        if p.listed:
            assert column is str, p.name


def test_every_field_of_the_finished_call_reaches_a_column() -> None:
    heads = {p.call.split(".")[0] for p in PARTS if p.call is not None}
    assert heads | OWN_TABLES == {f.name for f in fields(FinishedCall)}
    for p in PARTS:  # a field inside another (speech.text): every one of them is kept
        if p.call is not None and "." in p.call:
            head = p.call.split(".")[0]
            inner = _bare(get_type_hints(FinishedCall)[head])
            assert isinstance(inner, type) and is_dataclass(inner)
            kept = {q.call for q in PARTS if q.call is not None and q.call.startswith(head + ".")}
            assert kept == {f"{head}.{f.name}" for f in fields(inner)}


def test_the_api_answer_is_the_public_columns_in_order() -> None:
    declared = CallRecord.model_fields
    assert list(CallOut.model_fields) == [p.name for p in PUBLIC]
    assert PRIVATE.isdisjoint(CallOut.model_fields)
    for p in PUBLIC:
        shown = CallOut.model_fields[p.name].annotation
        assert shown == (list[str] if p.listed else declared[p.name].annotation), p.name
        assert CallOut.model_fields[p.name].is_required(), p.name  # every answer has it


def test_every_field_survives_the_journal_into_its_column_and_the_answer(
    tmp_path: Path,
) -> None:
    call = _call()
    body = encode(call)
    assert list(json.loads(body)) == [f.name for f in fields(FinishedCall)]
    again = decode(body)
    assert again == call
    assert again.source is RecordSource.CDR  # the enumeration, not its value

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    engine = make_engine(url)
    migrated = {c["name"] for c in inspect(engine).get_columns("call_record")}
    assert migrated == {p.name for p in PARTS}
    with Session(engine) as s:
        store_call(s, again, tenant="nanning", calendar=WorkCalendar(), tz=ZoneInfo("UTC"))
        s.commit()
    with Session(engine) as s:
        row = s.exec(select(CallRecord)).one()
        answer = call_out(row).model_dump()
    defaults = CallRecord()  # type: ignore[call-arg]  # the columns' defaults
    for p in PARTS:
        if p.call is None:
            continue
        expected = _as_stored(_attribute(call, p.call))
        assert getattr(row, p.name) == expected, p.name
        assert expected != getattr(defaults, p.name, None), f"{p.name}: the sample is a default"
        if p.public:
            shown = str(expected).split(",") if p.listed else expected
            assert answer[p.name] == shown, p.name
    engine.dispose()


def test_a_call_without_speech_keeps_the_speech_stored_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade(url)
    engine = make_engine(url)
    call = _call()
    speechless = replace(call, speech=None, survey="later")
    with Session(engine) as s:
        for c in (call, speechless):
            store_call(s, c, tenant="nanning", calendar=WorkCalendar(), tz=ZoneInfo("UTC"))
        s.commit()
    with Session(engine) as s:
        row = s.exec(select(CallRecord)).one()
    assert call.speech is not None
    assert (row.speech_text, row.survey) == (call.speech.text, "later")
    engine.dispose()


# A finished call as the journal of the previous version wrote it (crm_bridge/journal.py
# before the shapes were derived): it must read back the same.
OLDER = (
    '{"linkedid": "x.1", "caller_number": "13800138001", "caller_name": "Citizen", '
    '"started_at": "2026-11-24T14:39:35.302517+00:00", "ivr_left_at": '
    '"2026-11-24T14:39:40.733630+00:00", "ivr_choice": "3", "ivr_result": "chosen", '
    '"request_type": "complaint", "emergency": false, "queue": "complaint", "queues": '
    '["complaint"], "queue_joined_at": "2026-11-24T14:39:40.733722+00:00", "wait_seconds": '
    '0.003845, "agent": "1001", "answered_at": "2026-11-24T14:39:40.737567+00:00", '
    '"talk_seconds": 5.0, "ended_at": "2026-11-24T14:39:45.020949+00:00", "hangup_cause": 16, '
    '"hangup_cause_text": "Normal Clearing", "disposition": "answered", "recording": '
    '"/var/spool/asterisk/monitor/hotline/2026/11/24/1795531175.2.wav", "survey": '
    '"satisfied", "emergency_line": "", "linkages": [{"seq": 1, "line": "119", "via": '
    '"agent", "agent": "1003", "started_at": "2026-11-24T23:46:34.691569+00:00", "outcome": '
    '"connected", "destination": "primary", "connected_at": '
    '"2026-11-24T23:46:39.991868+00:00", "attempts": ["primary:ANSWER"], "parties": '
    '[["agent", "1003", "2026-11-24T23:46:38.247823+00:00", '
    '"2026-11-24T23:46:50.113581+00:00"]]}], "widening": "secondary@5,general@15", '
    '"widening_pace": "behind", "source": "cdr", "speech": {"text": "我要投诉", '
    '"confidence": 0.83, "choice": "1", "keyword_line": "110", "keyword": "着火"}}'
)


def test_a_journal_of_the_previous_version_reads_back_the_same() -> None:
    call = decode(OLDER)
    written = json.loads(OLDER)
    again = json.loads(encode(call))  # the same (a field added later adds its own key)
    assert {name: again[name] for name in written} == written
    assert '"speech": {"text": "我要投诉", "confidence": 0.83,' in encode(call)  # as written
    assert call.speech is not None and call.speech.keyword == "着火"
    assert call.linkages[0].parties[0].left_at == datetime(
        2026, 11, 24, 23, 46, 50, 113581, tzinfo=UTC
    )
    # older still: before linkages, source and speech were kept
    oldest = json.loads(OLDER)
    for name in ("linkages", "source", "speech"):
        del oldest[name]
    call = decode(json.dumps(oldest))
    assert (call.linkages, call.source, call.speech) == ((), RecordSource.AMI, None)


@pytest.mark.parametrize("body", ["[]", '"x"', "null"])
def test_a_journal_row_that_is_no_object_is_refused(body: str) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        decode(body)
