"""Where live numbers live: Redis keys and MQTT topics, one place for writer and readers.

Agent keys are the agent-state service's contract; this side only reads them.
"""

from __future__ import annotations


def queue_key(tenant: str, queue: str) -> str:
    """Hash: one queue's numbers as flat fields, and the whole snapshot in field `json`."""
    return f"hotline:{tenant}:queue:{queue}"


def queues_key(tenant: str) -> str:
    """Set: the names of the queues with a queue_key."""
    return f"hotline:{tenant}:queues"


def total_key(tenant: str) -> str:
    """Hash like queue_key for the whole hotline, each call counted once."""
    return f"hotline:{tenant}:total"


def state_key(tenant: str) -> str:
    """String (JSON): the live service's counters, read back when it restarts."""
    return f"hotline:{tenant}:live:state"


def agent_key(tenant: str, agent_id: str) -> str:
    """Hash: state, since (ISO-8601 UTC), reason, queues (a,b), calls_handled."""
    return f"hotline:{tenant}:agent:{agent_id}"


def agents_key(tenant: str) -> str:
    """Set: agent ids."""
    return f"hotline:{tenant}:agents"


def queue_topic(tenant: str, queue: str) -> str:
    return f"hotline/{tenant}/queue/{queue}"


def total_topic(tenant: str) -> str:
    return f"hotline/{tenant}/total"


def agent_topic(tenant: str, agent_id: str) -> str:
    return f"hotline/{tenant}/agent/{agent_id}"
