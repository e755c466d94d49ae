"""The configuration's names and error that cost nothing to import.

`hotline --help` and the modules it reaches (the pause reasons, the roles) need these
without loading pydantic; config.settings re-exports them, so either import works.
"""

from __future__ import annotations

from typing import ClassVar

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


class ConfigError(Exception):
    """A configuration mistake: says the file, the field and what is allowed.

    The config layer is below the kernel, so this is no kernel HotlineError; it carries
    a stable error_id all the same (kernel/errors.py).
    """

    error_id: ClassVar[str] = "config.invalid"


def asterisk_queue(name: str) -> str:
    return QUEUE_PREFIX + name


def queue_from_asterisk(name: str) -> str:
    return name.removeprefix(QUEUE_PREFIX)
