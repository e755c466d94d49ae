"""Who may hear a recording: agents their own calls; supervisors and auditors every call.

Users and tokens live in auth/ (`hotline users add`); this is the recordings' own rule.
"""

from __future__ import annotations

from hotline.auth.roles import Role
from hotline.auth.tokens import Principal


def may_hear(user: Principal, call_agent: str) -> bool:
    if user.role == Role.AGENT:
        return bool(user.agent_id) and user.agent_id == call_agent
    return user.role in (Role.SUPERVISOR, Role.AUDITOR)
