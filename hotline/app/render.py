"""Render Asterisk's configuration from hotline/asterisk/templates with values from config/."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hotline.acd.agent_state import PAUSE_REASONS
from hotline.acd.agents import all_agents
from hotline.asterisk import TEMPLATES
from hotline.asterisk.root import asterisk_ids, in_chroot, restore_kept_samples
from hotline.config.settings import Settings
from hotline.kernel.names import asterisk_queue

NOLOAD = [
    # channel drivers and services that would open ports or need hardware
    "chan_iax2.so",
    "chan_unistim.so",
    "chan_motif.so",
    "chan_console.so",
    "res_xmpp.so",
    "pbx_dundi.so",
    "res_phoneprov.so",
    "res_pjsip_phoneprov_provider.so",
    "chan_websocket.so",
    "res_hep.so",
    "res_hep_pjsip.so",
    "res_hep_rtcp.so",
    "res_prometheus.so",
    "res_snmp.so",
    "res_statsd.so",
    "res_smdi.so",
    "res_stun_monitor.so",
    "res_config_ldap.so",
    "res_config_pgsql.so",
    "res_config_odbc.so",
    "res_config_sqlite3.so",
    "res_config_curl.so",
    "res_odbc.so",
    "res_odbc_transaction.so",
    "cdr_pgsql.so",
    "cdr_odbc.so",
    "cdr_adaptive_odbc.so",
    "cdr_tds.so",
    "cdr_radius.so",
    "cdr_custom.so",
    "cdr_manager.so",
    "cel_pgsql.so",
    "cel_odbc.so",
    "cel_tds.so",
    "cel_radius.so",
    "cel_sqlite3_custom.so",
    "cel_custom.so",
    "cel_manager.so",
    "res_calendar.so",
    "res_calendar_caldav.so",
    "res_calendar_ews.so",
    "res_calendar_exchange.so",
    "res_calendar_icalendar.so",
    "pbx_lua.so",
    "pbx_ael.so",
    "pbx_realtime.so",
    "app_festival.so",
    "app_jack.so",
    "app_voicemail_odbc.so",
    "func_odbc.so",
    "res_fax_spandsp.so",
    "res_resolver_unbound.so",
    "res_stir_shaken.so",
    "res_pjsip_stir_shaken.so",
    "app_minivm.so",
    "app_voicemail.so",
    "app_agent_pool.so",
    "app_alarmreceiver.so",
    "app_followme.so",
]

CONFIG_FILES = {
    "pjsip.conf": 0o640,
    "extensions.conf": 0o640,
    "extensions_bench.conf": 0o640,
    "features.conf": 0o640,
    "confbridge.conf": 0o640,
    "queues.conf": 0o640,
    "manager.conf": 0o640,
    "modules.conf": 0o644,
    "logger.conf": 0o644,
    "rtp.conf": 0o644,
    "http.conf": 0o644,
    "cdr.conf": 0o644,
    "cdr_sqlite3_custom.conf": 0o644,
    "musiconhold.conf": 0o644,
    "asterisk.conf": 0o644,
}


# bench/ flows next to the reference (extensions_bench.conf.j2)
BENCH_NUMBERS = {"ref_norec": "12397", "classic": "12398"}
BENCH_CLASSIC_AGI = "/opt/hotline-bench/classic_ivr.py"


def _sipsafe(value: str) -> str:
    return "".join(c for c in value if c not in '"<>\r\n;')


def ensure_secrets(settings: Settings) -> None:
    """Generate the AMI secret into var/secrets.env (0600) once."""
    if settings.ami.secret:
        return
    path = settings.var_dir / "secrets.env"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    with path.open("a") as fh:
        fh.write(f"HOTLINE_AMI__SECRET={secret}\n")
    os.chmod(path, 0o600)
    settings.ami.secret = secret


def context(settings: Settings) -> dict[str, Any]:
    root = settings.root
    modules = next(iter(sorted((root / "usr/lib").glob("*/asterisk/modules"))), None)
    agents = all_agents(settings)
    return {
        "sip": settings.sip,
        "ami": settings.ami,
        "agi": settings.agi,
        "emergency": settings.emergency,
        "emergency_lines": settings.emergency.resolved(),
        "waiting": settings.waiting,
        "tenant": settings.tenant,
        "timezone": settings.timezone,
        "queues": settings.queues,
        "wrapup": {q.name: settings.wrapup_seconds(q.name) for q in settings.queues},
        "widening": settings.widening_steps(),
        "overflow": settings.acd.overflow,
        "acd": settings.acd,
        "pause_reasons": PAUSE_REASONS,
        "general_queue": asterisk_queue("general"),
        "agents": agents,
        "agent_queues": {
            a.id: [(asterisk_queue(q), a.penalty(q)) for q in a.queues] for a in agents
        },
        "recordings_dir": str(settings.recordings_dir),
        "recording_ext": settings.recordings.format,
        "ami_permit": "127.0.0.1/255.255.255.255"
        if settings.ami.host in ("127.0.0.1", "localhost")
        else "0.0.0.0/0.0.0.0",
        "noload": NOLOAD,
        "bench_reference": settings.bench_reference,
        "bench_reference_number": settings.bench_reference_number,
        **(_reference_menu(settings) if settings.bench_reference else {}),
        "modules_dir": str(Path("/") / modules.relative_to(root))
        if modules
        else "/usr/lib/x86_64-linux-gnu/asterisk/modules",
    }


def _reference_menu(settings: Settings) -> dict[str, Any]:
    """The IVR menu, for the dialplan-only reference flow of bench/."""
    from hotline.agi.menu import load_menu, menu_file

    menu = load_menu(menu_file(), settings.queue_names())
    return {
        "bench_numbers": BENCH_NUMBERS | {"ref": settings.bench_reference_number},
        "bench_classic_agi": BENCH_CLASSIC_AGI,
        "bench_keys": {
            k: {"request_type": v.request_type or "", "queue": v.queue}
            for k, v in menu.keys.items()
            if k.isdigit()
        },
        "bench_prompts": {
            "welcome": menu.welcome_prompt,
            "menu": menu.menu_prompt,
            "transfer": menu.transfer_prompt,
            "timeout": menu.menu_timeout_seconds,
        },
    }


def render_all(settings: Settings) -> list[Path]:
    """Write every config file into the root's /etc/asterisk; return their paths."""
    ensure_secrets(settings)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Asterisk config, not HTML
    )
    env.filters["sipsafe"] = _sipsafe
    ctx = context(settings)
    etc = settings.root / "etc/asterisk"
    etc.mkdir(parents=True, exist_ok=True)
    uid, gid = asterisk_ids(settings.root)
    written = []
    for name, mode in CONFIG_FILES.items():
        text = env.get_template(name + ".j2").render(ctx)
        path = etc / name
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, mode)
        if os.geteuid() == 0:
            os.chown(tmp, 0, gid)
        tmp.replace(path)
        written.append(path)
    _prepare_dirs(settings, uid, gid)
    if in_chroot(settings.root):
        restore_kept_samples(settings.root)
    return written


def _prepare_dirs(settings: Settings, uid: int, gid: int) -> None:
    root = settings.root
    for rel, mode in (
        ("run/asterisk", 0o755),
        ("var/log/asterisk", 0o750),
        ("var/spool/asterisk", 0o750),
        ("var/spool/asterisk/monitor", 0o750),
        (str(settings.recordings_dir).lstrip("/"), 0o750),
        ("var/lib/asterisk", 0o750),
        ("usr/share/asterisk/moh-hotline", 0o755),
    ):
        d = root / rel
        d.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and root.resolve() != Path("/"):
            os.chown(d, uid, gid)
            os.chmod(d, mode)
