"""systemd units for production: one per service, Asterisk on its own, the database schema
before them, an alarm when one fails; Debian's own Redis and Mosquitto units with our restart
policy (drop-ins). `hotline service install-units` writes them."""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2

from hotline.asterisk import root as asterisk_root
from hotline.config.settings import Settings

TEMPLATES = Path(__file__).resolve().parent / "units"
RESTART_DROP_IN = """# Written by `hotline service install-units`: the hotline needs it back.
[Unit]
StartLimitIntervalSec=0

[Service]
Restart=always
RestartSec=1
"""


@dataclass(frozen=True)
class Unit:
    path: Path  # relative to the systemd directory
    text: str


def hotline_command() -> str:
    """How systemd starts the CLI: this Python, with this checkout or install on its path."""
    return shlex.join([sys.executable, "-m", "hotline"])


def render_units(
    settings: Settings, user: str, group: str, env_file: Path, services: tuple[str, ...]
) -> list[Unit]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - systemd units, not HTML
    )
    rt = settings.runtime
    after = " ".join(
        name
        for name, server in (
            ("redis-server.service", settings.redis),
            ("mosquitto.service", settings.mqtt),
        )
        if server.start_if_absent
    )
    values = {
        "hotline": hotline_command(),
        "asterisk": shlex.join(asterisk_root.asterisk_cmd(settings.root, "-f", "-n")),
        "user": user,
        "group": group,
        "workdir": str(Path.cwd()),
        "env_file": str(env_file),
        "var_dir": str(settings.var_dir),
        "after": after,
        "restart_seconds": 1,
        "watchdog_seconds": int(rt.watchdog_seconds),
        "start_timeout_seconds": int(rt.start_timeout_seconds),
        "drain_seconds": rt.drain_seconds,
        "wants": " ".join([*(f"hotline-service@{n}.service" for n in services), *after.split()]),
    }
    units = [
        Unit(Path(name.removesuffix(".j2")), env.get_template(name).render(values))
        for name in (
            "hotline.target.j2",
            "hotline-asterisk.service.j2",
            "hotline-migrate.service.j2",
            "hotline-service@.service.j2",
            "hotline-alarm@.service.j2",
        )
    ]
    agi_watchdog = f"[Service]\nWatchdogSec={int(rt.agi_watchdog_seconds)}\n"
    units.append(Unit(Path("hotline-service@agi.service.d/watchdog.conf"), agi_watchdog))
    for name in after.split():
        units.append(Unit(Path(f"{name}.d/hotline.conf"), RESTART_DROP_IN))
    return units


def write_units(units: list[Unit], directory: Path) -> list[Path]:
    written = []
    for unit in units:
        path = directory / unit.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(unit.text)
        written.append(path)
    return written


def systemctl() -> str | None:
    return shutil.which("systemctl")
