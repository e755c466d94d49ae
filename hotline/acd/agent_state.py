"""Agents' states from app_queue's AMI events: a pure state machine, no I/O.

app_queue knows membership, pause and device state; it has no "wrap-up" or "ringing"
of its own that survives a restart, so those are derived: ringing from AgentCalled or
the device ringing, wrap-up from the member's LastCall plus the queue's wrapuptime
(the same rule app_queue applies before offering the next call).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from hotline.acd.errors import UnknownReason
from hotline.kernel.names import queue_from_asterisk


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # 话后处理
    PAUSED = "paused"
    UNREACHABLE = "unreachable"  # logged in, but the phone cannot be rung (话机离线)


@dataclass(frozen=True)
class PauseReason:
    code: str
    digit: str  # the feature code *13<digit>
    title: str


PAUSE_REASONS = (
    PauseReason("break", "1", "休息"),
    PauseReason("meal", "2", "用餐"),
    PauseReason("training", "3", "培训"),
    PauseReason("meeting", "4", "会议"),
    PauseReason("leader_duty", "5", "领导值班"),
)


# Set by app_queue, not chosen: a queue call rang the agent's phone for the ring timeout
# without an answer (RONA, queues.conf autopause); its PausedReason is "Auto-Pause".
NO_ANSWER = PauseReason("no_answer", "", "未接")
APP_QUEUE_AUTO_PAUSE = "Auto-Pause"
SYSTEM_REASONS = (NO_ANSWER,)


def pause_reason(code: str) -> PauseReason:
    for r in PAUSE_REASONS:
        if code in (r.code, r.digit):
            return r
    allowed = ", ".join(f"{r.code} ({r.title})" for r in PAUSE_REASONS)
    raise UnknownReason(f"unknown pause reason {code!r}; allowed: {allowed}")


# AST_DEVICE_* numbers in the Status field of QueueMember* events
# How often the clock is looked at for wrap-ups that ended: every AMI event of a busy hotline
# (hundreds a second) would otherwise recompute every agent's state, and the acd service
# would fall behind its events.
TICK_SECONDS = 0.25
DEVICE_RINGING = {6}
DEVICE_IN_CALL = {2, 3, 7, 8}  # in use, busy, ringing while in use, on hold
# invalid (no such endpoint), unavailable (a fixed contact that fails its qualify, or a
# softphone whose registration lapsed): app_queue does not ring it (ringinuse=no)
DEVICE_UNREACHABLE = {4, 5}

MEMBER_EVENTS = {
    "QueueMember",  # the answer to the QueueStatus action
    "QueueMemberAdded",
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberPenalty",
    "QueueMemberRinginuse",
}


def agent_of(event: Mapping[str, str]) -> str:
    """The agent id of PJSIP/<id> (QueueMember says Location, the others Interface)."""
    interface = event.get("Interface") or event.get("Location") or ""
    tech, _, rest = interface.partition("/")
    if tech.upper() != "PJSIP" or not rest:
        return ""
    return rest.split("/")[0]


@dataclass(frozen=True)
class AgentView:
    """What Redis and MQTT carry for one agent (the contract the wallboard reads)."""

    agent: str
    state: AgentState
    since: datetime
    reason: str
    queues: tuple[str, ...]
    calls_handled: int

    def fields(self) -> dict[str, str]:
        return {
            "state": self.state.value,
            "since": self.since.astimezone(UTC).isoformat(),
            "reason": self.reason,
            "queues": ",".join(self.queues),
            "calls_handled": str(self.calls_handled),
        }

    def payload(self) -> dict[str, str]:
        return {"agent": self.agent, **self.fields()}


@dataclass
class _Agent:
    configured: tuple[str, ...]
    queues: dict[str, None] = field(default_factory=dict)  # ordered set of member queues
    paused: dict[str, str] = field(default_factory=dict)  # queue -> reason code
    device: int = 0
    ringing: bool = False
    connected: bool = False  # AgentConnect .. AgentComplete
    in_call_queues: set[str] = field(default_factory=set)  # InCall=1: the queue of the call
    last_call: float = 0.0
    last_queue: str = ""
    member_wrapup: int = 0
    calls: int = 0
    view: AgentView | None = None


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class AgentBook:
    """Every agent's state; feed() events, tick() the clock, views() to publish.

    Each method returns the views that changed, to be written and published.
    """

    def __init__(
        self,
        configured: Mapping[str, Iterable[str]],
        wrapup_seconds: Callable[[str], int],
        tz: ZoneInfo,
    ) -> None:
        self._wrapup = wrapup_seconds
        self._tz = tz
        self._agents = {a: _Agent(tuple(q)) for a, q in configured.items()}
        self._day: date | None = None
        self._ticked = float("-inf")  # when tick() last looked at every agent

    # ---- input -------------------------------------------------------------
    def feed(self, event: Mapping[str, str], now: datetime) -> list[AgentView]:
        name = event.get("Event", "")
        agent_id = agent_of(event)
        if not agent_id:
            return self.tick(now)
        a = self._agent(agent_id)
        queue = queue_from_asterisk(event.get("Queue", ""))
        if name in MEMBER_EVENTS:
            self._member(a, queue, event)
        elif name == "QueueMemberRemoved":
            a.queues.pop(queue, None)
            a.paused.pop(queue, None)
            a.in_call_queues.discard(queue)
            if not a.queues:
                a.ringing = False
        elif name == "AgentCalled":
            a.ringing = True
        elif name in ("AgentRingNoAnswer", "AgentDump"):
            a.ringing = False
        elif name == "AgentConnect":
            a.ringing, a.connected = False, True
            a.last_queue = queue
            a.calls += 1
        elif name == "AgentComplete":
            a.ringing, a.connected = False, False
            a.in_call_queues.clear()
            a.last_call = max(a.last_call, now.timestamp())
            a.last_queue = queue
        return self._changes(now, only=[agent_id]) + self.tick(now)

    def _member(self, a: _Agent, queue: str, event: Mapping[str, str]) -> None:
        a.queues[queue] = None
        if event.get("Paused") == "1":
            reason = event.get("PausedReason", "")
            a.paused[queue] = NO_ANSWER.code if reason == APP_QUEUE_AUTO_PAUSE else reason
        else:
            a.paused.pop(queue, None)
        a.device = _int(event.get("Status"))
        if event.get("InCall") == "1":
            a.in_call_queues.add(queue)
        else:
            a.in_call_queues.discard(queue)
        if a.device not in DEVICE_IN_CALL and not a.in_call_queues:
            a.connected = False  # a missed AgentComplete must not leave the agent on a call
        if a.device not in DEVICE_RINGING and not self._in_call(a):
            a.ringing = False
        last = float(_int(event.get("LastCall")))
        if last > a.last_call:
            a.last_call, a.last_queue = last, ""
        a.member_wrapup = _int(event.get("Wrapuptime"))

    def tick(self, now: datetime) -> list[AgentView]:
        """Wrap-ups that ended, and the calls-handled count back to 0 at local midnight."""
        today = now.astimezone(self._tz).date()
        new_day = self._day is not None and today != self._day
        if new_day:
            for a in self._agents.values():
                a.calls = 0
        self._day = today
        if not new_day and 0 <= now.timestamp() - self._ticked < TICK_SECONDS:
            return []
        self._ticked = now.timestamp()
        return self._changes(now)

    def rebuild(
        self,
        members: Iterable[Mapping[str, str]],
        now: datetime,
        *,
        previous: Mapping[str, Mapping[str, str]] | None = None,
        calls_today: Mapping[str, int] | None = None,
    ) -> list[AgentView]:
        """Start again from app_queue's own view (QueueStatus → QueueMember events).

        previous: the Redis hashes, if they survived (their `since` is kept when the
        state did not change); calls_today: answered calls per agent from the call records.
        """
        previous = previous or {}
        calls_today = calls_today or {}
        self._agents = {k: _Agent(a.configured) for k, a in self._agents.items()}
        self._day = now.astimezone(self._tz).date()
        for ev in members:
            agent_id = agent_of(ev)
            if agent_id and ev.get("Event", "QueueMember") in MEMBER_EVENTS:
                self._member(self._agent(agent_id), queue_from_asterisk(ev.get("Queue", "")), ev)
        out = []
        for agent_id, a in self._agents.items():
            a.calls = calls_today.get(agent_id, 0) + (1 if a.in_call_queues else 0)
            state, reason = self._state(a, now)
            before = previous.get(agent_id, {})
            since = now
            if before.get("state") == state.value:
                with contextlib.suppress(KeyError, ValueError):
                    since = datetime.fromisoformat(before["since"])
            a.view = AgentView(agent_id, state, since, reason, self._queues(a), a.calls)
            out.append(a.view)
        return out

    # ---- output ------------------------------------------------------------
    def views(self) -> list[AgentView]:
        return [a.view for a in self._agents.values() if a.view is not None]

    def view(self, agent_id: str) -> AgentView | None:
        a = self._agents.get(agent_id)
        return a.view if a else None

    def _agent(self, agent_id: str) -> _Agent:
        if agent_id not in self._agents:
            self._agents[agent_id] = _Agent(())
        return self._agents[agent_id]

    @staticmethod
    def _in_call(a: _Agent) -> bool:
        return a.connected or bool(a.in_call_queues)

    def _wrap_until(self, a: _Agent) -> float:
        if not a.last_call:
            return 0.0
        if a.member_wrapup:
            seconds = a.member_wrapup
        elif a.last_queue:
            seconds = self._wrapup(a.last_queue)
        else:  # after a rebuild the queue of the last call is unknown: the longest
            seconds = max((self._wrapup(q) for q in a.queues), default=0)
        return a.last_call + seconds

    def _state(self, a: _Agent, now: datetime) -> tuple[AgentState, str]:
        if not a.queues:
            return AgentState.LOGGED_OUT, ""
        if self._in_call(a) or a.device in DEVICE_IN_CALL:
            return AgentState.ON_CALL, ""
        if a.ringing or a.device in DEVICE_RINGING:
            return AgentState.RINGING, ""
        if a.device in DEVICE_UNREACHABLE:
            return AgentState.UNREACHABLE, ""
        if (
            a.paused and a.paused.keys() >= a.queues.keys()
        ):  # paused in one queue still serves others
            return AgentState.PAUSED, next(iter(a.paused.values()))
        if now.timestamp() < self._wrap_until(a):
            return AgentState.WRAP_UP, ""
        return AgentState.AVAILABLE, ""

    def _queues(self, a: _Agent) -> tuple[str, ...]:
        """Member queues (configured ones first, in their order); configured ones when out."""
        if not a.queues:
            return a.configured
        order = {q: i for i, q in enumerate(a.configured)}
        return tuple(sorted(a.queues, key=lambda q: (order.get(q, len(order)), q)))

    def _changes(self, now: datetime, only: Iterable[str] | None = None) -> list[AgentView]:
        out = []
        for agent_id in only if only is not None else list(self._agents):
            a = self._agents[agent_id]
            state, reason = self._state(a, now)
            old = a.view
            since = old.since if old is not None and old.state == state else now
            new = AgentView(agent_id, state, since, reason, self._queues(a), a.calls)
            if new != old:
                a.view = new
                out.append(new)
        return out

    def next_wakeup(self, now: datetime) -> float | None:
        """Seconds until the next wrap-up ends (None when no agent is in wrap-up)."""
        ends = [
            self._wrap_until(a) - now.timestamp()
            for a in self._agents.values()
            if a.view is not None and a.view.state is AgentState.WRAP_UP
        ]
        return max(0.0, min(ends)) if ends else None
