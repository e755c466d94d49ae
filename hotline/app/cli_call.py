"""`hotline call 3 --from 13800138000`: a test call into the running hotline with SIPp
(hotline/call.py), then what the hotline stored of it, read from the database: the menu
choice, the queue, the agent, the call record and the draft work order.

Imports nothing heavy at module level (`hotline --help` stays fast): the database modules
are imported inside the command.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from hotline.app import call as sipp_call
from hotline.app.cli_settings import settings_or_exit
from hotline.kernel.names import REQUEST_TYPE_TITLES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hotline.calls.models import CallRecord
    from hotline.config.settings import Settings
    from hotline.recordings.models import Recording
    from hotline.workorders.models import WorkOrder

SIP_PORTS_FROM = 5161  # the citizen's SIP port: the first free one from here
MEDIA_PORTS_FROM = 26000  # its RTP ports (4 in a row), above Asterisk's default range
LOCAL_IP = "127.0.0.1"  # where the citizen's SIPp calls from


def call(
    keys: Annotated[
        str,
        typer.Argument(
            help="keys to press, e.g. 3, 0, *2, '7 12345678901234#'; a space waits for the "
            "next prompt; '' presses nothing"
        ),
    ] = "",
    caller: Annotated[
        str, typer.Option("--from", help="the citizen's number (caller ID)")
    ] = "13800138000",
    to: Annotated[
        str | None, typer.Option("--to", help="number dialled (default: sip.hotline_number)")
    ] = None,
    talk: Annotated[
        float, typer.Option("--talk", help="seconds to talk after the keys, then hang up")
    ] = 8.0,
    first: Annotated[
        float, typer.Option("--first", help="seconds from the answer to the first key")
    ] = 1.5,
    gap: Annotated[
        float, typer.Option("--gap", help="seconds a space (or the key after *) waits")
    ] = 1.5,
    record_wait: Annotated[
        float, typer.Option("--record-wait", help="seconds to wait for the call record")
    ] = 30.0,
) -> None:
    """Place a test call with SIPp (keys as RFC 2833 DTMF), then show what the hotline
    stored: menu choice, queue, agent, call record, work order. Exit 1 when the call could
    not be placed or no record came."""
    settings = settings_or_exit()
    steps = _steps(keys, first, gap)
    host, number = _reachable_hotline(settings, to)
    pressed = " ".join(k for _, k in steps) or "none"
    target = f"sip:{number}@{host}:{settings.sip.port}"
    typer.echo(f"calling {target} from {caller}: keys {pressed}, talking {talk:g} s")
    placed_at = datetime.now(UTC)
    why = sipp_call.failure(_place(settings, host, number, caller, steps, talk))
    failed = bool(why) and why != "the hotline hung up first"
    if failed:
        typer.echo(f"the call failed: {why}", err=True)
    else:
        took = (datetime.now(UTC) - placed_at).total_seconds()
        typer.echo(f"call ended after {took:.1f} s" + (f" ({why})" if why else ""))
    wait_s = min(record_wait, 5.0) if failed else record_wait
    _show_stored(settings, caller, placed_at, wait_s, failed)
    if failed:
        raise typer.Exit(1)


def _steps(keys: str, first: float, gap: float) -> list[tuple[int, str]]:
    """The keys as SIPp's steps (pause in ms, key); exit 2 on bad keys or without SIPp."""
    try:
        steps = sipp_call.parse_keys(keys, first_ms=round(first * 1000), gap_ms=round(gap * 1000))
        sipp_call.sipp()
    except (ValueError, RuntimeError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    return steps


def _reachable_hotline(settings: Settings, to: str | None) -> tuple[str, str]:
    """(host, number dialled) of the hotline; exit 1 when nothing answers SIP there."""
    host = "127.0.0.1" if settings.sip.host in ("0.0.0.0", "") else settings.sip.host
    if not _trunk_allows(settings.sip.trunk_match, LOCAL_IP):
        typer.echo(
            f"warning: {LOCAL_IP} is not in sip.trunk_match: the hotline may refuse the call",
            err=True,
        )
    if not sipp_call.sip_answers(host, settings.sip.port, LOCAL_IP):
        typer.echo(
            f"the hotline is not running: nothing answers SIP at {host}:{settings.sip.port} "
            "(hotline up --detach; hotline status)",
            err=True,
        )
        raise typer.Exit(1)
    return host, to or settings.sip.hotline_number


def _place(
    settings: Settings,
    host: str,
    number: str,
    caller: str,
    steps: list[tuple[int, str]],
    talk: float,
) -> sipp_call.CallResult:
    """The call itself, from a citizen's SIPp on free local ports."""
    with tempfile.TemporaryDirectory(prefix="hotline-call-") as tmp:
        citizen = sipp_call.Caller(
            Path(tmp),
            port=sipp_call.free_udp_port(LOCAL_IP, SIP_PORTS_FROM),
            media_port=sipp_call.free_udp_port(LOCAL_IP, MEDIA_PORTS_FROM, count=4),
            target=f"{host}:{settings.sip.port}",
            service=number,
            local_ip=LOCAL_IP,
        )
        keys_s = sum(p for p, _ in steps) / 1000
        return citizen.call_keys(
            caller, steps, talk_ms=round(talk * 1000), timeout_s=round(keys_s + talk + 60)
        )


def _show_stored(
    settings: Settings, caller: str, placed_at: datetime, wait_s: float, failed: bool
) -> None:
    """What the hotline stored of the call; exit 1 when no call record came in time."""
    found = _stored(settings, caller, placed_at, wait_s)
    if found is None:
        hint = "" if failed else " (is the CRM bridge running? hotline status)"
        typer.echo(f"no call record for {caller} within {wait_s:g} s{hint}", err=True)
        raise typer.Exit(1)
    record, order, recording = found
    tz = ZoneInfo(settings.timezone)
    titles = {q.name: q.title for q in settings.queues}
    typer.echo(describe(record, order, recording, tz=tz, queue_titles=titles))


def _trunk_allows(matches: list[str], ip: str) -> bool:
    for m in matches:
        try:
            if ip_address(ip) in ip_network(m, strict=False):
                return True
        except ValueError:  # a host name: Asterisk resolves it
            if m == "localhost":
                return True
    return False


def _stored(
    settings: Settings, caller: str, placed_at: datetime, wait_s: float
) -> tuple[CallRecord, WorkOrder | None, Recording | None] | None:
    """The call record of this call (this caller, started after it was placed), its
    work order and recording; None when no record came within wait_s."""
    from sqlalchemy.exc import SQLAlchemyError

    from hotline.app.tables import open_engine

    engine = open_engine(settings)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            found = _read(engine, caller, placed_at - timedelta(seconds=5))
            if found is not None or time.monotonic() > deadline:
                return found
            time.sleep(0.5)
    except SQLAlchemyError as exc:
        typer.echo(f"cannot read the database {settings.db_url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def _read(
    engine: Engine, caller: str, since: datetime
) -> tuple[CallRecord, WorkOrder | None, Recording | None] | None:
    from sqlmodel import Session, col, select

    from hotline.calls.models import CallRecord
    from hotline.recordings.models import Recording
    from hotline.workorders.models import WorkOrder

    with Session(engine) as s:
        record = s.exec(
            select(CallRecord)
            .where(CallRecord.caller_number == caller, CallRecord.started_at >= since)
            .order_by(col(CallRecord.started_at).desc())
        ).first()
        if record is None:
            return None
        order = s.exec(select(WorkOrder).where(WorkOrder.linkedid == record.linkedid)).first()
        recording = s.exec(select(Recording).where(Recording.linkedid == record.linkedid)).first()
        return record, order, recording


def describe(
    record: CallRecord,
    order: WorkOrder | None,
    recording: Recording | None,
    *,
    tz: ZoneInfo,
    queue_titles: Mapping[str, str],
) -> str:
    """What the hotline stored of the call, a line a fact."""

    def local(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else "-"

    def titled(name: str, titles: Mapping[str, str]) -> str:
        return f"{name} {titles[name]}" if name in titles else name or "-"

    choice = record.ivr_choice or "no key"
    if record.speech_choice:
        choice += f" (said {record.speech_text!r})"
    menu = f"{choice} -> {titled(record.request_type, REQUEST_TYPE_TITLES)}"
    if record.ivr_result:
        menu += f" ({record.ivr_result})"
    queue = titled(record.queue, queue_titles)
    if record.wait_seconds is not None:
        queue += f", waited {record.wait_seconds:.1f} s"
    if record.agent:
        agent = f"agent {record.agent} answered at {local(record.answered_at)}"
        if record.talk_seconds is not None:
            agent += f", talked {record.talk_seconds:.1f} s"
    else:
        agent = "nobody answered"
    duration = (record.ended_at - record.started_at).total_seconds()
    hangup = f", hang-up cause {record.hangup_cause} {record.hangup_cause_text}".rstrip()
    lines = [
        f"menu:        {menu}",
        f"queue:       {queue}",
        f"agent:       {agent}",
        f"call record: #{record.id} linkedid {record.linkedid}, {record.disposition}, "
        f"{local(record.started_at)} for {duration:.1f} s"
        + (hangup if record.hangup_cause is not None else ""),
    ]
    if record.emergency_line:
        lines.append(f"emergency:   line {record.emergency_line} linked in")
    if recording is not None:
        lines.append(f"recording:   {recording.path} ({recording.status})")
    elif record.recording_path:
        lines.append(f"recording:   {record.recording_path}")
    else:
        lines.append("recording:   none")
    if order is None:
        lines.append("work order:  none (only an answered call with a request type drafts one)")
    else:
        due = order.due_date.isoformat() if order.due_date else "none"
        if order.due_working_days:
            due += f" ({order.due_working_days} working days)"
        lines.append(
            f"work order:  {order.number} {order.status}, "
            f"{titled(order.request_type, REQUEST_TYPE_TITLES)}, due {due}"
        )
    return "\n".join(lines)
