"""The wallboard page in headless Chromium on seeded numbers: every part renders, the alarm
banner names the queue below target, agents are grouped by state, numbers stay masked."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from hotline.acd import live_keys
from hotline.acd.emergency_mark import Mark, marks_key
from hotline.acd.live_api import router as live_router
from hotline.acd.live_service import LiveService
from hotline.auth import users
from hotline.auth.http import router as auth_router
from hotline.config.settings import Settings
from hotline.kernel.web import attach
from tests.helpers.chromium import Browser
from tests.helpers.daemons import TENANT, Daemon, settings_for
from tests.helpers.fake_ami import FakeAmi
from tests.helpers.ports import free_port
from tests.helpers.queue_events import abandon, answer, join
from tests.helpers.workorders_env import migrated_engine

WALL_USER, WALL_PASSWORD = "wall-screen", "a-wallboard-password"


async def seed(settings: Settings) -> None:
    r = aioredis.Redis(port=settings.redis.port, decode_responses=True)
    service = LiveService(settings, FakeAmi(), redis=r)  # type: ignore[arg-type]
    now = time.time()
    feed = service.stats.feed
    for i in range(4):  # help: four callers answered at once
        feed(join(now - 200 + i, f"h.{i}", "help", f"1380000000{i}"))
        for e in answer(now - 198 + i, f"h.{i}", "help"):
            feed(e)
    feed(join(now - 100, "g.1", "general", "13900000999"))  # general: one abandon …
    for e in abandon(now - 90, "g.1", "general"):
        feed(e)
    feed(join(now - 30, "g.2", "general", "13712345678"))  # … and one waiting for 30 s
    await service.write(now)
    since = (datetime.now(UTC) - timedelta(hours=2, minutes=5)).isoformat()
    agents = {
        "1001": {"state": "available", "since": since, "calls_handled": "4"},
        "1002": {"state": "paused", "since": since, "reason": "meal"},
        "1003": {"state": "on_call", "since": "not a time"},  # shown without a duration
    }
    await r.sadd(live_keys.agents_key(TENANT), *agents)
    for agent_id, fields in agents.items():
        await r.hset(live_keys.agent_key(TENANT, agent_id), mapping=fields)  # type: ignore[arg-type]
    # the waiting caller was marked as an emergency matter (acd/emergency_mark.py)
    mark = Mark("g.2", "137******78", "", "general", True, "zhao")
    await r.zadd(marks_key(TENANT), {json.dumps(asdict(mark), ensure_ascii=False): now})
    await r.aclose()


@pytest.fixture
def api(tmp_path: Path, redis_server: Daemon) -> Iterator[str]:
    settings = settings_for(tmp_path, redis_server.port, free_port())
    asyncio.run(seed(settings))
    engine = migrated_engine(settings.var_dir)  # settings.db_url's file
    with Session(engine) as s:
        users.add(s, WALL_USER, "supervisor", WALL_PASSWORD)
        s.commit()
    app = FastAPI()
    attach(app, settings, engine)
    app.include_router(auth_router)
    app.include_router(live_router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_wallboard_renders_queues_alarm_and_agents(api: str, tmp_path: Path) -> None:
    read = """JSON.stringify({
      link: document.getElementById('link').textContent,
      alarm: document.getElementById('alarm').hidden ? '' : document.getElementById('alarm').textContent,
      emergencies: document.getElementById('emergencies').hidden ? '' : document.getElementById('emergencies').innerText,
      general: document.querySelector('[data-queue=general]')?.innerText || '',
      alarmed: [...document.querySelectorAll('.queue.alarm')].map(q => q.dataset.queue),
      states: Object.fromEntries([...document.querySelectorAll('[data-state]')].map(
        s => [s.dataset.state, s.innerText])),
      total: document.getElementById('total').innerText,
      text: document.body.innerText})"""  # noqa: E501
    with Browser(tmp_path) as browser:
        browser.login(api, WALL_USER, WALL_PASSWORD, "/wallboard")
        deadline = time.monotonic() + 20
        while True:
            page = json.loads(browser.evaluate(read))
            if page["link"] == "实时" and page["general"]:
                break
            assert time.monotonic() < deadline, page
            time.sleep(0.2)
        shot = browser.screenshot(tmp_path / "wallboard-seeded.png")
    print(f"wallboard screenshot: {shot}")
    assert page["alarmed"] == ["general"]  # help answered everything at once: no alarm
    assert "综合" in page["alarm"] and "低于目标 95" in page["alarm"]
    assert "137******78" in page["general"]
    assert "突发" in page["emergencies"] and "137******78" in page["emergencies"]
    assert "排队中（综合，已优先）" in page["emergencies"] and "zhao" in page["emergencies"]
    assert re.search(r"等待 0:(29|30)", page["general"])  # the longest wait, as written
    assert "13712345678" not in page["text"] and "13900000999" not in page["text"]
    assert page["states"]["available"].split()[:2] == ["空闲", "1"]
    assert "用餐" in page["states"]["paused"]  # the pause reason, in Chinese
    assert page["states"]["on_call"].split() == ["通话中", "1", "1003", "–"]
    assert page["states"]["ringing"].split()[:2] == ["振铃", "0"]
    assert "今日呼入" in page["total"] and "6" in page["total"].split()
    assert shot.stat().st_size > 10_000
