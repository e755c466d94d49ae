"""Live numbers per queue from AMI queue events: a pure computation, no I/O.

Feed AMI event dicts in arrival order (`LiveStats.feed`), read `snapshot(now)`.
A call's wait is measured from when it first joined a queue (the 20-second clock of
DESIGN.md), so a caller who overflows from a type's queue to the general queue keeps
the wait already spent. "total" counts each call once, whatever queues it passed.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.acd.errors import MalformedEvent
from hotline.kernel.masking import mask_number
from hotline.kernel.names import queue_from_asterisk

log = logging.getLogger(__name__)

TOTAL = "total"
ANSWERED, ABANDONED, LEFT = "answered", "abandoned", "left"
OUTCOMES = (ANSWERED, ABANDONED, LEFT)
QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # safe in a Redis key and an MQTT topic
TRACK_HOURS = 6  # a call we heard nothing of for this long is forgotten


@dataclass
class Waiting:
    uniqueid: str
    caller: str  # already masked: the full number is never kept here
    since: float  # when the call first joined a queue


@dataclass
class Counters:
    """Today's figures of one queue, kept as sums so that they survive a restart."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    left: int = 0  # left the queue unanswered: overflow to another queue, callback
    answered_within: dict[str, int] = field(default_factory=dict)  # threshold (s) -> calls
    answer_wait_total: float = 0.0
    completed: int = 0  # AgentComplete seen: calls with a known talk time
    talk_total: float = 0.0

    def outcome(self, kind: str, wait: float, thresholds: Iterable[int]) -> None:
        if kind == ANSWERED:
            self.answered += 1
            self.answer_wait_total += wait
            for t in thresholds:
                if wait <= t:
                    self.answered_within[str(t)] = self.answered_within.get(str(t), 0) + 1
        elif kind == ABANDONED:
            self.abandoned += 1
        else:
            self.left += 1

    def talk(self, seconds: float) -> None:
        self.completed += 1
        self.talk_total += seconds

    def merge(self, other: Counters) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.left += other.left
        for t, n in other.answered_within.items():
            self.answered_within[t] = self.answered_within.get(t, 0) + n
        self.answer_wait_total += other.answer_wait_total
        self.completed += other.completed
        self.talk_total += other.talk_total


@dataclass
class QueueStats:
    name: str
    day: str = ""
    today: Counters = field(default_factory=Counters)
    waiting: dict[str, Waiting] = field(default_factory=dict)  # by Uniqueid, in join order
    # for the sliding window: join times, (time, outcome, wait), (time, talk seconds)
    joins: deque[float] = field(default_factory=deque)
    outcomes: deque[tuple[float, str, float]] = field(default_factory=deque)
    talks: deque[tuple[float, float]] = field(default_factory=deque)

    def state(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "today": self.today.__dict__,
            "joins": list(self.joins),
            "outcomes": [list(o) for o in self.outcomes],
            "talks": [list(t) for t in self.talks],
        }


@dataclass
class CallTrack:
    """One caller channel on its way through the queues."""

    since: float  # first queue join: the clock start
    caller: str
    queue: str = ""  # the queue it waits in now
    pending: str = ""  # left this queue, outcome not known yet (answer or overflow follows)
    decided: str = ""  # the queue whose outcome is recorded for the current visit
    done: bool = False  # answered or abandoned: "total" has its outcome
    seen: float = 0.0


def _f(event: Mapping[str, str], key: str) -> float:
    raw = event.get(key)
    if raw is None or raw == "":
        raise MalformedEvent(f"no {key}")
    try:
        value = float(raw)
    except ValueError:
        raise MalformedEvent(f"{key} {raw!r} is not a number") from None
    if value != value or value < 0:  # NaN or negative
        raise MalformedEvent(f"{key} {raw!r} is out of range")
    return value


def _s(event: Mapping[str, str], key: str) -> str:
    value = event.get(key, "").strip()
    if not value:
        raise MalformedEvent(f"no {key}")
    return value


