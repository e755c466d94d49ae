"""A call record made from Asterisk's CDR alone, for a call whose events we never saw.

Pure logic: CDR rows in, FinishedCall out. The CDR knows less than the events: no
IVR choice, request type, survey or hangup cause; the queue only when the call was
last in Queue(); the agent from the agent leg's channel name (PJSIP/<agent>-…).
A call's first CDR may start only when it reached an agent (Asterisk opens a new CDR
at the bridge), so the start is taken from the Linkedid, which is the caller's
channel's Uniqueid, `<epoch seconds>.<counter>`: the call began in that second.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hotline.calls.models import Disposition, RecordSource
from hotline.crm_bridge.assembler import FinishedCall
from hotline.crm_bridge.cdr import CdrRow
from hotline.kernel.names import queue_from_asterisk

_AGENT_CHANNEL = re.compile(r"^PJSIP/([A-Za-z0-9_.-]+)-[0-9a-f]+$")
_UNIQUEID = re.compile(r"(?:^|-)(\d{9,11})\.\d+$")  # [systemname-]<epoch>.<counter>


def created_at(uniqueid: str) -> datetime | None:
    """When Asterisk created the channel, to the second, from its Uniqueid."""
    m = _UNIQUEID.search(uniqueid)
    return datetime.fromtimestamp(int(m.group(1)), UTC) if m else None


def group_by_call(rows: Iterable[CdrRow]) -> dict[str, list[CdrRow]]:
    calls: dict[str, list[CdrRow]] = defaultdict(list)
    for row in rows:
        calls[row.linkedid].append(row)
    return dict(calls)


def _queue(row: CdrRow) -> str:
    return queue_from_asterisk(row.lastdata.split(",", 1)[0]) if row.lastapp == "Queue" else ""


def _agent(row: CdrRow) -> str:
    m = _AGENT_CHANNEL.match(row.dstchannel)
    return m.group(1) if m else ""


def call_from_cdr(rows: list[CdrRow]) -> FinishedCall:
    """One call's CDR rows (same Linkedid) -> the call record we can vouch for."""
    if not rows:
        raise ValueError("no CDR rows")
    linkedid = rows[0].linkedid
    rows = sorted(rows, key=lambda r: (r.started, r.ended))
    caller = next((r for r in rows if r.uniqueid == linkedid), rows[0])
    started = min(r.started for r in rows)
    born = created_at(linkedid)
    if born is not None and timedelta(0) <= started - born < timedelta(days=1):
        started = born
    ended = max(r.ended for r in rows)
    queues = tuple(dict.fromkeys(q for r in rows if (q := _queue(r))))
    # the citizen talked to an agent: a Queue() leg answered by an agent's phone
    talked = [r for r in rows if _queue(r) and _agent(r) and r.disposition == "ANSWERED"]
    agent_leg = talked[-1] if talked else None
    answered_at = None
    talk: float | None = None
    if agent_leg is not None:
        answered_at = agent_leg.answered
        talk = float(agent_leg.billsec)
        if answered_at is None or answered_at < agent_leg.started:
            answered_at = agent_leg.ended
        disposition = Disposition.ANSWERED
    elif queues:
        disposition = Disposition.ABANDONED_IN_QUEUE
    else:
        disposition = Disposition.ABANDONED_IN_IVR
    return FinishedCall(
        linkedid=linkedid,
        caller_number=caller.src,
        caller_name="",
        started_at=started,
        ivr_left_at=None,
        ivr_choice="",
        ivr_result="",
        request_type="",
        emergency=False,
        queue=queues[-1] if queues else "",
        queues=queues,
        queue_joined_at=None,
        wait_seconds=None,
        agent=_agent(agent_leg) if agent_leg else "",
        answered_at=answered_at,
        talk_seconds=talk,
        ended_at=ended,
        hangup_cause=None,
        hangup_cause_text="",
        disposition=disposition,
        recording="",
        source=RecordSource.CDR,
    )
