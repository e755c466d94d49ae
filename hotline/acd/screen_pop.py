"""Screen pop: which agent's phone rings for which caller, and what the agent page shows.

Pure: `RingTracker` follows the AMI events the acd service already reads (the menu's
UserEvent(HotlineIVR), QueueCallerJoin, AgentCalled, Hangup) and says who rings for
whom; `build_screen_pop` turns a ring and the caller's history into the page's message.
The full caller number is in both (the agent needs it); never log them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from hotline.acd.agent_state import agent_of
from hotline.kernel.names import REQUEST_TYPE_TITLES, queue_from_asterisk

KEEP_CALLS = 5000  # calls remembered at most (a leak guard: Hangup normally forgets them)
OPEN_STATUSES = ("draft", "accepted", "dispatched", "signed", "returned", "coordinating", "replied")

# 接诉即办 rapid-response topics (regulation art. 15): offered as tags on the form
RAPID_RESPONSE_TOPICS = (
    "噪音扰民",
    "交通拥堵",
    "道路堵塞",
    "占道经营",
    "露天焚烧",
    "停水停电",
    "公共卫生",
    "自然灾害",
    "服务投诉",
)


@dataclass(frozen=True)
class Ring:
    """An agent's phone rings for a caller waiting in a queue."""

    agent: str
    linkedid: str
    caller: str  # the full number
    caller_name: str
    queue: str
    ivr_choice: str
    request_type: str
    joined_at: datetime | None  # first queue join (art. 25's clock)
    rang_at: datetime

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["joined_at"] = self.joined_at.isoformat() if self.joined_at else None
        d["rang_at"] = self.rang_at.isoformat()
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Ring:
        joined = d.get("joined_at")
        return cls(
            agent=str(d["agent"]),
            linkedid=str(d["linkedid"]),
            caller=str(d.get("caller", "")),
            caller_name=str(d.get("caller_name", "")),
            queue=str(d.get("queue", "")),
            ivr_choice=str(d.get("ivr_choice", "")),
            request_type=str(d.get("request_type", "")),
            joined_at=datetime.fromisoformat(joined) if joined else None,
            rang_at=datetime.fromisoformat(str(d["rang_at"])),
        )


@dataclass
class _Call:
    ivr_choice: str = ""
    request_type: str = ""
    joined_at: datetime | None = None


def _known(value: str | None) -> str:
    return "" if value in (None, "<unknown>") else str(value)


class RingTracker:
    """feed() AMI events; a Ring comes back when an agent's phone starts ringing."""

    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}

    def _call(self, linkedid: str) -> _Call:
        if linkedid not in self._calls and len(self._calls) >= KEEP_CALLS:
            self._calls.pop(next(iter(self._calls)))
        return self._calls.setdefault(linkedid, _Call())

    def feed(self, event: Mapping[str, str], now: datetime) -> Ring | None:
        name = event.get("Event", "")
        linkedid = event.get("Linkedid", "")
        if not linkedid:
            return None
        if name == "UserEvent" and event.get("UserEvent") == "HotlineIVR":
            call = self._call(linkedid)
            call.ivr_choice = event.get("Choice", "")
            call.request_type = event.get("RequestType", "")
        elif name == "QueueCallerJoin":
            call = self._call(linkedid)
            if call.joined_at is None:
                call.joined_at = now
        elif name == "AgentCalled":
            agent = agent_of(event) or event.get("MemberName", "")
            if not agent:
                return None
            call = self._calls.get(linkedid) or _Call()
            return Ring(
                agent=agent,
                linkedid=linkedid,
                caller=_known(event.get("CallerIDNum")),
                caller_name=_known(event.get("CallerIDName")),
                queue=queue_from_asterisk(event.get("Queue", "")),
                ivr_choice=call.ivr_choice,
                request_type=call.request_type,
                joined_at=call.joined_at,
                rang_at=now,
            )
        elif name == "Hangup" and event.get("Uniqueid") == linkedid:
            self._calls.pop(linkedid, None)  # the caller's own channel is gone
        return None


@dataclass(frozen=True)
class PastCall:
    linkedid: str
    started_at: datetime
    disposition: str
    request_type: str
    agent: str
    talk_seconds: float | None


@dataclass(frozen=True)
class OpenOrder:
    number: str
    status: str
    request_type: str
    accepted_at: datetime
    due_at: datetime | None
    topic: str
    content: str


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def build_screen_pop(
    ring: Ring,
    calls: Iterable[PastCall],
    orders: Iterable[OpenOrder],
    now: datetime,
    *,
    max_calls: int = 10,
    queue_title: str = "",
) -> dict[str, Any]:
    """The agent page's message for a ring: the caller, the wait, the history, the form."""
    rtype = ring.request_type if ring.request_type in REQUEST_TYPE_TITLES else ""
    since = ring.joined_at or ring.rang_at
    earlier: Sequence[PastCall] = sorted(
        (c for c in calls if c.linkedid != ring.linkedid),
        key=lambda c: _iso(c.started_at) or "",
        reverse=True,
    )[:max_calls]
    still_open = sorted(
        (o for o in orders if o.status in OPEN_STATUSES),
        key=lambda o: _iso(o.accepted_at) or "",
        reverse=True,
    )
    return {
        "kind": "pop",
        "agent": ring.agent,
        "linkedid": ring.linkedid,
        "caller": ring.caller,
        "caller_name": ring.caller_name,
        "queue": ring.queue,
        "queue_title": queue_title or ring.queue,
        "ivr_choice": ring.ivr_choice,
        "request_type": rtype,
        "request_type_title": REQUEST_TYPE_TITLES.get(rtype, "未选择"),
        "joined_at": _iso(ring.joined_at),
        "rang_at": _iso(ring.rang_at),
        "wait_seconds": max(0, round((now - since).total_seconds())),
        "previous_calls": [_past_call(c) for c in earlier],
        "open_orders": [_open_order(o) for o in still_open],
        "form": {
            "linkedid": ring.linkedid,
            "request_type": rtype or "consultation",
            "channel": "phone",
            "caller_number": ring.caller,
            "contact": ring.caller,
        },
    }


def _past_call(c: PastCall) -> dict[str, Any]:
    return {
        "linkedid": c.linkedid,
        "started_at": _iso(c.started_at),
        "disposition": c.disposition,
        "request_type": c.request_type,
        "request_type_title": REQUEST_TYPE_TITLES.get(c.request_type, ""),
        "agent": c.agent,
        "talk_seconds": c.talk_seconds,
    }


def _open_order(o: OpenOrder) -> dict[str, Any]:
    return {
        "number": o.number,
        "status": o.status,
        "request_type": o.request_type,
        "request_type_title": REQUEST_TYPE_TITLES.get(o.request_type, o.request_type),
        "accepted_at": _iso(o.accepted_at),
        "due_at": _iso(o.due_at),
        "topic": o.topic,
        "content": o.content[:200],
    }
