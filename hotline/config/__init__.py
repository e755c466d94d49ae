"""Settings and default configuration files.

Owns: loading `hotline/config/hotline.yaml` (or HOTLINE_CONFIG_FILE) and HOTLINE_* variables
into one validated Settings object. Must not: start services or touch Asterisk.

`config.Settings` and `config.load_settings` load config.settings (pydantic) on first use,
so that importing the light config.names does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotline.config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hotline.config import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'config' has no attribute {name!r}")
