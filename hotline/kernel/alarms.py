"""Alarms to people: MQTT topic hotline/<tenant>/alarm (wallboard, supervisors) and the log."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from hotline.kernel.settings import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alarm:
    kind: str  # recording_truncated, recording_missing, recording_failed, disk_low, verify_failed
    message: str
    linkedid: str = ""
    severity: str = "major"
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def payload(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def alarm_topic(settings: Site) -> str:
    return f"hotline/{settings.live_namespace}/alarm"


async def publish(settings: Site, alarm: Alarm) -> bool:
    """Log the alarm and send it over MQTT; False when the broker could not be reached."""
    import aiomqtt

    log.warning("ALARM %s: %s", alarm.kind, alarm.message)
    try:
        async with aiomqtt.Client(settings.mqtt.host, settings.mqtt.port, timeout=3) as client:
            await client.publish(alarm_topic(settings), alarm.payload(), qos=1)
        return True
    except Exception as exc:  # the broker being down must not stop the worker
        log.warning("alarm %s not sent over MQTT: %s", alarm.kind, exc)
        return False
