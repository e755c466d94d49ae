"""The roles and what each may do: the one matrix every route checks (README, "Logins").

A route names the permission it needs (`gate.require(Perm.CALLS_READ)`); a role has it or
not. What "own" means (an agent's own controls, a unit's own orders) is checked by the
route with the user's agent_id or unit.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.kernel.names import ROLES


class Role(StrEnum):
    AGENT = "agent"  # 坐席
    SUPERVISOR = "supervisor"  # 班长
    UNIT_STAFF = "unit_staff"  # 承办单位
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"  # 系统管理员


assert tuple(r.value for r in Role) == ROLES


class Perm(StrEnum):
    CALLS_READ = "calls.read"  # call records, emergency linkage
    ORDERS_READ = "orders.read"  # work orders (unit staff: their unit's only)
    ORDERS_CREATE = "orders.create"  # 受理: a new work order
    ORDERS_HANDLE = "orders.handle"  # unit work: sign (accept), reply, return, extend
    ORDERS_MANAGE = "orders.manage"  # dispatch, close, archive, extensions, revisits
    ORDERS_REPORTS = "orders.reports"  # overdue, assessment, analysis, duty calls
    KNOWLEDGE = "knowledge"  # search the knowledge base, ask and answer questions
    AGENT_PAGE = "agent.page"  # the agent page (an agent's own; a supervisor's read-only)
    AGENTS_READ = "agents.read"  # agents' states
    AGENT_CONTROL = "agents.control"  # log in/out, pause, emergency (agent: their own)
    SUPERVISE = "agents.supervise"  # listen, whisper, barge
    ACTIONS_READ = "agents.actions"  # the trail of agent and supervisor actions
    LIVE = "live"  # live numbers and the wallboard
    RECORDINGS = "recordings"  # search and hear (agent: their own calls)
    RECORDINGS_LOG = "recordings.log"  # who heard what
    BLOCKS_READ = "blocks.read"
    BLOCKS_WRITE = "blocks.write"  # 黑名单 (art. 21.4)
    AUDIT_READ = "audit.read"  # the audit log of every write
    USERS = "users"  # add, disable, reset passwords, API tokens


_ALL_READS = {
    Perm.CALLS_READ,
    Perm.ORDERS_READ,
    Perm.ORDERS_REPORTS,
    Perm.AGENTS_READ,
    Perm.ACTIONS_READ,
    Perm.RECORDINGS,
    Perm.RECORDINGS_LOG,
    Perm.BLOCKS_READ,
    Perm.AUDIT_READ,
}

MATRIX: dict[Role, frozenset[Perm]] = {
    Role.AGENT: frozenset(
        {
            Perm.ORDERS_CREATE,
            Perm.KNOWLEDGE,
            Perm.AGENT_PAGE,
            Perm.AGENTS_READ,
            Perm.AGENT_CONTROL,
            Perm.LIVE,
            Perm.RECORDINGS,
        }
    ),
    Role.SUPERVISOR: frozenset(set(Perm) - {Perm.AUDIT_READ, Perm.USERS}),
    Role.UNIT_STAFF: frozenset({Perm.ORDERS_READ, Perm.ORDERS_HANDLE, Perm.KNOWLEDGE}),
    Role.AUDITOR: frozenset(_ALL_READS),
    Role.ADMIN: frozenset(
        {Perm.USERS, Perm.AUDIT_READ, Perm.CALLS_READ, Perm.ORDERS_READ, Perm.AGENTS_READ}
    ),
}

# Work-order actions a unit's staff may take on their unit's orders (ORDERS_HANDLE);
# every other action needs ORDERS_MANAGE.
UNIT_ACTIONS = frozenset({"sign", "reply", "assist-reply", "return", "dispute", "extend"})


def allowed(role: str, perm: Perm) -> bool:
    try:
        return perm in MATRIX[Role(role)]
    except ValueError:
        return False


def roles_with(perm: Perm) -> list[str]:
    return [r.value for r in Role if perm in MATRIX[r]]
