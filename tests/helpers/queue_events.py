"""AMI queue events made by hand (app_queue's, as Asterisk 22 sends them), and live
numbers to feed them to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.acd.live_stats import LiveStats

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=TZ).timestamp()


def stats() -> LiveStats:
    return LiveStats(thresholds=[15, 20], target_percent=95, window_seconds=900, tz=TZ)


def ev(kind: str, at: float, uid: str = "", queue: str = "", **fields: str) -> dict[str, str]:
    e = {"Event": kind, "Timestamp": f"{at:.6f}", **fields}
    if uid:
        e["Uniqueid"] = uid
    if queue:
        e["Queue"] = f"hotline-{queue}"
    return e


def join(at: float, uid: str, queue: str, number: str = "13800138000") -> dict[str, str]:
    return ev("QueueCallerJoin", at, uid, queue, CallerIDNum=number, Position="1")


def leave(at: float, uid: str, queue: str) -> dict[str, str]:
    return ev("QueueCallerLeave", at, uid, queue)


def answer(at: float, uid: str, queue: str, hold: int = 0) -> list[dict[str, str]]:
    # app_queue sends QueueCallerLeave just before AgentConnect
    return [
        leave(at, uid, queue),
        ev("AgentConnect", at, uid, queue, MemberName="1001", HoldTime=str(hold)),
    ]


def abandon(at: float, uid: str, queue: str) -> list[dict[str, str]]:
    return [ev("QueueCallerAbandon", at, uid, queue, HoldTime="0"), leave(at, uid, queue)]


def feed(s: LiveStats, *events: dict[str, str] | list[dict[str, str]]) -> None:
    for e in events:
        for one in e if isinstance(e, list) else [e]:
            s.feed(one)
