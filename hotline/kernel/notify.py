"""A service telling its keeper how it is: systemd's notification protocol (sd_notify).

The same datagrams reach systemd (Type=notify, WatchdogSec=) in production and `hotline up`'s
supervisor in development, which binds a socket per service and passes it the same way
($NOTIFY_SOCKET, $WATCHDOG_USEC). The protocol is a line of KEY=value per datagram on a Unix
socket, too small to take a dependency for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket


def notify(message: str) -> bool:
    """Send READY=1, WATCHDOG=1, STOPPING=1 or STATUS=…; False when nobody listens."""
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path  # @: abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


def watchdog_seconds() -> float | None:
    """The keeper's watchdog period, when it set one for this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000


async def keep_telling_alive() -> None:
    """WATCHDOG=1 a few times per watchdog period, from this event loop: a loop that stalls
    (a blocking call, a deadlock, SIGSTOP) stops saying it, and its keeper kills it."""
    period = watchdog_seconds()
    if period is None:
        return
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(period / 4)


def ready() -> None:
    notify("READY=1")


def stopping() -> None:
    with contextlib.suppress(OSError):
        notify("STOPPING=1")
