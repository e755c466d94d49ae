"""`hotline --help` and every command's help start at once: no heavy module is imported.

Each check runs in a fresh interpreter (this test process has imported everything) and
lists the modules loaded. Heavy libraries belong inside the commands that use them
(README, "The `hotline` command"); the time itself is measured by `bench/cli_start.py`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# Top-level packages that no help page may load.
HEAVY = {
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "matplotlib",
    "numpy",
    "panoramisk",
    "vosk",
    "pydub",
    "psycopg",
    "psycopg2",
    "redis",
    "aiomqtt",
    "jinja2",
    "pydantic_settings",  # config.settings: the settings are loaded by a command, not by help
    "rich",  # the help is plain (rich_markup_mode=None): rich's renderer costs 0.1 s
}
# Our own heavy modules (they import the above, or every model).
HEAVY_OURS = {
    "hotline.config.settings",
    "hotline.kernel.db",
    "hotline.app.supervisor",
    "hotline.app.render",
}

# Renders the help of every group and command of the app, then lists the modules.
EVERY_HELP = """
import sys

import typer.main

from hotline.app.cli import app

def walk(cmd, parent, name):
    ctx = cmd.make_context(name, [], parent=parent, resilient_parsing=True)
    cmd.get_help(ctx)
    for sub in sorted(getattr(cmd, "commands", {})):
        walk(cmd.commands[sub], ctx, sub)

walk(typer.main.get_command(app), None, "hotline")
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""

LIST_MODULES = "import sys; print('\\n'.join(sorted(sys.modules)), file=sys.stderr)"


def heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY_OURS)


def test_every_help_page_imports_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", EVERY_HELP], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = out.stderr.split()
    assert "hotline.app.cli_agents" in modules
    assert heavy(modules) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["agent", "--help"],
        ["agent", "login", "--help"],
        ["users", "add", "--help"],
        ["asterisk", "cli", "--help"],
        ["up", "--help"],
        ["serve", "--help"],
        ["orders", "--help"],
    ],
    ids=" ".join,
)
def test_hotline_help_imports_nothing_heavy(args: list[str]) -> None:
    """As the console script runs it: parse the arguments, print the help, exit 0."""
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: exec({LIST_MODULES!r}))\n"
        "from hotline.app.cli import app\n"
        "app(prog_name='hotline')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("Usage: hotline")
    assert heavy(out.stderr.split()) == []
