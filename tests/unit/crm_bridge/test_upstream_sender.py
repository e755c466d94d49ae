"""The sender against the real reference receiver (in-process, over ASGI), and against a
port where nothing listens: delivered once with verifying signatures, 409 counted as
delivered, a refusal dead-lettered and replayed, retries with back-off, order per record."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select, update

from hotline.config.settings import Settings
from hotline.crm_bridge.settings import UpstreamSettings
from hotline.crm_bridge.upstream import capture, outbox, wire
from hotline.crm_bridge.upstream.models import UpstreamChange
from hotline.crm_bridge.upstream.receiver import ReceivedStore, create_receiver
from hotline.crm_bridge.upstream.worker import UpstreamSender
from tests.helpers.workorders_env import FixedClock, make_service, migrated_engine, sample_units

SECRET = "test-secret-not-a-real-one"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    capture.set_enabled(True)
    try:
        yield migrated_engine(tmp_path)
    finally:
        capture.set_enabled(None)


@pytest.fixture
def store(tmp_path: Path) -> ReceivedStore:
    return ReceivedStore(tmp_path / "received.db")


def settings(tmp_path: Path, url: str = "http://127.0.0.1:8390/upstream", **up: object) -> Settings:
    return Settings(
        var_dir=tmp_path,
        upstream=UpstreamSettings(url=url, secret=SECRET, **up),  # type: ignore[arg-type]
    )


def sender(
    tmp_path: Path, engine: Engine, store: ReceivedStore, secret: str = SECRET
) -> UpstreamSender:
    app = create_receiver(secret, store)
    return UpstreamSender(settings(tmp_path), engine, transport=httpx.ASGITransport(app=app))


def orders(engine: Engine, tmp_path: Path, n: int = 3) -> list[str]:
    """n orders, each created and dispatched: two changes per order."""
    clock = FixedClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    numbers = []
    with Session(engine) as s:
        sample_units(s)
        svc = make_service(s, clock, tmp_path / "sms.jsonl")
        for i in range(n):
            order = svc.create(
                request_type="complaint", content=f"第{i}件", caller_number="13900001234"
            )
            s.commit()
            numbers.append(order.number)
            svc.dispatch(order.number, "agent1", "ga")
            s.commit()
    return numbers


def rows(engine: Engine) -> list[UpstreamChange]:
    with Session(engine) as s:
        return list(s.exec(select(UpstreamChange).order_by(col(UpstreamChange.id))).all())


async def drain(s: UpstreamSender) -> int:
    total = 0
    while True:
        attempted, failed = await s.pass_once()
        assert not failed
        if attempted == 0:
            return total
        total += attempted


async def test_every_change_arrives_once_signed(
    tmp_path: Path, engine: Engine, store: ReceivedStore
) -> None:
    numbers = orders(engine, tmp_path)
    s = sender(tmp_path, engine, store)
    assert await drain(s) == 6
    got = store.rows()
    assert len(got) == 6 and len({g["idempotency_key"] for g in got}) == 6
    for g in got:
        assert wire.verify(SECRET, g["body"].encode(), g["signature"])
    latest = {g["ref"]: json.loads(g["body"])["data"]["status"] for g in got}  # by version
    assert latest == dict.fromkeys(numbers, "dispatched")
    assert all(r.status == "delivered" and r.attempts == 1 for r in rows(engine))
    assert await drain(s) == 0 and len(store.rows()) == 6  # nothing twice
    await s.aclose()


async def test_a_duplicate_409_counts_as_delivered(
    tmp_path: Path, engine: Engine, store: ReceivedStore
) -> None:
    orders(engine, tmp_path, 1)
    s = sender(tmp_path, engine, store)
    await drain(s)
    # the platform's answer was lost: the sender tries the same change again
    with Session(engine) as db:
        db.exec(update(UpstreamChange).values(status="pending"))
        db.commit()
    assert await drain(s) == 2
    assert [r.last_status for r in rows(engine)] == [409, 409]
    assert all(r.status == "delivered" for r in rows(engine)) and len(store.rows()) == 2
    assert [r["status"] for r in store.refusals()] == [409, 409]
    await s.aclose()


async def test_a_refused_change_is_dead_lettered_then_replayed(
    tmp_path: Path, engine: Engine, store: ReceivedStore
) -> None:
    orders(engine, tmp_path, 1)
    wrong = sender(tmp_path, engine, store, secret="the platform has another secret")
    await drain(wrong)
    dead = rows(engine)
    assert [r.status for r in dead] == ["dead", "dead"]  # at once, no retries
    assert all(r.last_status == 401 and "bad_signature" in r.last_error for r in dead)
    assert store.rows() == [] and len(store.refusals()) == 2
    with Session(engine) as db:
        summary = outbox.summary(db)
        assert (summary.dead, summary.pending, summary.delivered) == (2, 0, 0)
        assert "HTTP 401" in summary.last_error
        assert [r.id for r in outbox.dead(db)] == [r.id for r in dead]
    await wrong.aclose()

    right = sender(tmp_path, engine, store)
    assert await drain(right) == 0  # dead letters wait for an operator
    with Session(engine) as db:
        assert outbox.replay(db, [dead[0].id or 0], datetime.now(UTC)) == 1
        db.commit()
    assert await drain(right) == 1
    with Session(engine) as db:
        assert outbox.replay(db, None, datetime.now(UTC)) == 1
        db.commit()
    assert await drain(right) == 1
    assert [r.status for r in rows(engine)] == ["delivered", "delivered"]
    assert [g["version"] for g in store.rows()] == [r.id for r in dead]  # same versions
    await right.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_connection_is_retried_with_backoff_and_order_kept(
    tmp_path: Path, engine: Engine, store: ReceivedStore
) -> None:
    orders(engine, tmp_path, 1)
    url = f"http://127.0.0.1:{closed_port()}/upstream"
    down = UpstreamSender(
        settings(tmp_path, url, retry_first_seconds=60, retry_cap_seconds=600), engine
    )
    before = datetime.now(UTC)
    attempted, failed = await down.pass_once()
    assert (attempted, failed) == (1, True)
    first, second = rows(engine)
    assert first.status == "pending" and first.attempts == 1 and first.last_status is None
    assert "ConnectError" in first.last_error
    assert first.next_at >= before + timedelta(seconds=30)  # half to whole of 60 s
    # the order's second change waits behind its first
    assert second.attempts == 0
    assert await down.pass_once() == (0, False)
    await down.aclose()

    # the platform is back: the first success makes everything due at once
    up = sender(tmp_path, engine, store)
    up.failures = 1
    with Session(engine) as db:
        db.exec(
            update(UpstreamChange).where(col(UpstreamChange.id) == first.id).values(next_at=before)
        )
        db.commit()
    assert await drain(up) == 2
    assert [g["version"] for g in store.rows()] == [first.id, second.id]
    await up.aclose()


async def test_out_of_attempts_goes_to_the_dead_letters(tmp_path: Path, engine: Engine) -> None:
    orders(engine, tmp_path, 1)
    url = f"http://127.0.0.1:{closed_port()}/upstream"
    s = UpstreamSender(settings(tmp_path, url, max_attempts=2, retry_first_seconds=0.001), engine)
    for _ in range(2):
        with Session(engine) as db:  # due again at once
            db.exec(update(UpstreamChange).values(next_at=datetime.now(UTC) - timedelta(seconds=1)))
            db.commit()
        await s.pass_once()
    first = rows(engine)[0]
    assert (first.status, first.attempts) == ("dead", 2)
    await s.aclose()


def test_the_secret_is_generated_outside_git_once(tmp_path: Path, engine: Engine) -> None:
    s = Settings(var_dir=tmp_path, upstream=UpstreamSettings(url="https://platform.example/in"))
    UpstreamSender(s, engine)
    secret_file = tmp_path / "secrets.env"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    line = secret_file.read_text().strip()
    assert line.startswith("HOTLINE_UPSTREAM__SECRET=") and len(line) > 40
    assert s.upstream.secret == line.split("=", 1)[1]
    UpstreamSender(s, engine)
    assert secret_file.read_text().count("HOTLINE_UPSTREAM__SECRET") == 1


async def test_the_receiver_refuses_a_tampered_or_malformed_body(store: ReceivedStore) -> None:
    transport = httpx.ASGITransport(app=create_receiver(SECRET, store))
    client = httpx.AsyncClient(transport=transport, base_url="http://receiver")
    raw = wire.body(
        tenant="nanning",
        kind="call_record",
        ref="1.1",
        version=1,
        changed_at="2026-11-24T08:00:00Z",
        data={},
    )
    key = wire.idempotency_key("nanning", "call_record", "1.1", 1)
    h = wire.headers(secret=SECRET, raw=raw, tenant="nanning", kind="call_record", key=key)
    assert (await client.post("/upstream", content=raw + b" ", headers=h)).status_code == 401
    assert (await client.post("/upstream", content=raw, headers=h)).status_code == 200
    assert (await client.post("/upstream", content=raw, headers=h)).status_code == 409
    bad = b'{"format": 1, "kind": "calls"}'
    hb = wire.headers(secret=SECRET, raw=bad, tenant="nanning", kind="calls", key="k")
    answer = await client.post("/upstream", content=bad, headers=hb)
    assert answer.status_code == 422 and "kind must be one of" in answer.json()["detail"]
    assert len(store.rows()) == 1
    await client.aclose()
