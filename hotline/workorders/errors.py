"""The workorders package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── WorkOrderError          workorders.rule_refused        a request the rules refuse
 │    └── InvalidTransition  workorders.invalid_transition  a move lifecycle.py does not allow
 └── SmsError                workorders.sms_failed          the SMS gateway (sms.py)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.kernel.errors import HotlineError

if TYPE_CHECKING:
    from hotline.workorders.lifecycle import Action
    from hotline.workorders.models import WorkOrderStatus


class WorkOrderError(HotlineError):
    """A request the rules refuse; the message says why and what is allowed."""

    error_id = "workorders.rule_refused"


class InvalidTransition(WorkOrderError):
    """`action` is not allowed from `state` (lifecycle.TRANSITIONS); `allowed` is."""

    error_id = "workorders.invalid_transition"

    def __init__(
        self, number: str, state: WorkOrderStatus, action: Action, allowed: list[Action]
    ) -> None:
        listed = ", ".join(a.value for a in allowed) if allowed else "nothing (final state)"
        super().__init__(
            f"work order {number} is {state.value}: cannot {action.value}; "
            f"allowed from {state.value}: {listed}"
        )
        self.state = state
        self.action = action
        self.allowed = allowed


class SmsError(HotlineError):
    """The gateway refused or could not be reached."""

    error_id = "workorders.sms_failed"
