"""Everything that speaks to Asterisk or builds its root and configuration."""

from pathlib import Path

# The Jinja2 templates of Asterisk's configuration (rendered by hotline/app/render.py).
TEMPLATES = Path(__file__).resolve().parent / "templates"
