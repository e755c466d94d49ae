"""Names every layer shares that cost nothing to import: the queues' Asterisk prefix, the
roles, the request types' titles (`hotline --help` reaches these without loading pydantic)."""

from __future__ import annotations

QUEUE_PREFIX = "hotline-"

# Who may hear recordings, and who logs in to the API and pages (auth/roles.py says what
# each may do)
RECORDING_ROLES = ("agent", "supervisor", "auditor")
ROLES = ("agent", "supervisor", "unit_staff", "auditor", "admin")

# 诉求类型: the request types' titles, on the agent page's form and in `hotline call`
REQUEST_TYPE_TITLES = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}


def asterisk_queue(name: str) -> str:
    return QUEUE_PREFIX + name


def queue_from_asterisk(name: str) -> str:
    return name.removeprefix(QUEUE_PREFIX)
