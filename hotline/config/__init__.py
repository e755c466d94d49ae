"""Settings and default configuration files.

Owns: the root Settings, composed of every package's own sections (each package's
settings.py), and loading `hotline/config/hotline.yaml` (or HOTLINE_CONFIG_FILE) and HOTLINE_*
variables into it. Must not: start services or touch Asterisk.
"""
