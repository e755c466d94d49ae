"""The acd package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── NotYours            acd.not_yours             (agent_page.py)
 ├── UnknownReason       acd.unknown_reason        also a ValueError (agent_state.py)
 ├── MalformedEvent      acd.malformed_event       also a ValueError (live_stats.py)
 ├── AmiRefused          acd.ami_refused           (membership.py)
 ├── LiveNumbersError    acd.live_numbers          also a RuntimeError (simulate.py)
 └── ActionError         acd.action_refused        (supervision.py, linkage.py, …)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class NotYours(HotlineError):
    """An agent asked for another agent's page, or a supervisor named no agent."""

    error_id = "acd.not_yours"


class UnknownReason(HotlineError, ValueError):
    """A pause reason that is not one of PAUSE_REASONS."""

    error_id = "acd.unknown_reason"


class MalformedEvent(HotlineError, ValueError):
    """An AMI event without a field we need, or with a value that does not parse."""

    error_id = "acd.malformed_event"


class AmiRefused(HotlineError):
    """Asterisk answered an action with an error; the message says which and why."""

    error_id = "acd.ami_refused"


class LiveNumbersError(HotlineError, RuntimeError):
    """The system's live numbers cannot be read, or do not cover the simulation."""

    error_id = "acd.live_numbers"


class ActionError(HotlineError):
    """Refused before or by Asterisk. `code` is the error_id of the API's answer
    (`unknown_agent`, `no_live_call`, …), stable for API clients and tests."""

    error_id = "acd.action_refused"

    def __init__(self, message: str, code: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
