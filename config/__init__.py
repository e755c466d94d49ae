"""Settings and default configuration files.

Owns: loading `config/hotline.yaml` (or HOTLINE_CONFIG_FILE) and HOTLINE_* variables
into one validated Settings object. Must not: start services or touch Asterisk.
"""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
