"""The configuration's names and error that cost nothing to import.

`hotline --help` and the modules it reaches (the pause reasons, the roles) need these
without loading pydantic; config.settings re-exports them, so either import works.
"""

from __future__ import annotations

QUEUE_PREFIX = "hotline-"

# Who may hear recordings, and who logs in to the API and pages (auth/roles.py says what
# each may do)
RECORDING_ROLES = ("agent", "supervisor", "auditor")
ROLES = ("agent", "supervisor", "unit_staff", "auditor", "admin")


class ConfigError(Exception):
    """A configuration mistake: says the file, the field and what is allowed."""


def asterisk_queue(name: str) -> str:
    return QUEUE_PREFIX + name


def queue_from_asterisk(name: str) -> str:
    return name.removeprefix(QUEUE_PREFIX)
