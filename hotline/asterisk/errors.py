"""The asterisk package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 └── InstallError   asterisk.install_failed   the Asterisk root (root.py)

The AMI client (ami.py) raises ConnectionError; refusals of AMI actions are the acd's
(acd/errors.py, AmiRefused).
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class InstallError(HotlineError):
    """The Asterisk root could not be built; the message says what to do."""

    error_id = "asterisk.install_failed"
