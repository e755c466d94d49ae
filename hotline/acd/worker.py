"""The ACD's long-running services, each on an AMI connection of its own (`hotline up`, or
alone `hotline serve acd|live|callbacks`):

- `AgentService`, the `acd` service (acd/agent_service.py): app_queue's events in, the
  agents' states out to Redis and MQTT;
- `LiveService`, the `live` service (acd/live_service.py): queue events in, the live
  numbers of the queues and the wallboard out to Redis and MQTT;
- `CallbackService`, the `callbacks` service (acd/callback_service.py): kept places put
  in line, and each callback followed to its end.

Each lives in its module with the helpers that are its alone (Redis keys, the MQTT
publisher, the placeholder's channel); this module names them, for the supervisor.
"""

from __future__ import annotations

from hotline.acd.agent_service import AgentService
from hotline.acd.callback_service import CallbackService
from hotline.acd.live_service import LiveService

__all__ = ["AgentService", "CallbackService", "LiveService"]
