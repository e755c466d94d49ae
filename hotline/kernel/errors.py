"""The root of our exceptions: every package keeps its own in its `errors.py`, each class
with a stable, dotted `error_id` (`workorders.invalid_transition`) for logs and tests.
ConfigError lives here: every layer reports its configuration mistakes with it.
"""

from __future__ import annotations

from typing import ClassVar


class HotlineError(Exception):
    """Base of the exceptions the engine raises; catch a package's own class, not this."""

    error_id: ClassVar[str] = "hotline.error"


class ConfigError(HotlineError):
    """A configuration mistake: says the file, the field and what is allowed."""

    error_id: ClassVar[str] = "config.invalid"
