"""Emergency linkage of one call (三方通话 with 110/119/120/122), from its AMI events.

Pure logic, used by the assembler: the dialplan reports each step as a
UserEvent(HotlineLinkage) (hotline/asterisk/templates/extensions.conf.j2 [hotline-linkage-*]):

    start    Seq, Line, Via (ivr, agent, api), Agent     on the citizen's channel
    dial     Seq, Line, Destination (primary, backup)
    result   Seq, Line, Destination, DialStatus          a destination did not answer
    outcome  Seq, Line, Outcome (connected, failed), Destination
    agent    Agent, Line                                 on the agent's channel, before joining
    operator Seq, Line, Destination                      on the operator's channel, before joining

and ConfbridgeJoin / ConfbridgeLeave give each party's times in the call's conference.
Events may come in any order; everything is derived when the call ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CITIZEN, AGENT, OPERATOR = "citizen", "agent", "operator"
# The API's helper leg (acd/linkage.py) only moves the agent: not a call, no record.
HELPER_LEG = "@hotline-linkage-api-"


def is_helper_leg(event: Mapping[str, str]) -> bool:
    channel = event.get("Channel", "")
    return channel.startswith("Local/") and HELPER_LEG in channel


CONNECTED, FAILED, ABANDONED = "connected", "failed", "abandoned"


@dataclass(frozen=True)
class FinishedParty:
    role: str  # citizen, agent, operator
    party: str  # the agent's id, the line; "" for the citizen (the call record has the number)
    joined_at: datetime
    left_at: datetime


@dataclass(frozen=True)
class FinishedLinkage:
    seq: int
    line: str
    via: str  # ivr (the * menu), agent (a feature code on the phone), api
    agent: str
    started_at: datetime
    outcome: str  # connected, failed, abandoned (the citizen hung up while it rang)
    destination: str  # primary or backup when connected
    connected_at: datetime | None
    attempts: tuple[str, ...]  # "primary:BUSY", "backup:ANSWER", in order
    parties: tuple[FinishedParty, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "line": self.line,
            "via": self.via,
            "agent": self.agent,
            "started_at": self.started_at.isoformat(),
            "outcome": self.outcome,
            "destination": self.destination,
            "connected_at": self.connected_at.isoformat() if self.connected_at else None,
            "attempts": list(self.attempts),
            "parties": [
                [p.role, p.party, p.joined_at.isoformat(), p.left_at.isoformat()]
                for p in self.parties
            ],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FinishedLinkage:
        return cls(
            seq=int(d["seq"]),
            line=str(d["line"]),
            via=str(d["via"]),
            agent=str(d["agent"]),
            started_at=datetime.fromisoformat(d["started_at"]),
            outcome=str(d["outcome"]),
            destination=str(d["destination"]),
            connected_at=datetime.fromisoformat(d["connected_at"]) if d["connected_at"] else None,
            attempts=tuple(d["attempts"]),
            parties=tuple(
                FinishedParty(r, p, datetime.fromisoformat(j), datetime.fromisoformat(lft))
                for r, p, j, lft in d["parties"]
            ),
        )


@dataclass
class _Linkage:
    seq: int
    line: str = ""
    via: str = ""
    agent: str = ""
    started_at: datetime | None = None
    tried: list[tuple[datetime, str]] = field(default_factory=list)
    outcome: str = ""
    destination: str = ""
    connected_at: datetime | None = None


def _seq(ev: Mapping[str, str]) -> int:
    try:
        return int(ev.get("Seq", "") or 1)
    except ValueError:
        return 1


@dataclass
class LinkageTracker:
    linkages: dict[int, _Linkage] = field(default_factory=dict)
    roles: dict[str, tuple[str, str]] = field(default_factory=dict)  # uniqueid: (role, party)
    joins: list[tuple[str, datetime]] = field(default_factory=list)  # (uniqueid, when)
    leaves: list[tuple[str, datetime]] = field(default_factory=list)
    gone: dict[str, datetime] = field(default_factory=dict)  # uniqueid: hangup time

    @property
    def active(self) -> bool:
        return bool(self.linkages)

    def user_event(self, ev: Mapping[str, str], when: datetime) -> None:
        step = ev.get("Step", "")
        if step == "agent":
            self.roles[ev.get("Uniqueid", "")] = (AGENT, ev.get("Agent", ""))
            return
        link = self.linkages.setdefault(_seq(ev), _Linkage(seq=_seq(ev)))
        link.line = link.line or ev.get("Line", "")
        if step == "start":
            link.via, link.agent, link.started_at = ev.get("Via", ""), ev.get("Agent", ""), when
        elif step == "result":
            link.tried.append((when, f"{ev.get('Destination', '')}:{ev.get('DialStatus', '')}"))
        elif step == "outcome":
            link.outcome = ev.get("Outcome", "")
            if link.outcome == CONNECTED:
                link.destination = ev.get("Destination", "")
                link.connected_at = when
                link.tried.append((when, f"{link.destination}:ANSWER"))
        elif step == "operator":
            self.roles[ev.get("Uniqueid", "")] = (OPERATOR, link.line)

    def joined(self, ev: Mapping[str, str], when: datetime, *, is_caller: bool) -> None:
        uniqueid = ev.get("Uniqueid", "")
        if is_caller:
            self.roles[uniqueid] = (CITIZEN, "")
        self.joins.append((uniqueid, when))

    def left(self, ev: Mapping[str, str], when: datetime) -> None:
        self.leaves.append((ev.get("Uniqueid", ""), when))

    def hung_up(self, uniqueid: str, when: datetime) -> None:
        self.gone[uniqueid] = when

    def _stays(self, ended: datetime) -> list[tuple[str, datetime, datetime]]:
        """(uniqueid, joined, left): each join paired with the first leave after it."""
        stays = []
        for uniqueid in dict.fromkeys(u for u, _ in self.joins):
            joins = sorted(t for u, t in self.joins if u == uniqueid)
            leaves = sorted(t for u, t in self.leaves if u == uniqueid)
            for i, joined in enumerate(joins):
                until = joins[i + 1] if i + 1 < len(joins) else None
                left = next(
                    (t for t in leaves if t >= joined and (until is None or t <= until)), None
                )
                left = left or self.gone.get(uniqueid) or ended
                stays.append((uniqueid, joined, max(left, joined)))
        return stays

    def finish(self, ended: datetime) -> tuple[FinishedLinkage, ...]:
        order = sorted(self.linkages.values(), key=lambda lk: (lk.started_at or ended, lk.seq))
        starts = [(lk.started_at or ended, lk.seq) for lk in order]
        parties: dict[int, list[FinishedParty]] = {lk.seq: [] for lk in order}
        for uniqueid, joined, left in self._stays(ended):
            role, party = self.roles.get(uniqueid, ("", ""))
            if not role or not order:
                continue
            # the linkage under way when the party joined (the first one, if joined earlier)
            seq = next((s for t, s in reversed(starts) if t <= joined), starts[0][1])
            parties[seq].append(FinishedParty(role, party, joined, left))
        return tuple(
            FinishedLinkage(
                seq=lk.seq,
                line=lk.line,
                via=lk.via,
                agent=lk.agent,
                started_at=lk.started_at or ended,
                outcome=lk.outcome or ABANDONED,
                destination=lk.destination,
                connected_at=lk.connected_at,
                attempts=tuple(a for _, a in sorted(lk.tried, key=lambda t: t[0])),
                parties=tuple(sorted(parties[lk.seq], key=lambda p: (p.joined_at, p.role))),
            )
            for lk in order
        )
