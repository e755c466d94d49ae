"""Assemble one call record per call (Linkedid) from AMI events, in any order.

Pure logic: feed it event dictionaries, it returns the calls that have ended.
A call ends when the caller's channel has hung up and no channel of the call is
left alive; every field is derived at that moment, so the order in which the
other events arrived does not matter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hotline.calls.models import Disposition, RecordSource
from hotline.crm_bridge.linkage import FinishedLinkage, LinkageTracker, is_helper_leg
from hotline.kernel.names import queue_from_asterisk

log = logging.getLogger(__name__)

HOTLINE_EVENTS = {
    "HotlineCallStart",
    "HotlineIVR",
    "HotlineSurvey",
    "HotlineEmergency",
    "HotlineLinkage",
    "HotlineWiden",
    "HotlineSpeech",
}


@dataclass(frozen=True)
class Speech:
    """What speech navigation heard (UserEvent HotlineSpeech, agi/speech.py)."""

    text: str = ""
    confidence: float | None = None
    choice: str = ""  # the menu key a phrase chose
    keyword_line: str = ""
    keyword: str = ""


@dataclass
class CallState:
    linkedid: str
    first_seen: datetime
    caller_number: str = ""
    caller_name: str = ""
    started_at: datetime | None = None
    recording: str = ""
    ivr_left_at: datetime | None = None
    ivr_choice: str = ""
    ivr_result: str = ""
    request_type: str = ""
    emergency: bool = False
    ivr_queue: str = ""
    joins: list[tuple[datetime, str]] = field(default_factory=list)
    queue_joined_at: datetime | None = None
    agent: str = ""
    answered_at: datetime | None = None
    hold_seconds: float | None = None
    talk_seconds: float | None = None
    abandoned_in_queue: bool = False
    live: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    caller_gone_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    last_seen: datetime | None = None
    survey: str = ""  # satisfied, basically, dissatisfied, none (asked when the agent hung up)
    emergency_line: str = ""  # 110/119/120/122 the IVR transferred to
    linkage: LinkageTracker = field(default_factory=LinkageTracker)
    widening: list[tuple[str, datetime]] = field(default_factory=list)  # steps taken, when
    widening_pace: str = ""  # on-target, behind or unknown (acd/widening.py)
    speech: Speech | None = None


@dataclass(frozen=True)
class FinishedCall:
    linkedid: str
    caller_number: str
    caller_name: str
    started_at: datetime
    ivr_left_at: datetime | None
    ivr_choice: str
    ivr_result: str
    request_type: str
    emergency: bool
    queue: str
    queues: tuple[str, ...]
    queue_joined_at: datetime | None
    wait_seconds: float | None
    agent: str
    answered_at: datetime | None
    talk_seconds: float | None
    ended_at: datetime
    hangup_cause: int | None
    hangup_cause_text: str
    disposition: Disposition
    recording: str
    survey: str = ""
    emergency_line: str = ""
    linkages: tuple[FinishedLinkage, ...] = ()  # emergency lines brought in (三方通话)
    widening: str = ""  # "secondary@5,general@15": each step and its second since the join
    widening_pace: str = ""
    source: RecordSource = RecordSource.AMI
    speech: Speech | None = None


def event_time(event: Mapping[str, str]) -> datetime:
    """Asterisk's own timestamp (manager.conf timestampevents=yes), else now."""
    ts = event.get("Timestamp")
    if ts:
        try:
            return datetime.fromtimestamp(float(ts), UTC)
        except ValueError:
            log.warning("ignoring a malformed Timestamp %r", ts)
    return datetime.now(UTC)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _clean(value: str | None) -> str:
    # Asterisk prints "<unknown>" for an unset caller ID
    return "" if value in (None, "<unknown>", "<null>") else str(value)


FINISHED_KEPT = 10_000  # Linkedids of finished calls remembered (for the resync after a login)


