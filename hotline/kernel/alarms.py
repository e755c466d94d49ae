"""Alarms to people: MQTT topic hotline/<tenant>/alarm (wallboard, supervisors) and the log.

An alarm is kept in the spool (<var_dir>/alarms/, alarm_spool.py) before it is sent, and
stays there until the broker has it: one raised while MQTT is down is sent by the relay
(`relay_forever`, run by every long-running service) when the broker is back. Delivery is
at least once: an alarm whose acknowledgement was lost is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from hotline.kernel.alarm_spool import Spool, new_owner
from hotline.kernel.settings import Site

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 3
RELAY_IDLE_SECONDS = 2.0  # how often an idle relay looks at the spool
RELAY_MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class Alarm:
    kind: str  # recording_truncated, recording_missing, recording_failed, disk_low, verify_failed
    message: str
    linkedid: str = ""
    severity: str = "major"
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def payload(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_payload(cls, text: str) -> Alarm:
        """The alarm a payload carries; ValueError when it is not one."""
        data = json.loads(text)
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or set(data) != fields:
            raise ValueError(f"not an alarm: the fields must be {', '.join(sorted(fields))}")
        if not all(isinstance(v, str) for v in data.values()):
            raise ValueError("not an alarm: every field must be a string")
        return cls(**data)


@dataclass(frozen=True)
class KeptAlarm:
    """An alarm of the spool, and whether the broker has it yet."""

    alarm: Alarm
    delivered: bool


def alarm_topic(settings: Site) -> str:
    return f"hotline/{settings.live_namespace}/alarm"


def _spool(settings: Site) -> Spool:
    return Spool.of(settings.var_dir)


async def publish(settings: Site, alarm: Alarm) -> bool:
    """Log the alarm, keep it in the spool and send it over MQTT at once. True when the
    broker has it; False when it waits in the spool for a relay (the broker down)."""
    log.warning("ALARM %s: %s", alarm.kind, alarm.message)
    spool = _spool(settings)
    try:
        path = await asyncio.to_thread(spool.put, alarm.payload())
    except OSError as exc:  # a full disk is a reason for alarms: send it all the same
        log.error("alarm %s not kept in %s (%s): sent once now", alarm.kind, spool.root, exc)
        try:
            async with _client(settings) as client:
                await client.publish(alarm_topic(settings), alarm.payload(), qos=1)
            return True
        except aiomqtt.MqttError as send_exc:
            log.error("alarm %s lost: MQTT %s", alarm.kind, send_exc)
            return False
    try:
        return await _deliver(settings, spool, [path]) == 1
    except (aiomqtt.MqttError, OSError) as exc:  # the relay sends it later
        log.warning("alarm %s not sent over MQTT (%s); kept in %s", alarm.kind, exc, spool.root)
        return False


async def flush(settings: Site) -> int:
    """Send every pending alarm, oldest first, over one connection; the number sent.
    Raises aiomqtt.MqttError when the broker cannot be reached (what was not sent stays)."""
    spool = _spool(settings)
    await asyncio.to_thread(spool.reclaim_stale)
    pending = await asyncio.to_thread(spool.pending)
    if not pending:
        return 0
    return await _deliver(settings, spool, pending)


async def relay_forever(settings: Site, *, idle_seconds: float = RELAY_IDLE_SECONDS) -> None:
    """Deliver the spool's alarms for as long as the service runs: every `idle_seconds`, and
    after a failure with a capped, jittered back-off. Any number of relays, in any process,
    may share one spool: each alarm is claimed by one of them."""
    delay = idle_seconds
    down = False
    while True:
        try:
            sent = await flush(settings)
        except aiomqtt.MqttError as exc:
            if not down:
                m = settings.mqtt
                log.warning(
                    "alarms: MQTT %s:%s unreachable (%s); %d kept in %s, retrying",
                    m.host,
                    m.port,
                    exc,
                    pending_count(settings),
                    _spool(settings).root,
                )
            down = True
        except Exception:  # a file system error: keep the service, try again later
            log.exception("alarms: relay pass failed")
            down = True
        else:
            if down and sent:
                log.info("alarms: MQTT reachable again; %d kept alarms sent", sent)
            down, delay = False, idle_seconds
        if down:
            delay = min(max(delay * 2, 1.0), RELAY_MAX_BACKOFF_SECONDS)
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
        else:
            await asyncio.sleep(idle_seconds)


def pending_count(settings: Site) -> int:
    """How many alarms wait for the broker (for `hotline status`)."""
    spool = _spool(settings)
    return len(spool.pending()) + len(spool.sending())


def recent(settings: Site, n: int = 20) -> list[KeptAlarm]:
    """The last n alarms raised, newest first, delivered or not (an unreadable one is left
    out), so that a page can show those the wallboard never got."""
    spool = _spool(settings)
    out = []
    for path, delivered in spool.newest(n):
        text = _read(path)
        if text is None:  # sent while we looked
            text, delivered = _read(spool.delivered_dir / spool.name_of(path)), True
        if text is None:  # pruned meanwhile
            continue
        with contextlib.suppress(ValueError):
            out.append(KeptAlarm(Alarm.from_payload(text), delivered))
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _client(settings: Site) -> aiomqtt.Client:
    return aiomqtt.Client(settings.mqtt.host, settings.mqtt.port, timeout=SEND_TIMEOUT_SECONDS)


async def _deliver(settings: Site, spool: Spool, paths: Sequence[Path]) -> int:
    """Claim and send each alarm in turn; the number sent. A corrupt file is set aside; the
    alarm being sent when the connection fails goes back to pending."""
    owner = new_owner()
    topic = alarm_topic(settings)
    sent = 0
    async with _client(settings) as client:  # connect before claiming anything
        for path in paths:
            claimed = spool.claim(path, owner)
            if claimed is None:  # another relay has it
                continue
            try:
                payload = Alarm.from_payload(claimed.read_text(encoding="utf-8")).payload()
            except (OSError, ValueError) as exc:
                spool.set_aside(claimed, exc)
                continue
            try:
                await client.publish(topic, payload, qos=1)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    spool.release(claimed)
                raise
            sent += 1
            try:
                spool.done(claimed)
            except FileNotFoundError:  # taken back as stale meanwhile: it may go out twice
                log.warning("alarm spool: %s sent, but its claim was taken back", claimed.name)
    return sent
