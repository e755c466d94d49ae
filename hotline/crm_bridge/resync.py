"""After the AMI link comes back: make the open calls agree with Asterisk's live channels.

Pure logic over the assembler's state and a `CoreShowChannels` listing. The bridge
(crm_bridge/worker.py) takes the channels it believes alive *before* it asks for
the listing, then processes every event that arrived meanwhile, then calls plan():

- a channel believed alive that is neither in the listing nor hung up since is gone:
  it hung up while we were away, and gets a Hangup at the call's true end time when
  Asterisk's CDR has it (the caller's leg's end), else at the last event we saw;
- a channel in the listing we never heard of (created while we were away) gets a
  Newchannel dated from its age in the listing, so that its call starts when it did.

A call whose caller's channel is gone because Asterisk itself restarted (killed, crashed)
since the call began is *cut*: Asterisk died with it, so no CDR has its end either.
cut_ends() finds them, by Asterisk's start time (asterisk_started(), from the Uptime of the
FullyBooted that opens each AMI session); their Hangup says CUT_CAUSE and comes at the
moment the bridge last heard of the old Asterisk (worker.py), or the call's last event if
that is later.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline.crm_bridge.assembler import CallState
from hotline.crm_bridge.cdr import CdrRow

RESYNC_MARK = "HotlineResync"  # on the events we make up, so that the journal shows them
CUT_CAUSE = "cut: Asterisk restarted"  # the hang-up cause text of a call cut by a restart


@dataclass
class Plan:
    hangups: dict[str, set[str]] = field(default_factory=dict)  # linkedid -> channels gone
    new_channels: list[dict[str, str]] = field(default_factory=list)

    @property
    def closing(self) -> list[str]:
        return sorted(self.hangups)


def believed_alive(calls: Mapping[str, CallState]) -> dict[str, set[str]]:
    """Each open call's channels we think are up; the caller's unless we saw it hang up."""
    out = {}
    for linkedid, st in calls.items():
        alive = set(st.live)
        if st.caller_gone_at is None:
            alive.add(linkedid)
        out[linkedid] = alive - st.gone
    return out


def _duration(text: str) -> timedelta:
    """CoreShowChannel's Duration, HH:MM:SS."""
    try:
        h, m, s = (int(x) for x in text.split(":"))
    except ValueError:
        return timedelta(0)
    return timedelta(hours=h, minutes=m, seconds=s)


def plan(
    before: Mapping[str, set[str]],
    calls: Mapping[str, CallState],
    listing: Iterable[Mapping[str, str]],
    *,
    finished: Collection[str],
    now: datetime,
) -> Plan:
    """What to feed the assembler so that its open calls match the listing.

    before: believed_alive() taken before the listing was asked for; calls: the
    assembler's calls now; finished: Linkedids the assembler finished lately.
    """
    rows = [r for r in listing if r.get("Event") == "CoreShowChannel" and r.get("Uniqueid")]
    up = {r["Uniqueid"] for r in rows}
    result = Plan()
    for linkedid, channels in before.items():
        st = calls.get(linkedid)
        if st is None:  # finished by the events that came in meanwhile
            continue
        gone = {u for u in channels - up if u not in st.gone}
        if gone:
            result.hangups[linkedid] = gone
    for r in rows:
        linkedid, uniqueid = r.get("Linkedid", ""), r["Uniqueid"]
        if not linkedid or linkedid in finished:
            continue
        st = calls.get(linkedid)
        if st is not None and (uniqueid in st.live or uniqueid in st.gone):
            continue
        born = now - _duration(r.get("Duration", ""))
        result.new_channels.append(
            {
                "Event": "Newchannel",
                "Linkedid": linkedid,
                "Uniqueid": uniqueid,
                "Channel": r.get("Channel", ""),
                "CallerIDNum": r.get("CallerIDNum", ""),
                "CallerIDName": r.get("CallerIDName", ""),
                "Timestamp": f"{born.timestamp():.6f}",
                RESYNC_MARK: "listed",
            }
        )
    return result


def asterisk_started(booted: Mapping[str, str], now: datetime) -> datetime | None:
    """When Asterisk started: `now` (the FullyBooted's arrival) less its Uptime in seconds;
    None when the event has no Uptime."""
    try:
        return now - timedelta(seconds=int(booted.get("Uptime", "")))
    except ValueError:
        return None


def cut_ends(
    p: Plan,
    calls: Mapping[str, CallState],
    ends: Mapping[str, datetime],
    *,
    started: datetime | None,
    heard: datetime | None,
) -> dict[str, datetime]:
    """The closing calls that Asterisk's restart cut, and when each ended.

    Cut: the caller's channel is among the gone, the call began before this Asterisk
    started, and the CDR has no end for it (Asterisk died before writing one). The end is
    when the bridge last heard of the Asterisk before (`heard`; never after this one
    started), or the call's last event if later: the call lasted at least that long.
    """
    if started is None:
        return {}
    out = {}
    for linkedid in p.closing:
        st = calls[linkedid]
        if linkedid in ends or linkedid not in p.hangups[linkedid] or st.first_seen >= started:
            continue
        last = st.last_seen or st.first_seen
        out[linkedid] = last if heard is None else max(last, min(heard, started))
    return out


def end_time(linkedid: str, rows: Iterable[CdrRow]) -> datetime | None:
    """When the call ended by Asterisk's CDR: its caller's leg's end, else its last leg's."""
    rows = [r for r in rows if r.linkedid == linkedid]
    caller = [r.ended for r in rows if r.uniqueid == linkedid]
    if caller:
        return max(caller)
    return max((r.ended for r in rows), default=None)


def hangup_events(
    p: Plan,
    calls: Mapping[str, CallState],
    ends: Mapping[str, datetime],
    cut: Mapping[str, datetime] | None = None,
) -> list[dict[str, str]]:
    """The Hangups of the plan; the caller's last, at the CDR's end or the last event seen;
    a call that was cut (cut_ends) at its cut end, with CUT_CAUSE."""
    cut = cut or {}
    out = []
    for linkedid in p.closing:
        st = calls[linkedid]
        when = cut.get(linkedid) or ends.get(linkedid) or st.last_seen or st.first_seen
        was_cut = linkedid in cut
        for uniqueid in sorted(p.hangups[linkedid], key=lambda u: u == linkedid):
            out.append(
                {
                    "Event": "Hangup",
                    "Linkedid": linkedid,
                    "Uniqueid": uniqueid,
                    "Timestamp": f"{when.timestamp():.6f}",
                    "Cause-txt": CUT_CAUSE if was_cut else "",
                    RESYNC_MARK: "cut" if was_cut else "gone",
                }
            )
    return out
