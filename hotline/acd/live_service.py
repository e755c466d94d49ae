"""The "live" service: AMI queue events in, live numbers out to Redis and MQTT.

Numbers are computed in memory (acd/live_stats.py) and written out about once a
second; Redis or the broker being down loses nothing: what was not written is
written when it is back. Waiting callers are rebuilt from AMI QueueStatus at every
AMI login, today's counters from Redis when the service starts.
`LiveReader` (at the end) reads them back for the live routes and the wallboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import RedisError

from hotline.acd import emergency_mark, live_keys
from hotline.acd.agent_state import AgentState
from hotline.acd.agents import all_agents
from hotline.acd.live_stats import TOTAL, LiveStats
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.redis_conn import redis_client

log = logging.getLogger(__name__)

FULL_WRITE_SECONDS = 10  # rewrite every key now and then: a restarted Redis gets it all back


def flat_fields(snap: dict[str, Any], at: str) -> dict[str, str]:
    """A snapshot as a Redis hash: the headline numbers as fields, everything in `json`."""

    def text(v: Any) -> str:
        return "" if v is None else str(v)

    out = {
        "json": json.dumps(snap, ensure_ascii=False),
        "updated_at": at,
        "day": snap["day"],
        "waiting": text(snap["waiting"]),
        "longest_wait_seconds": text(snap["longest_wait_seconds"]),
    }
    for prefix, figures in (("", snap["today"]), ("window_", snap["window"])):
        for k in ("offered", "answered", "abandoned", "left", "asa_seconds", "aht_seconds"):
            out[prefix + k] = text(figures[k])
        for t, sl in figures["service_level"].items():
            out[f"{prefix}sl_{t}"] = text(sl)
        for t, n in figures["answered_within"].items():
            out[f"{prefix}answered_within_{t}"] = text(n)
    return out


class MqttPublisher:
    """One broker connection kept open; while it is down only the latest retained
    snapshot per topic waits, and alarms queue up (bounded)."""

    def __init__(self, settings: AcdConfig) -> None:
        self.settings = settings
        self.retained: dict[str, str] = {}
        self.others: deque[tuple[str, str]] = deque(maxlen=1000)
        self._wake = asyncio.Event()
        self.connected = False

    def publish(self, topic: str, payload: str, *, retain: bool = True) -> None:
        if retain:
            self.retained[topic] = payload
        else:
            self.others.append((topic, payload))
        self._wake.set()

    async def run(self) -> None:
        m = self.settings.mqtt
        delay = 1.0
        while True:
            try:
                async with aiomqtt.Client(m.host, m.port, timeout=5) as client:
                    self.connected, delay = True, 1.0
                    log.info("live numbers: MQTT connected at %s:%s", m.host, m.port)
                    await self._send_all(client)
            except aiomqtt.MqttError as exc:
                if self.connected or delay == 1.0:
                    log.warning(
                        "live numbers: MQTT %s:%s unreachable (%s); kept, retrying",
                        m.host,
                        m.port,
                        exc,
                    )
                self.connected = False
                await asyncio.sleep(delay + random.uniform(0, delay / 2))
                delay = min(delay * 2, 30.0)

    async def _send_all(self, client: aiomqtt.Client) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.others:
                topic, payload = self.others[0]
                await client.publish(topic, payload, qos=1)
                self.others.popleft()
            for topic, payload in list(self.retained.items()):
                await client.publish(topic, payload, qos=1, retain=True)
                if self.retained.get(topic) is payload:  # not replaced meanwhile
                    del self.retained[topic]


class LiveService:
    def __init__(
        self, settings: AcdConfig, ami: AmiClient, *, redis: aioredis.Redis | None = None
    ) -> None:
        live = settings.live
        self.settings = settings
        self.tenant = settings.live_namespace
        self.ami = ami
        self.redis = redis or redis_client(settings, 2.0, fail_fast=True)
        self.mqtt = MqttPublisher(settings)
        self.stats = LiveStats(
            thresholds=live.service_level_seconds,
            target_percent=live.target_percent,
            window_seconds=live.window_minutes * 60,
            tz=ZoneInfo(settings.timezone),
            queues=settings.queue_names(),
        )
        self._dirty: set[str] = {*self.stats.names(), TOTAL}
        self._wake = asyncio.Event()
        self._loaded = False
        self._redis_down = False
        self._last_full = 0.0
        self._published: dict[str, str] = {}  # topic -> payload without its time
        self._alarmed: set[str] = set()
        self._background: set[asyncio.Task[bool]] = set()
        self.rebuilds = 0

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._consume(), name="live-events")
                tg.create_task(self._write_loop(), name="live-write")
                tg.create_task(self.mqtt.run(), name="live-mqtt")
        finally:
            self.ami.close()
            await self.redis.aclose()

    def status(self) -> dict[str, object]:
        """The AMI session, callers waiting now, whether Redis and the broker take the numbers."""
        return {
            "ami_logged_in": self.ami.logged_in.is_set(),
            "rebuilds": self.rebuilds,
            "waiting": len(self.stats.total.waiting),
            "redis_down": self._redis_down,
            "mqtt_connected": self.mqtt.connected,
            "mqtt_backlog": len(self.mqtt.retained) + len(self.mqtt.others),
        }

    # ---- AMI --------------------------------------------------------------
    async def _consume(self) -> None:
        while True:
            event = await self.ami.events.get()
            if event.get("Event") == "FullyBooted":  # each AMI login: catch up on who waits
                await self.rebuild()
                continue
            changed = self.stats.feed(event)
            if changed:
                self._dirty |= changed
                self._wake.set()

    async def rebuild(self) -> None:
        try:
            reply = await self.ami.action({"Action": "QueueStatus"}, as_list=True, timeout=10)
        except (ConnectionError, TimeoutError) as exc:
            log.warning("live numbers: QueueStatus failed (%s); waiting callers not rebuilt", exc)
            return
        entries = [{str(k): str(v) for k, v in m.items()} for m in reply]
        self.stats.rebuild_waiting(entries, time.time())
        self.rebuilds += 1
        waiting = sum(1 for e in entries if e.get("Event") == "QueueEntry")
        log.info("live numbers: %d caller(s) waiting now, from QueueStatus", waiting)
        self._dirty |= {*self.stats.names(), TOTAL}
        self._wake.set()

    # ---- Redis and MQTT ---------------------------------------------------
    async def _write_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.live.publish_seconds)
            self._wake.clear()
            await self.write(time.time())

    async def write(self, now: float) -> None:
        """Write changed queues (and those with callers waiting, whose waits grow)."""
        if not self._loaded:
            await self._load()
        self.stats.prune(now)
        names = set(self._dirty)
        names |= {n for n, q in self.stats.queues.items() if q.waiting}
        if self.stats.total.waiting:
            names.add(TOTAL)
        full = now - self._last_full >= FULL_WRITE_SECONDS
        if full:
            names |= {*self.stats.names(), TOTAL}
        self._dirty.clear()
        at = datetime.fromtimestamp(now, UTC).isoformat()
        snaps = {n: self.stats.snapshot(n, now) for n in sorted(names)}
        self._publish(snaps, at)
        # until today's stored counters are read back, Redis is not overwritten with fewer
        if self._loaded and await self._write_redis(snaps, at):
            if full:
                self._last_full = now
        else:
            self._dirty |= names

    def _publish(self, snaps: dict[str, dict[str, Any]], at: str) -> None:
        for name, snap in snaps.items():
            topic = (
                live_keys.total_topic(self.tenant)
                if name == TOTAL
                else live_keys.queue_topic(self.tenant, name)
            )
            body = json.dumps(snap, ensure_ascii=False, sort_keys=True)
            if self._published.get(topic) != body:
                self._published[topic] = body
                self.mqtt.publish(topic, json.dumps({**snap, "updated_at": at}, ensure_ascii=False))
            self._alarm(name, snap, at)

    def _alarm(self, name: str, snap: dict[str, Any], at: str) -> None:
        """An alarm when a queue falls below target (once per episode), as recordings do."""
        below = snap["below_target"]
        if below and name not in self._alarmed:
            self._alarmed.add(name)
            sl = snap["window"]["service_level"]
            worst = ", ".join(f"{sl[str(t)]}% at {t} s" for t in below)
            where = "the hotline" if name == TOTAL else f"queue {name}"
            alarm = Alarm(
                kind="service_level_low",
                message=(
                    f"{where}: service level {worst} over the last {snap['window_minutes']} min, "
                    f"below the target {snap['target_percent']}%"
                ),
                at=at,
            )
            # kept in the alarm spool until the broker has it, as every alarm is
            task = asyncio.create_task(publish(self.settings, alarm))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        elif not below:
            self._alarmed.discard(name)

    async def _load(self) -> bool:
        try:
            raw = await self.redis.get(live_keys.state_key(self.tenant))
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return False
        if raw:
            try:
                self.stats.load_state(json.loads(raw))
                log.info("live numbers: today's counters read back from Redis")
            except (ValueError, AttributeError) as exc:
                log.warning("live numbers: stored state unreadable (%s); starting afresh", exc)
        self._loaded = True
        return True

    async def _write_redis(self, snaps: dict[str, dict[str, Any]], at: str) -> bool:
        t = self.tenant
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for name, snap in snaps.items():
                    key = live_keys.total_key(t) if name == TOTAL else live_keys.queue_key(t, name)
                    fields: dict[Any, Any] = flat_fields(snap, at)
                    pipe.hset(key, mapping=fields)
                if self.stats.queues:
                    pipe.sadd(live_keys.queues_key(t), *self.stats.names())
                pipe.set(live_keys.state_key(t), json.dumps(self.stats.state()))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return False
        if self._redis_down:
            log.info("live numbers: Redis is back; written again")
            self._redis_down = False
        return True

    def _redis_failed(self, exc: BaseException) -> None:
        if not self._redis_down:
            r = self.settings.redis
            log.warning(
                "live numbers: Redis %s:%s unreachable (%s); kept in memory, "
                "written when it is back",
                r.host,
                r.port,
                exc,
            )
            self._redis_down = True


# What the live service and the agent-state service keep in Redis, read back for the
# live routes and the wallboard (acd/live_api.py).
AGENT_STATES = tuple(s.value for s in AgentState)


class AgentLive(BaseModel):
    id: str
    name: str
    state: str
    since: str
    state_seconds: int | None
    reason: str
    queues: list[str]
    calls_handled: int


def _agent(agent_id: str, raw: dict[str, str], names: dict[str, str], now: datetime) -> AgentLive:
    since, seconds = raw.get("since", ""), None
    with contextlib.suppress(ValueError, TypeError):  # absent, or not ISO-8601 with a zone
        seconds = max(0, int((now - datetime.fromisoformat(since)).total_seconds()))
    try:
        handled = int(raw.get("calls_handled", "0") or 0)
    except ValueError:
        handled = 0
    state = raw.get("state", "")
    return AgentLive(
        id=agent_id,
        name=names.get(agent_id, ""),
        state=state if state in AGENT_STATES else (state or "logged_out"),
        since=since,
        state_seconds=seconds,
        reason=raw.get("reason", ""),
        queues=[q for q in raw.get("queues", "").split(",") if q],
        calls_handled=handled,
    )


def _texts(values: Iterable[bytes | str]) -> set[str]:
    return {v.decode() if isinstance(v, bytes) else v for v in values}


class LiveReader:
    """Reads what the live service and the agent-state service keep in Redis."""

    def __init__(self, settings: AcdConfig) -> None:
        self.settings = settings
        self.tenant = settings.live_namespace
        self.redis = redis_client(settings, 2.0, fail_fast=True)

    async def queues(self) -> list[dict[str, Any]]:
        t = self.tenant
        known = _texts(await self.redis.smembers(live_keys.queues_key(t)))
        order = self.settings.queue_names()
        names = [n for n in order if n in known] + sorted(n for n in known if n not in order)
        async with self.redis.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.hget(live_keys.queue_key(t, n), "json")
            raw = await pipe.execute()
        titles = {q.name: q.title for q in self.settings.queues}
        out = []
        for body in raw:
            if body:
                snap = json.loads(body)
                snap["title"] = titles.get(snap["queue"], snap["queue"])
                out.append(snap)
        return out

    async def total(self) -> dict[str, Any] | None:
        body = await self.redis.hget(live_keys.total_key(self.tenant), "json")
        return json.loads(body) if body else None

    async def agents(self) -> list[AgentLive]:
        t = self.tenant
        ids = sorted(_texts(await self.redis.smembers(live_keys.agents_key(t))))
        async with self.redis.pipeline(transaction=False) as pipe:
            for agent_id in ids:
                pipe.hgetall(live_keys.agent_key(t, agent_id))
            rows = await pipe.execute()
        names = {a.id: a.name for a in await asyncio.to_thread(all_agents, self.settings)}
        now = datetime.now(UTC)
        return [_agent(i, r, names, now) for i, r in zip(ids, rows, strict=True) if r]

    async def board(self) -> dict[str, Any]:
        """Everything the wallboard shows, in one message."""
        live = self.settings.live
        return {
            "city_name": self.settings.city_name,
            "at": datetime.now(UTC).isoformat(),
            "thresholds": live.service_level_seconds,
            "target_percent": live.target_percent,
            "window_minutes": live.window_minutes,
            "queues": await self.queues(),
            "total": await self.total(),
            "agents": [a.model_dump() for a in await self.agents()],
            "emergencies": await self.emergencies(),
        }

    async def emergencies(self) -> list[dict[str, Any]]:
        """Calls marked as emergency matters (紧急标记) in the last hour, newest first."""
        return await emergency_mark.shown(self.redis, self.tenant)

    async def aclose(self) -> None:
        await self.redis.aclose()
