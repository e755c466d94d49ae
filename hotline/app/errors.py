"""The composition root's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 └── StartError   app.start_failed   `hotline up` (supervisor.py)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class StartError(HotlineError):
    """A component could not start; the message says which and why."""

    error_id = "app.start_failed"
