"""Health of each component, for `hotline status` and GET /api/status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from typing import Any

from sqlalchemy import text

from hotline.app import service_state
from hotline.app.tables import open_engine
from hotline.asterisk.root import asterisk_cmd, is_ready
from hotline.config.settings import Settings


async def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def redis_ok(settings: Settings) -> bool:
    from hotline.kernel.redis_conn import redis_client

    client = redis_client(settings, 1.0)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def mqtt_ok(settings: Settings) -> bool:
    import aiomqtt

    try:
        async with aiomqtt.Client(settings.mqtt.host, settings.mqtt.port, timeout=2):
            return True
    except Exception:
        return False


def asterisk_ok(settings: Settings) -> tuple[bool, str]:
    root = settings.root
    if not (root / "usr/sbin/asterisk").exists():
        return False, "not installed: run `hotline asterisk install`"
    try:
        out = subprocess.run(
            asterisk_cmd(root, "-rx", "core show uptime seconds"),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except subprocess.TimeoutExpired:
        return False, "control socket did not answer"
    if out.returncode != 0 or "System uptime" not in out.stdout:
        return False, "not running"
    return True, out.stdout.strip().splitlines()[0]


def database_ok(settings: Settings) -> tuple[bool, str]:
    try:
        engine = open_engine(settings)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True, settings.db_url.split("@")[-1]
    except Exception as exc:
        return False, str(exc).splitlines()[0]


async def speech_status(settings: Settings) -> dict[str, Any]:
    """The recognition service: up (ok), and whether it can listen (else callers get the
    key menu: that is not a failure)."""
    s = settings.speech
    where = f"{s.host}:{s.port}"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(s.host, s.port), 1)
    except (OSError, TimeoutError):
        return {"ok": False, "detail": f"{where}: not running"}
    try:
        writer.write(b'{"status": true}\n')
        await writer.drain()
        state = json.loads(await asyncio.wait_for(reader.readline(), 2) or b"{}")
    except (OSError, TimeoutError, ValueError):
        return {"ok": False, "detail": f"{where}: does not answer"}
    finally:
        writer.close()
    if state.get("ready"):
        detail = f"{where}: listening, {state.get('busy')}/{state.get('size')} recognisers busy"
    else:
        detail = f"{where}: key menus only ({state.get('reason', '')})"
    return {"ok": True, "detail": detail, "listening": bool(state.get("ready"))}


async def check_all(settings: Settings) -> dict[str, Any]:
    ast_ok, ast_detail = await asyncio.to_thread(asterisk_ok, settings)
    db_ok, db_detail = await asyncio.to_thread(database_ok, settings)
    components: dict[str, dict[str, Any]] = {
        "asterisk": {
            "ok": ast_ok,
            "detail": ast_detail,
            "installed": is_ready(settings.root) or ast_ok,
        },
        "ami": {
            "ok": await tcp_open(settings.ami.host, settings.ami.port),
            "detail": f"{settings.ami.host}:{settings.ami.port}",
        },
        "agi": {
            "ok": await tcp_open(settings.agi.host, settings.agi.port),
            "detail": f"{settings.agi.host}:{settings.agi.port}",
        },
        "api": {
            "ok": await tcp_open(settings.api.host, settings.api.port),
            "detail": f"http://{settings.api.host}:{settings.api.port}",
        },
        "database": {"ok": db_ok, "detail": db_detail},
        "redis": {
            "ok": await redis_ok(settings),
            "detail": f"{settings.redis.host}:{settings.redis.port} "
            f"keys hotline:{settings.live_namespace}:*",
        },
        "mqtt": {
            "ok": await mqtt_ok(settings),
            "detail": f"{settings.mqtt.host}:{settings.mqtt.port} "
            f"topics hotline/{settings.live_namespace}/#",
        },
    }
    from hotline.kernel.alarms import pending_count

    waiting = await asyncio.to_thread(pending_count, settings)
    components["mqtt"]["alarms_waiting"] = waiting
    if waiting:  # kept in var/alarms/ until the broker has them
        components["mqtt"]["detail"] += f", {waiting} alarms waiting"
    components["speech"] = await speech_status(settings)
    from hotline.recordings.diskguard import check_space, describe

    space = await asyncio.to_thread(check_space, settings)
    components["recordings"] = {
        "ok": not any(r.low for r in space),
        "detail": describe(space, settings.recordings.min_free_mb),
    }
    from hotline.speech.model import speech_problem

    # optional: without a model the menu is keys only and messages wait for their text
    speech_why = await asyncio.to_thread(speech_problem, settings)
    components["speech_model"] = {
        "ok": speech_why is None,
        "optional": True,
        "detail": speech_why or f"model {settings.speech_model_dir}",
    }
    return with_kept_processes(settings, components)


def with_kept_processes(settings: Settings, components: dict[str, Any]) -> dict[str, Any]:
    """The report, with how each process `hotline up` keeps is doing (when it runs)."""
    report: dict[str, Any] = {"components": components}
    kept = service_state.read_services(settings)
    if kept is not None:
        report["services"] = kept
        if "bridge" in kept:
            components["bridge"] = {"ok": kept["bridge"]["state"] == "running"}
            components["bridge"]["detail"] = service_state.describe(kept["bridge"])
    # a service stopped with `hotline service stop` is as asked; one being started again is not
    running = all(c["state"] in ("running", "stopped") for c in (kept or {}).values())
    report["ok"] = overall_ok(components) and running
    return report


def overall_ok(components: dict[str, dict[str, Any]]) -> bool:
    """Every required component up; an optional one (the speech model) only informs."""
    return all(c["ok"] or c.get("optional", False) for c in components.values())
