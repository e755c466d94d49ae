"""The crm_bridge package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 └── CdrError   crm_bridge.cdr_invalid   also a ValueError (cdr.py)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class CdrError(HotlineError, ValueError):
    """A CDR row that cannot be used (says which field and why)."""

    error_id = "crm_bridge.cdr_invalid"
