"""The work-order lifecycle, supervision and assessment on a real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from hotline.kernel.db import make_engine, upgrade
from hotline.workorders import assessment, satisfaction, supervision
from hotline.workorders.units import find_unit
from tests.helpers.workorders_env import FixedClock, make_service, sample_units

SH = ZoneInfo("Asia/Shanghai")


def test_lifecycle_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    clock = FixedClock(datetime(2025, 6, 9, 10, tzinfo=SH))
    with Session(engine) as s:
        sample_units(s)
        svc = make_service(s, clock, tmp_path / "sms.jsonl")
        done = svc.create(request_type="complaint", contact="13800000001")
        svc.dispatch(done.number, "agent1", "ga")
        svc.sign(done.number, "ga")
        svc.reply(done.number, "ga", "ok")
        svc.close(done.number, "agent1")
        satisfaction.rate(svc, done.number, "3")
        late = svc.create(request_type="consultation")
        svc.dispatch(late.number, "agent1", "ga")  # due Wed 11 Jun
        s.commit()
        clock.set(datetime(2025, 6, 12, 9, tzinfo=SH))
        assert [n.kind for n in supervision.sweep(svc)] == ["yellow"]
        s.commit()
        s.expire_all()
        score = assessment.score_unit(svc, find_unit(s, "ga"), assessment.month(2025, 6, SH))
        # two orders counted: signing 1/2 (the late one never signed), closing 1/2,
        # satisfaction 0/1, the rest full
        assert score.orders == 2 and score.score == 7.5 + 15 + 10 + 10 + 0 + 5
        assert [e.action for e in svc.events(svc.get(done.number))] == [
            "create",
            "dispatch",
            "sign",
            "reply",
            "close",
            "rate",
        ]
        assert svc.get(late.number).due_at == datetime(2025, 6, 11, 23, 59, 59, tzinfo=SH)
    engine.dispose()
