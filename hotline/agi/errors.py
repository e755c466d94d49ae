"""The agi package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── AGIError                agi.command_failed   an answer other than 200 (protocol.py)
 │    ├── AGIProtocolError   agi.protocol         the peer does not speak AGI
 │    └── AGIDeadChannel     agi.dead_channel     511; also an AGIHangup
 ├── AGIHangup               agi.hangup           the caller hung up
 ├── BlockError              agi.block_refused    also a ValueError (blocks.py)
 └── LookupGaveUp            agi.lookup_gave_up   the caller stopped waiting (lookups.py)
"""

from __future__ import annotations

from hotline.agi.result import AGIResult
from hotline.kernel.errors import HotlineError


class AGIError(HotlineError):
    """Asterisk answered a command with a code other than 200 (510, 511, 520, …)."""

    error_id = "agi.command_failed"

    def __init__(self, result: AGIResult, verb: str = "") -> None:
        self.result = result
        self.code = result.code
        self.message = result.data
        self.verb = verb
        where = f" to {verb}" if verb else ""
        super().__init__(f"AGI error {result.code}{where}: {result.data}")


class AGIProtocolError(AGIError):
    """The peer sent something that is not AGI (bad header, bad response line)."""

    error_id = "agi.protocol"

    def __init__(self, message: str) -> None:
        super().__init__(AGIResult(code=0, result="", data=message))


class AGIHangup(HotlineError):
    """The caller hung up: Asterisk sent `HANGUP`, or closed the connection."""

    error_id = "agi.hangup"


class AGIDeadChannel(AGIError, AGIHangup):
    """511: the command is not permitted on a dead channel, i.e. the caller has hung up."""

    error_id = "agi.dead_channel"


class BlockError(HotlineError, ValueError):
    """A block request that cannot be done (no such block, bad number, …)."""

    error_id = "agi.block_refused"


class LookupGaveUp(HotlineError):
    """A write found that the caller stopped waiting for it: nothing was committed."""

    error_id = "agi.lookup_gave_up"
