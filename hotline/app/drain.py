"""Stopping Asterisk without cutting anyone off: the dialplan refuses new calls while
`hotline/draining` is set in AstDB (it survives reloads and restarts), and the calls in
progress go on until they end or the limit is reached."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import subprocess
import time

from hotline.asterisk.root import asterisk_cmd
from hotline.asterisk.settings import AsteriskConfig

log = logging.getLogger(__name__)


async def asterisk_rx(settings: AsteriskConfig, command: str, timeout: float = 15) -> str:
    """An Asterisk CLI command's output; "" when Asterisk does not answer."""
    try:
        out = await asyncio.to_thread(
            subprocess.run,
            asterisk_cmd(settings.root, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout if out.returncode == 0 else ""


async def active_channels(settings: AsteriskConfig) -> int | None:
    found = re.search(
        r"(\d+) active channels?", await asterisk_rx(settings, "core show channels count")
    )
    return int(found.group(1)) if found else None


async def drain_asterisk(
    settings: AsteriskConfig,
    limit: float,
    *,
    stop_after: bool = False,
    cut_short: asyncio.Event | None = None,
) -> int:
    """Refuse new calls, wait for the channels to end (`limit` s at most, or until
    `cut_short`); the channels still up when it returns (0: none)."""
    await asterisk_rx(settings, "database put hotline draining 1")
    deadline = time.monotonic() + limit
    said = 0.0
    left = 0
    while not (cut_short is not None and cut_short.is_set()):
        left = await active_channels(settings) or 0
        if not left:
            break
        if time.monotonic() >= deadline:
            log.warning("%d channels still up after %.0f s of draining: cut", left, limit)
            break
        if time.monotonic() - said > 10:
            log.info("draining: %d channels up; new calls refused", left)
            said = time.monotonic()
        if cut_short is None:
            await asyncio.sleep(1)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cut_short.wait(), 1)
    if stop_after:
        await asterisk_rx(settings, "core stop now")
    return left


async def undrain_asterisk(settings: AsteriskConfig, wait: float = 120) -> bool:
    """Take calls again, once Asterisk answers (False: it did not within `wait` s)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if await asterisk_rx(settings, "core waitfullybooted", timeout=wait):
            await asterisk_rx(settings, "database del hotline draining")
            return True
        await asyncio.sleep(1)
    return False