class CallAssembler:
    def __init__(self) -> None:
        self.calls: dict[str, CallState] = {}
        self.finished: dict[str, None] = {}  # recently finished Linkedids, oldest first

    def ended(self, event: Mapping[str, str]) -> bool:
        """The event comes after its call ended (a late AgentComplete, a bridge's last word):
        a call begun again by it would never end, and never leave memory or the journal."""
        return event.get("Linkedid", "") in self.finished

    def feed(self, event: Mapping[str, str]) -> FinishedCall | None:
        """Take one event; return the call it finished, if any. Never raises."""
        name = event.get("Event", "")
        linkedid = event.get("Linkedid") or ""
        if not name or not linkedid or is_helper_leg(event):
            return None
        try:
            return self._feed(name, linkedid, event)
        except Exception:  # a malformed event must not stop the bridge
            log.exception("could not use %s event of call %s", name, linkedid)
            return None

    def _state(self, linkedid: str, when: datetime) -> CallState:
        state = self.calls.get(linkedid)
        if state is None:
            state = self.calls[linkedid] = CallState(linkedid=linkedid, first_seen=when)
        state.last_seen = when
        return state

    def _feed(self, name: str, linkedid: str, ev: Mapping[str, str]) -> FinishedCall | None:
        when = event_time(ev)
        uniqueid = ev.get("Uniqueid", "")
        is_caller = uniqueid == linkedid
        if name == "UserEvent" and ev.get("UserEvent") not in HOTLINE_EVENTS:
            return None
        if linkedid in self.finished:
            return None
        st = self._state(linkedid, when)
        if is_caller and not st.caller_number:
            st.caller_number = _clean(ev.get("CallerIDNum"))
            st.caller_name = _clean(ev.get("CallerIDName"))
        if name == "Newchannel":
            if uniqueid and uniqueid not in st.gone:
                st.live.add(uniqueid)
            if is_caller:
                st.started_at = when
        elif name == "UserEvent":
            self._user_event(st, ev, when)
        elif name == "QueueCallerJoin":
            st.joins.append((when, queue_from_asterisk(ev.get("Queue", ""))))
            if st.queue_joined_at is None or when < st.queue_joined_at:
                st.queue_joined_at = when
        elif name == "AgentConnect":
            st.answered_at = when
            st.agent = ev.get("MemberName") or ev.get("Interface", "")
            st.hold_seconds = _float(ev.get("HoldTime"))
            if ev.get("Queue"):
                st.joins.append((when, queue_from_asterisk(ev["Queue"])))
        elif name == "AgentComplete":
            st.talk_seconds = _float(ev.get("TalkTime"))
            st.agent = st.agent or ev.get("MemberName") or ev.get("Interface", "")
        elif name == "QueueCallerAbandon":
            st.abandoned_in_queue = True
        elif name == "ConfbridgeJoin":
            st.linkage.joined(ev, when, is_caller=is_caller)
        elif name == "ConfbridgeLeave":
            st.linkage.left(ev, when)
        elif name == "Hangup":
            if uniqueid:
                st.live.discard(uniqueid)
                st.gone.add(uniqueid)
                st.linkage.hung_up(uniqueid, when)
            if is_caller:
                st.caller_gone_at = when
                st.hangup_cause = _int(ev.get("Cause"))
                st.hangup_cause_text = ev.get("Cause-txt", "")
        if st.caller_gone_at is not None and not st.live:
            del self.calls[linkedid]
            self.finished[linkedid] = None
            if len(self.finished) > FINISHED_KEPT:
                del self.finished[next(iter(self.finished))]
            return self._finish(st)
        return None

    @staticmethod
    def _user_event(st: CallState, ev: Mapping[str, str], when: datetime) -> None:
        kind = ev.get("UserEvent")
        if kind == "HotlineCallStart":
            st.recording = ev.get("Recording", "")
        elif kind == "HotlineIVR":
            st.ivr_left_at = when
            st.ivr_choice = ev.get("Choice", "")
            st.ivr_result = ev.get("Result", "")
            st.request_type = ev.get("RequestType", "")
            st.emergency = ev.get("Emergency", "") == "1"
            st.ivr_queue = ev.get("Queue", "")
        elif kind == "HotlineSurvey":
            st.survey = ev.get("Answer", "")
        elif kind == "HotlineEmergency":
            st.emergency = True
            st.emergency_line = ev.get("Line", "")
        elif kind == "HotlineLinkage":
            st.linkage.user_event(ev, when)
        elif kind == "HotlineSpeech":
            heard = Speech(
                text=ev.get("Text", "")[:100],
                confidence=_float(ev.get("Confidence")),
                choice=ev.get("Choice", "")[:8] if ev.get("Kind") == "phrase" else "",
                keyword_line=ev.get("Line", "")[:8],
                keyword=ev.get("Word", "")[:32],
            )
            # a keyword spotted stays on the record even if the caller spoke again later
            if st.speech is None or not st.speech.keyword or heard.keyword:
                st.speech = heard
        elif kind == "HotlineWiden":
            step = ev.get("Step", "")
            if step:
                st.widening.append((step, when))
            st.widening_pace = st.widening_pace or ev.get("Pace", "")

    @staticmethod
    def _finish(st: CallState) -> FinishedCall:
        ended = st.caller_gone_at or st.last_seen or st.first_seen
        started = st.started_at or st.first_seen
        wait: float | None = None
        if st.queue_joined_at is not None:
            until = st.answered_at or ended
            wait = max(0.0, (until - st.queue_joined_at).total_seconds())
        talk = st.talk_seconds
        if st.answered_at is not None and talk is None:
            talk = max(0.0, (ended - st.answered_at).total_seconds())
        queues = tuple(dict.fromkeys(q for _, q in sorted(st.joins) if q))
        if st.answered_at is not None:
            disposition = Disposition.ANSWERED
        elif any(step == "trunk-answered" for step, _ in st.widening):
            disposition = Disposition.OVERFLOWED
        elif st.queue_joined_at is not None or st.abandoned_in_queue:
            disposition = Disposition.ABANDONED_IN_QUEUE
        else:
            disposition = Disposition.ABANDONED_IN_IVR
        linkages = st.linkage.finish(ended)
        return FinishedCall(
            linkedid=st.linkedid,
            caller_number=st.caller_number,
            caller_name=st.caller_name,
            started_at=started,
            ivr_left_at=st.ivr_left_at,
            ivr_choice=st.ivr_choice,
            ivr_result=st.ivr_result,
            request_type=st.request_type,
            emergency=st.emergency or bool(linkages),
            queue=queues[-1] if queues else st.ivr_queue,
            queues=queues,
            queue_joined_at=st.queue_joined_at,
            wait_seconds=wait,
            agent=st.agent,
            answered_at=st.answered_at,
            talk_seconds=talk,
            ended_at=ended,
            hangup_cause=st.hangup_cause,
            hangup_cause_text=st.hangup_cause_text,
            disposition=disposition,
            recording=st.recording,
            survey=st.survey,
            emergency_line=linkages[-1].line if linkages else st.emergency_line,
            linkages=linkages,
            widening=_steps(st.widening, st.queue_joined_at),
            widening_pace=st.widening_pace,
            speech=st.speech,
        )


def _steps(steps: list[tuple[str, datetime]], joined: datetime | None) -> str:
    def at(when: datetime) -> str:
        return "" if joined is None else f"@{max(0.0, (when - joined).total_seconds()):.0f}"

    return ",".join(f"{step}{at(when)}" for step, when in steps)
