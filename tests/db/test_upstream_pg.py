"""Upstream sync on a real PostgreSQL: changes captured in the work order's transaction,
delivered once each to the reference receiver, in order per record, versions growing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session, col, select

from hotline.config.settings import Settings
from hotline.crm_bridge.settings import UpstreamSettings
from hotline.crm_bridge.upstream import capture, outbox, wire
from hotline.crm_bridge.upstream.models import UpstreamChange
from hotline.crm_bridge.upstream.receiver import ReceivedStore, create_receiver
from hotline.crm_bridge.upstream.worker import UpstreamSender
from hotline.kernel.db import make_engine, upgrade
from tests.helpers.workorders_env import FixedClock, make_service, sample_units

SECRET = "pg-test-secret"


async def test_upstream_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    capture.set_enabled(True)
    try:
        with Session(engine) as s:
            sample_units(s)
            svc = make_service(s, FixedClock(datetime(2026, 11, 24, 2, tzinfo=UTC)), tmp_path)
            order = svc.create(request_type="report", content="占道经营")
            s.commit()
            svc.dispatch(order.number, "agent1", "ga")
            svc.sign(order.number, "ga")
            s.commit()
            number = order.number
    finally:
        capture.set_enabled(None)
    with Session(engine) as s:
        rows = s.exec(select(UpstreamChange).order_by(col(UpstreamChange.id))).all()
    # create; dispatch and sign in one transaction, but two flushes: two versions
    assert [json.loads(r.data)["status"] for r in rows] == ["accepted", "dispatched", "signed"]

    store = ReceivedStore(tmp_path / "received.db")
    settings = Settings(
        var_dir=tmp_path,
        upstream=UpstreamSettings(url="http://127.0.0.1:8390/upstream", secret=SECRET),
    )
    sender = UpstreamSender(
        settings, engine, transport=httpx.ASGITransport(app=create_receiver(SECRET, store))
    )
    # one version of a record per pass: the next is due once the earlier is delivered
    assert [await sender.pass_once() for _ in range(4)] == [(1, False)] * 3 + [(0, False)]
    await sender.aclose()
    got = store.rows(ref=number)
    assert [g["version"] for g in got] == [r.id for r in rows]
    assert all(wire.verify(SECRET, g["body"].encode(), g["signature"]) for g in got)
    with Session(engine) as s:
        assert outbox.summary(s).delivered == 3
        assert outbox.prune(s, datetime.now(UTC) + timedelta(seconds=1)) == 3
        s.commit()
        assert outbox.summary(s).delivered == 0