def _queue_name(event: Mapping[str, str]) -> str:
    name = queue_from_asterisk(_s(event, "Queue"))
    if not QUEUE_NAME_RE.match(name):
        raise MalformedEvent(f"queue name {name!r} not allowed")
    return name


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _avg(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


class LiveStats:
    def __init__(
        self,
        *,
        thresholds: Iterable[int] = (15, 20),
        target_percent: float = 95.0,
        window_seconds: float = 900.0,
        tz: ZoneInfo | None = None,
        queues: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.thresholds = sorted(thresholds)
        self.target_percent = target_percent
        self.window = window_seconds
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        self.clock = clock
        self.queues: dict[str, QueueStats] = {}
        for name in queues:
            self._queue(name)
        self.total = QueueStats(TOTAL)
        self.calls: dict[str, CallTrack] = {}
        self.skipped_events = 0
        self._handlers: dict[str, Callable[[Mapping[str, str], float], set[str]]] = {
            "QueueCallerJoin": self._on_join,
            "QueueCallerLeave": self._on_leave,
            "QueueCallerAbandon": self._on_abandon,
            "AgentConnect": self._on_connect,
            "AgentComplete": self._on_complete,
            "Hangup": self._on_hangup,
        }

    # ---- events -----------------------------------------------------------
    def feed(self, event: Mapping[str, str]) -> set[str]:
        """Apply one AMI event; the names of the queues whose numbers changed.

        A malformed event is logged and skipped; it changes nothing.
        """
        kind = event.get("Event", "")
        handler = self._handlers.get(kind)
        if handler is None:
            return set()
        try:
            at = _f(event, "Timestamp") if "Timestamp" in event else self.clock()
            return handler(event, at)
        except MalformedEvent as exc:
            self.skipped_events += 1
            log.warning("skipped malformed AMI %s event (%s): %s", kind, exc, _brief(event))
            return set()

    def _queue(self, name: str) -> QueueStats:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = QueueStats(name)
        return q

    def _roll(self, q: QueueStats, at: float) -> None:
        """'Today' starts again at local midnight."""
        day = datetime.fromtimestamp(at, self.tz).date().isoformat()
        if q.day != day:
            if q.day and q.day > day:
                return  # a late event from yesterday: counted in today
            q.day, q.today = day, Counters()

    def _outcome(self, q: QueueStats, kind: str, at: float, wait: float) -> None:
        self._roll(q, at)
        q.today.outcome(kind, wait, self.thresholds)
        q.outcomes.append((at, kind, wait))

    def _total_outcome(self, track: CallTrack | None, kind: str, at: float, wait: float) -> None:
        if track is None or not track.done:
            self._outcome(self.total, kind, at, wait)
        if track is not None:
            track.done = kind != LEFT

    def _resolve_pending(self, track: CallTrack, at: float) -> set[str]:
        """A call left a queue and went on without an answer there: it left unanswered."""
        if not track.pending:
            return set()
        name, track.pending = track.pending, ""
        self._outcome(self._queue(name), LEFT, at, at - track.since)
        return {name}

    def _on_join(self, event: Mapping[str, str], at: float) -> set[str]:
        name, uid = _queue_name(event), _s(event, "Uniqueid")
        caller = mask_number(event.get("CallerIDNum", ""))
        track = self.calls.get(uid)
        changed = {name, TOTAL}
        if track is None or track.done:  # a new call (or a transfer after an answer)
            track = self.calls[uid] = CallTrack(since=at, caller=caller)
            self._roll(self.total, at)
            self.total.today.offered += 1
            self.total.joins.append(at)
        # back in the same queue (a widening step, a callback not taken): the same visit
        rejoined = track.pending == name
        if rejoined:
            track.pending = ""
        changed |= self._resolve_pending(track, at)
        track.queue, track.decided, track.seen = name, "", at
        self.total.waiting[uid] = Waiting(uid, caller, track.since)
        q = self._queue(name)
        if uid in q.waiting or rejoined:  # known already: not offered twice
            q.waiting[uid] = Waiting(uid, caller, track.since)
            return changed
        self._roll(q, at)
        q.today.offered += 1
        q.joins.append(at)
        q.waiting[uid] = Waiting(uid, caller, track.since)
        return changed

    def _on_leave(self, event: Mapping[str, str], at: float) -> set[str]:
        name, uid = _queue_name(event), _s(event, "Uniqueid")
        self._queue(name).waiting.pop(uid, None)
        self.total.waiting.pop(uid, None)
        track = self.calls.get(uid)
        if track is not None:
            track.seen = at
            if track.queue == name:
                track.queue = ""
            if track.decided != name:  # answered (AgentConnect follows) or overflowed
                track.pending = name
        return {name, TOTAL}

    def _on_abandon(self, event: Mapping[str, str], at: float) -> set[str]:
        return self._on_outcome(event, at, ABANDONED)

    def _on_connect(self, event: Mapping[str, str], at: float) -> set[str]:
        return self._on_outcome(event, at, ANSWERED)

    def _on_outcome(self, event: Mapping[str, str], at: float, outcome: str) -> set[str]:
        """The caller left the queue answered or abandoned: counted in it and in the total."""
        name, uid = _queue_name(event), _s(event, "Uniqueid")
        track = self.calls.get(uid)
        wait = at - track.since if track else _f(event, "HoldTime")
        q = self._queue(name)
        q.waiting.pop(uid, None)
        self.total.waiting.pop(uid, None)
        self._outcome(q, outcome, at, wait)
        self._total_outcome(track, outcome, at, wait)
        if track is not None:
            track.decided, track.pending, track.seen = name, "", at
        return {name, TOTAL}

    def _on_complete(self, event: Mapping[str, str], at: float) -> set[str]:
        name, talk = _queue_name(event), _f(event, "TalkTime")
        for q in (self._queue(name), self.total):
            self._roll(q, at)
            q.today.talk(talk)
            q.talks.append((at, talk))
        return {name, TOTAL}

    def _on_hangup(self, event: Mapping[str, str], at: float) -> set[str]:
        track = self.calls.pop(event.get("Uniqueid", ""), None)
        if track is None:
            return set()
        changed = self._resolve_pending(track, at)
        if track.queue:  # QueueCallerAbandon never came: an abandon all the same
            q = self._queue(track.queue)
            if q.waiting.pop(event["Uniqueid"], None) is not None:
                self._outcome(q, ABANDONED, at, at - track.since)
                changed.add(q.name)
        self.total.waiting.pop(event["Uniqueid"], None)
        if not track.done:
            kind = ABANDONED if track.queue else LEFT
            self._total_outcome(track, kind, at, at - track.since)
        return changed | {TOTAL}

    # ---- rebuilding -------------------------------------------------------
    def rebuild_waiting(self, entries: Iterable[Mapping[str, str]], now: float) -> None:
        """Who waits now, from AMI QueueStatus's QueueEntry events (at start, after a
        reconnect). Counters are not touched: those calls were counted when they joined."""
        for q in [*self.queues.values(), self.total]:
            q.waiting.clear()
        for entry in entries:
            if entry.get("Event") != "QueueEntry":
                continue
            try:
                name, uid = _queue_name(entry), _s(entry, "Uniqueid")
                wait = _f(entry, "Wait")
            except MalformedEvent as exc:
                log.warning("skipped malformed QueueEntry (%s): %s", exc, _brief(entry))
                continue
            caller = mask_number(entry.get("CallerIDNum", ""))
            track = self.calls.get(uid)
            if track is None or track.done:
                track = self.calls[uid] = CallTrack(since=now - wait, caller=caller)
            track.queue, track.pending, track.seen = name, "", now
            self._queue(name).waiting[uid] = Waiting(uid, caller, track.since)
            self.total.waiting[uid] = Waiting(uid, caller, track.since)
        for uid, track in list(self.calls.items()):
            if track.queue and uid not in self.total.waiting:
                del self.calls[uid]  # gone while we did not listen

    def state(self) -> dict[str, Any]:
        """What must survive a restart of the service (waiting callers come from AMI)."""
        return {name: q.state() for name, q in [*self.queues.items(), (TOTAL, self.total)]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Add a stored state to what is here (the service may have counted calls
        while Redis was down). A malformed queue entry is logged and skipped."""
        for name, raw in state.items():
            try:
                today = Counters(**raw["today"])
                day = str(raw["day"])
                joins = [float(j) for j in raw["joins"]]
                outcomes = [(float(a), str(k), float(w)) for a, k, w in raw["outcomes"]]
                talks = [(float(a), float(t)) for a, t in raw["talks"]]
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("stored live numbers of queue %s unreadable (%s); skipped", name, exc)
                continue
            q = self.total if name == TOTAL else self._queue(name)
            if not q.day or q.day == day:
                q.today.merge(today)
                q.day = day
            elif q.day < day:
                q.day, q.today = day, today
            q.joins = deque(sorted([*q.joins, *joins]))
            q.outcomes = deque(sorted([*q.outcomes, *outcomes]))
            q.talks = deque(sorted([*q.talks, *talks]))

    # ---- reading ----------------------------------------------------------
    def prune(self, now: float) -> None:
        start = now - self.window
        for q in [*self.queues.values(), self.total]:
            self._roll(q, now)
            while q.joins and q.joins[0] < start:
                q.joins.popleft()
            while q.outcomes and q.outcomes[0][0] < start:
                q.outcomes.popleft()
            while q.talks and q.talks[0][0] < start:
                q.talks.popleft()
        stale = now - TRACK_HOURS * 3600
        for uid in [u for u, t in self.calls.items() if t.seen < stale and not t.queue]:
            del self.calls[uid]

    def _figures(self, q: QueueStats, c: Counters, now: float) -> dict[str, Any]:
        waits = [now - w.since for w in q.waiting.values()]
        finished = c.answered + c.abandoned + c.left
        within = {str(t): c.answered_within.get(str(t), 0) for t in self.thresholds}
        service_level = {}
        for t in self.thresholds:
            # a caller still waiting past t is already a miss; one within t is not judged yet
            judged = finished + sum(1 for w in waits if w > t)
            service_level[str(t)] = _pct(within[str(t)], judged)
        return {
            "offered": c.offered,
            "answered": c.answered,
            "abandoned": c.abandoned,
            "left": c.left,
            # the raw counts, so that a reader can compute a service level over any interval
            "answered_within": within,
            "service_level": service_level,
            "asa_seconds": _avg(c.answer_wait_total, c.answered),
            "aht_seconds": _avg(c.talk_total, c.completed),
        }

    def _window(self, q: QueueStats, now: float) -> Counters:
        start = now - self.window
        c = Counters(offered=sum(1 for j in q.joins if j >= start))
        for at, kind, wait in q.outcomes:
            if at >= start:
                c.outcome(kind, wait, self.thresholds)
        for at, talk in q.talks:
            if at >= start:
                c.talk(talk)
        return c

    def snapshot(self, name: str, now: float | None = None) -> dict[str, Any]:
        """The numbers of one queue (or "total") as published: JSON-ready, numbers masked."""
        now = self.clock() if now is None else now
        q = self.total if name == TOTAL else self._queue(name)
        self._roll(q, now)
        window = self._figures(q, self._window(q, now), now)
        below = [
            int(t)
            for t, sl in window["service_level"].items()
            if sl is not None and sl < self.target_percent
        ]
        callers: list[dict[str, Any]] = [
            {
                "caller": w.caller,
                "wait_seconds": int(now - w.since),
                "position": i,
                "call": w.uniqueid,
            }
            for i, w in enumerate(sorted(q.waiting.values(), key=lambda w: w.since), start=1)
        ]
        return {
            "queue": name,
            "day": q.day,
            "waiting": len(callers),
            "longest_wait_seconds": max((int(c["wait_seconds"]) for c in callers), default=0),
            "callers": callers,
            "today": self._figures(q, q.today, now),
            "window": window,
            "window_minutes": round(self.window / 60),
            "thresholds": self.thresholds,
            "target_percent": self.target_percent,
            "below_target": below,
        }

    def names(self) -> list[str]:
        return list(self.queues)


def _brief(event: Mapping[str, str]) -> str:
    """An event for a log line: its identifying fields, numbers masked."""
    keep = ("Event", "Queue", "Uniqueid", "Timestamp", "HoldTime", "TalkTime", "Wait")
    parts = [f"{k}={event[k]!r}" for k in keep if k in event]
    if "CallerIDNum" in event:
        parts.append(f"CallerIDNum={mask_number(event['CallerIDNum'])!r}")
    return " ".join(parts)
