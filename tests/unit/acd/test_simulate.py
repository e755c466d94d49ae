"""The simulation's two service levels: the system's (the change in the live numbers over
the run) and the one recomputed from the call records, from the same AMI events."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, create_engine

from hotline.acd.errors import LiveNumbersError
from hotline.acd.live_stats import LiveStats
from hotline.acd.simulate import Judged, LiveFigures, Plan, await_live, live_delta, outcome
from hotline.crm_bridge.assembler import CallAssembler
from hotline.crm_bridge.service import store_call
from hotline.workorders.calendar import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=TZ).timestamp()
PREFIX = "19912345"


def call(
    uid: str, number: str, joined: float, *, answered: float | None, ended: float
) -> list[dict[str, str]]:
    """One caller channel's AMI events into the general queue, as Asterisk sends them."""

    def ev(kind: str, at: float, **fields: str) -> dict[str, str]:
        return {
            "Event": kind,
            "Timestamp": f"{at:.6f}",
            "Uniqueid": uid,
            "Linkedid": uid,
            "CallerIDNum": number,
            **fields,
        }

    q = {"Queue": "hotline-general"}
    events = [ev("Newchannel", joined - 4), ev("QueueCallerJoin", joined, Position="1", **q)]
    if answered is not None:
        hold = str(int(answered - joined))
        events += [
            ev("QueueCallerLeave", answered, **q),
            ev("AgentConnect", answered, MemberName="sim01", HoldTime=hold, **q),
            ev("AgentComplete", ended, TalkTime=str(int(ended - answered)), **q),
        ]
    else:
        events += [
            ev("QueueCallerAbandon", ended, HoldTime=str(int(ended - joined)), **q),
            ev("QueueCallerLeave", ended, **q),
        ]
    return [*events, ev("Hangup", ended, Cause="16")]


# Someone else's calls earlier today: in the live numbers before the run, not ours.
EARLIER = [
    *call("e.1", "13800138001", T0, answered=T0 + 30, ended=T0 + 60),
    *call("e.2", "13800138002", T0 + 10, answered=None, ended=T0 + 25),
]
S = T0 + 1000  # the simulation starts
OURS = [
    *call("s.1", f"{PREFIX}0000", S, answered=S + 2.5, ended=S + 9),
    *call("s.2", f"{PREFIX}0001", S + 1.25, answered=S + 16.25, ended=S + 20),  # exactly 15 s
    *call("s.3", f"{PREFIX}0002", S + 2.5, answered=S + 20.75, ended=S + 30),  # 18.25 s
    *call("s.4", f"{PREFIX}0003", S + 3, answered=None, ended=S + 11),  # abandoned
    *call("s.5", f"{PREFIX}0004", S + 4, answered=S + 25.5, ended=S + 40),  # 21.5 s
]


def figures(live: LiveStats, now: float) -> LiveFigures:
    # through JSON, as the simulation reads them from Redis
    return LiveFigures.from_snapshot(json.loads(json.dumps(live.snapshot("general", now))))


def records(events: list[dict[str, str]]) -> Engine:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    asm = CallAssembler()
    with Session(engine) as s:
        for e in events:
            if (done := asm.feed(e)) is not None:
                store_call(s, done, tenant="nanning", calendar=WorkCalendar(), tz=TZ)
        s.commit()
    return engine


@pytest.mark.parametrize(("target", "within"), [(15, 2), (20, 3)])
def test_the_system_and_the_call_records_give_the_same_service_level(
    target: int, within: int
) -> None:
    live = LiveStats(thresholds=[15, 20], tz=TZ)
    for e in EARLIER:
        live.feed(e)
    before = figures(live, S - 1)
    for e in OURS:
        live.feed(e)
    after = figures(live, S + 60)
    engine = records(EARLIER + OURS)

    plan = Plan(agents=1, calls_per_hour=900, aht_seconds=5, minutes=0.1, target_seconds=target)
    got = outcome(engine, plan, PREFIX, offered=5, wait=0, live_before=before, read=lambda: after)
    # wait <= target on both sides: the 15.0 s caller is in time at 15 s
    assert got.records == Judged(finished=5, within=within)
    assert got.system == got.records and got.other_calls == 0 and not got.disagrees
    assert (got.offered, got.answered, got.abandoned, got.unaccounted) == (5, 4, 1, 0)
    assert f"answered within {target} s {within} of 5 finished ({within / 5:.1%})" in got.table()


def test_the_delta_is_over_the_run_only() -> None:
    before = LiveFigures(day="2026-11-24", offered=7, finished=6, answered_within={"20": 4})
    after = LiveFigures(day="2026-11-24", offered=12, finished=11, answered_within={"20": 8})
    assert live_delta(before, after, 20) == (5, Judged(finished=5, within=4))
    assert live_delta(before, after, 20.0)[1].percent() == "80.0%"


def test_another_callers_call_in_the_queue_is_named_not_hidden() -> None:
    live = LiveStats(thresholds=[15, 20], tz=TZ)
    before = figures(live, S - 1)
    stranger = call("x.1", "13800138009", S + 1, answered=S + 40, ended=S + 50)
    for e in OURS + stranger:
        live.feed(e)
    got = outcome(
        records(OURS + stranger),
        Plan(1, 900, 5, 0.1, 20),
        PREFIX,
        offered=5,
        wait=0,
        live_before=before,
        read=lambda: figures(live, S + 60),
    )
    assert got.system == Judged(finished=6, within=3) and got.records == Judged(5, 3)
    assert got.other_calls == 1 and not got.disagrees
    assert "1 other call(s) joined queue general" in got.table()


def test_a_change_of_day_or_a_threshold_not_reported_is_refused() -> None:
    before = LiveFigures(day="2026-11-24", offered=7, finished=6, answered_within={"20": 4})
    next_day = LiveFigures(day="2026-11-25", offered=1, finished=1, answered_within={"20": 1})
    with pytest.raises(LiveNumbersError, match="the day changed during the run"):
        live_delta(before, next_day, 20)
    with pytest.raises(LiveNumbersError, match=r"no 30 s service level \(.*: 20\)"):
        live_delta(before, before, 30)
    older = {"offered": 1, "answered": 1, "abandoned": 0, "left": 0, "service_level": {}}
    with pytest.raises(LiveNumbersError, match="without 'answered_within'"):
        LiveFigures.from_snapshot({"day": "2026-11-24", "today": older})


def test_waiting_for_the_live_numbers_to_catch_up_is_bounded() -> None:
    before = LiveFigures(day="2026-11-24", offered=0, finished=0, answered_within={"20": 0})
    late = LiveFigures(day="2026-11-24", offered=3, finished=2, answered_within={"20": 2})
    done = LiveFigures(day="2026-11-24", offered=3, finished=3, answered_within={"20": 3})
    reads = iter([late, late, done])
    assert await_live(lambda: next(reads), before, 3, timeout=5, poll=0) == done
    with pytest.raises(LiveNumbersError, match=r"did not count .* 3 call\(s\) .* \(3 offered, 2"):
        await_live(lambda: late, before, 3, timeout=0.05, poll=0.01)

    def down() -> LiveFigures:
        raise LiveNumbersError("Redis 127.0.0.1:6379: connection refused")

    with pytest.raises(LiveNumbersError, match="connection refused"):
        await_live(down, before, 3, timeout=0.05, poll=0.01)
