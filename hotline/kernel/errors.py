"""The root of our exceptions: every package keeps its own in its `errors.py`, each class
with a stable, dotted `error_id` (`workorders.invalid_transition`) for logs and tests.

The one exception that is not a HotlineError is config.names.ConfigError: the config layer
sits below the kernel and imports nothing of ours.
"""

from __future__ import annotations

from typing import ClassVar


class HotlineError(Exception):
    """Base of the exceptions the engine raises; catch a package's own class, not this."""

    error_id: ClassVar[str] = "hotline.error"
