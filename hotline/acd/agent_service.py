"""The "acd" service: app_queue's AMI events in, agents' states out to Redis and MQTT.

Redis (the contract the wallboard reads):
  hotline:{tenant}:agent:{id}  hash: state, since, reason, queues, calls_handled
  hotline:{tenant}:agents      set of agent ids
MQTT: hotline/{tenant}/agent/{id}, the same fields plus "agent", as JSON (retained).

The state is rebuilt from Asterisk (QueueStatus) when the service starts, when AMI logs
in again (Asterisk restarted) and when Redis lost it (restarted), so nothing stays stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hotline.acd.agent_state import NO_ANSWER, AgentBook, AgentState, AgentView
from hotline.acd.agents import all_agents
from hotline.acd.screen_pop import Ring, RingTracker
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.calls.models import CallRecord
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.redis_conn import redis_client

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # how often Redis is checked for lost state and wrap-ups end


def agent_key(tenant: str, agent_id: str) -> str:
    return f"hotline:{tenant}:agent:{agent_id}"


def agents_key(tenant: str) -> str:
    return f"hotline:{tenant}:agents"


def agent_topic(tenant: str, agent_id: str) -> str:
    return f"hotline/{tenant}/agent/{agent_id}"


def agent_events_channel(tenant: str, agent_id: str) -> str:
    """Redis pub/sub: the agent page's feed ({"kind": "state"|"ring", ...}); full numbers."""
    return f"hotline:{tenant}:agent-events:{agent_id}"


def ring_key(tenant: str, agent_id: str) -> str:
    """The agent's latest ring, for a page that connects while the phone rings."""
    return f"hotline:{tenant}:ring:{agent_id}"


RING_KEEP_SECONDS = 600


async def read_agents(r: aioredis.Redis, tenant: str) -> dict[str, dict[str, str]]:
    """Every agent's hash from Redis, by id (what the API and `hotline agent status` show)."""
    ids = sorted(_text(i) for i in await r.smembers(agents_key(tenant)))
    out: dict[str, dict[str, str]] = {}
    for agent_id in ids:
        fields = await r.hgetall(agent_key(tenant, agent_id))
        if fields:
            out[agent_id] = {_text(k): _text(v) for k, v in fields.items()}
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def calls_today(engine: Engine, tz: ZoneInfo, now: datetime) -> dict[str, int]:
    """Answered calls per agent since local midnight, from the bridge's call records."""
    midnight = datetime.combine(now.astimezone(tz).date(), time(), tz).astimezone(UTC)
    with Session(engine) as s:
        rows = s.exec(
            select(CallRecord.agent, func.count())
            .where(col(CallRecord.answered_at) >= midnight, CallRecord.agent != "")
            .group_by(CallRecord.agent)
        )
        return {agent: int(n) for agent, n in rows}


