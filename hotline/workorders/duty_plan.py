"""Who is rung, in what order, when an emergency (突发) order reaches a unit (art. 25.2),
and whether its signing was late (art. 26.2.7). Pure: no database, no Asterisk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.workorders.settings import DutyCallSettings

DIALLABLE_RE = re.compile(r"^\+?[0-9]{3,20}$")


class Role(StrEnum):
    DUTY = "duty"  # 值班电话 of the unit
    LIAISON = "liaison"  # 联络员 of the unit
    SUPERVISOR = "supervisor"  # the hotline's supervisor on duty (值班长)


# What key 1 means for each: the unit signs (签收); a supervisor acknowledges and
# follows the order up, but cannot sign for the unit.
SIGNS = {Role.DUTY: True, Role.LIAISON: True, Role.SUPERVISOR: False}


@dataclass(frozen=True)
class Step:
    role: Role
    number: str  # diallable: digits, with an optional leading +
    try_no: int  # 1 for the first call to this person


def dialable(number: str) -> str | None:
    """ "0771-2801234" -> "07712801234"; None for what cannot be dialled ("", "n/a")."""
    cleaned = re.sub(r"[\s-]", "", number)
    return cleaned if DIALLABLE_RE.match(cleaned) else None


def escalation_plan(duty_phone: str, liaison_phone: str, rules: DutyCallSettings) -> list[Step]:
    """The duty phone, then the liaison, then each supervisor, each tried as configured.

    A missing or undiallable number is left out; the same number twice (a liaison who
    is also the duty phone) is called only in its first role.
    """
    people: list[tuple[Role, str, int]] = [
        (Role.DUTY, duty_phone, rules.duty_attempts),
        (Role.LIAISON, liaison_phone, rules.liaison_attempts),
        *((Role.SUPERVISOR, s, rules.supervisor_attempts) for s in rules.supervisors),
    ]
    steps: list[Step] = []
    seen: set[str] = set()
    for role, raw, attempts in people:
        number = dialable(raw)
        if number is None or number in seen:
            continue
        seen.add(number)
        steps.extend(Step(role, number, n) for n in range(1, attempts + 1))
    return steps


def minutes_late(sign_due_at: datetime | None, signed_at: datetime | None) -> int | None:
    """Whole minutes past the sign deadline (rounded up), 0 when on time, None if unsigned."""
    if signed_at is None:
        return None
    if sign_due_at is None or signed_at <= sign_due_at:
        return 0
    late = signed_at - sign_due_at
    return int(-(-late // timedelta(minutes=1)))