class AgentService:
    def __init__(self, settings: AcdConfig, engine: Engine, ami: AmiClient) -> None:
        self.settings = settings
        self.engine = engine
        self.ami = ami
        self.tenant = settings.live_namespace
        self.tz = ZoneInfo(settings.timezone)
        self.book = AgentBook(
            {a.id: a.queues for a in all_agents(settings)}, settings.wrapup_seconds, self.tz
        )
        self.redis = redis_client(settings)
        self._mqtt: asyncio.Queue[AgentView] = asyncio.Queue(maxsize=10_000)
        self._need_rebuild = asyncio.Event()
        self.rebuilds = 0
        self.rings = RingTracker()
        self._background: set[asyncio.Task[bool]] = set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._events(), name="acd-events")
            tg.create_task(self._watch(), name="acd-watch")
            tg.create_task(self._publish(), name="acd-mqtt")

    def status(self) -> dict[str, object]:
        """The AMI session, the agents known, the rebuilds from Asterisk, the MQTT backlog."""
        return {
            "ami_logged_in": self.ami.logged_in.is_set(),
            "agents": len(self.book.views()),
            "rebuilds": self.rebuilds,
            "rebuild_pending": self._need_rebuild.is_set(),
            "mqtt_queue": self._mqtt.qsize(),
        }

    # ---- AMI ---------------------------------------------------------------
    async def _events(self) -> None:
        self._need_rebuild.set()
        while True:
            if self._need_rebuild.is_set() and self.ami.logged_in.is_set():
                await self._rebuild()
            try:
                event = await asyncio.wait_for(self.ami.events.get(), CHECK_SECONDS)
            except TimeoutError:
                changed = self.book.tick(datetime.now(UTC))
            else:
                if event.get("Event") == "FullyBooted":
                    self._need_rebuild.set()  # logged in again: Asterisk may have restarted
                    continue
                now = datetime.now(UTC)
                changed = self.book.feed(event, now)
                self._alarm(changed)
                ring = self.rings.feed(event, now)
                if ring is not None:
                    await self._ring(ring)
            if self.rebuilds:  # before the first rebuild the book knows too little to publish
                await self._store(changed)

    def _alarm(self, changed: list[AgentView]) -> None:
        """The supervisor is told when an agent stops taking calls without choosing to."""
        for v in changed:
            if v.state is AgentState.PAUSED and v.reason == NO_ANSWER.code:
                alarm = Alarm(
                    kind="agent_no_answer",
                    message=f"agent {v.agent} did not answer a queue call within "
                    f"{self.settings.acd.ring_seconds} s: paused (未接) in every queue until "
                    "they resume",
                )
            elif v.state is AgentState.UNREACHABLE:
                alarm = Alarm(
                    kind="agent_unreachable",
                    message=f"agent {v.agent} is logged in but their phone cannot be reached "
                    "(it does not answer OPTIONS, or its registration lapsed): no call rings it",
                )
            else:
                continue
            task = asyncio.create_task(publish(self.settings, alarm))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _rebuild(self) -> None:
        try:
            reply: Any = await self.ami.action({"Action": "QueueStatus"}, as_list=True)
        except (TimeoutError, ConnectionError, OSError) as exc:
            log.warning("QueueStatus failed (%s); will retry", exc)
            await asyncio.sleep(CHECK_SECONDS)
            return
        members = [
            {str(k): str(v) for k, v in m.items()}
            for m in (reply if isinstance(reply, list) else [])
            if m.get("Event") == "QueueMember"
        ]
        now = datetime.now(UTC)
        try:
            previous = await read_agents(self.redis, self.tenant)
        except aioredis.RedisError:
            previous = {}
        try:
            counts = await asyncio.to_thread(calls_today, self.engine, self.tz, now)
        except SQLAlchemyError as exc:  # the states matter more than today's counts
            log.warning("calls handled today not counted: %s", exc)
            counts = {}
        views = self.book.rebuild(members, now, previous=previous, calls_today=counts)
        self._need_rebuild.clear()
        if await self._store(views):
            self.rebuilds += 1
            log.info(
                "agents' states rebuilt from Asterisk: %s",
                ", ".join(f"{v.agent} {v.state.value}" for v in views) or "no agents",
            )

    # ---- Redis and MQTT ----------------------------------------------------
    async def _store(self, views: list[AgentView]) -> bool:
        if not views:
            return True
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for v in views:
                    fields: dict[str | bytes, str | bytes] = {k: x for k, x in v.fields().items()}
                    pipe.hset(agent_key(self.tenant, v.agent), mapping=fields)  # type: ignore[arg-type]
                    pipe.sadd(agents_key(self.tenant), v.agent)
                    state = {"kind": "state", **v.payload()}
                    pipe.publish(agent_events_channel(self.tenant, v.agent), json.dumps(state))
                await pipe.execute()
        except aioredis.RedisError as exc:
            log.warning("Redis unreachable (%s); the state is rebuilt when it is back", exc)
            self._need_rebuild.set()
            await asyncio.sleep(CHECK_SECONDS)
            return False
        for v in views:
            log.info("agent %s: %s %s", v.agent, v.state.value, v.reason)
            with contextlib.suppress(asyncio.QueueFull):
                self._mqtt.put_nowait(v)
        return True

    async def _ring(self, ring: Ring) -> None:
        """Tell the agent's page at once; no number in the log (the call id names it)."""
        body = json.dumps({"kind": "ring", **ring.to_json()}, ensure_ascii=False)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(ring_key(self.tenant, ring.agent), body, ex=RING_KEEP_SECONDS)
                pipe.publish(agent_events_channel(self.tenant, ring.agent), body)
                await pipe.execute()
        except aioredis.RedisError as exc:
            log.warning("screen pop for agent %s not sent: Redis unreachable (%s)", ring.agent, exc)
            return
        log.info("agent %s rings for call %s", ring.agent, ring.linkedid)

    async def _watch(self) -> None:
        """A Redis that restarted lost every hash: the agents' set is gone, rebuild."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            if self._need_rebuild.is_set():
                continue
            try:
                present = await self.redis.exists(agents_key(self.tenant))
            except aioredis.RedisError:
                self._need_rebuild.set()
                continue
            if not present and self.book.views():
                log.warning("agents' states are missing from Redis; rebuilding")
                self._need_rebuild.set()

    async def _publish(self) -> None:
        import aiomqtt

        m = self.settings.mqtt
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(m.host, m.port, timeout=5) as client:
                    delay = 0.5
                    while True:
                        v = await self._mqtt.get()
                        await client.publish(
                            agent_topic(self.tenant, v.agent),
                            json.dumps(v.payload(), ensure_ascii=False),
                            qos=1,
                            retain=True,
                        )
            except aiomqtt.MqttError as exc:
                log.warning("MQTT unreachable (%s); retry in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
