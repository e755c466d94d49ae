"""What the supervisor tells the rest: its children's states (var/run/services.json, read
by `hotline status` and the API's status) and its control socket (var/run/control.sock,
`hotline service …` and `hotline down`)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from hotline.kernel.alarms import Alarm
from hotline.kernel.settings import Site


def services_file(settings: Site) -> Path:
    return settings.run_dir / "services.json"


def control_socket(settings: Site) -> Path:
    return settings.run_dir / "control.sock"


def write_services(settings: Site, children: dict[str, dict[str, Any]]) -> None:
    path = services_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"supervisor": os.getpid(), "at": time.time(), "children": children}))
    tmp.replace(path)


def read_services(settings: Site) -> dict[str, dict[str, Any]] | None:
    """The kept children's states, or None when no supervisor runs (systemd, or down)."""
    try:
        data = json.loads(services_file(settings).read_text())
        pid = int(data["supervisor"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not Path(f"/proc/{pid}").exists():
        return None
    children: dict[str, dict[str, Any]] = data.get("children", {})
    return children


def control(settings: Site, request: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
    """One request to the running supervisor; OSError when none listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(control_socket(settings)))
        sock.sendall(json.dumps(request).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    if not reply:
        raise ConnectionError("the supervisor closed the control connection without a reply")
    answer: dict[str, Any] = json.loads(reply)
    return answer


def describe(child: dict[str, Any], now: float | None = None) -> str:
    """One line of `hotline status` for a kept child."""
    since = int((now or time.time()) - float(child.get("since", 0)))
    age = f"{since // 3600}h{since % 3600 // 60:02d}m" if since >= 3600 else f"{since}s"
    parts = [f"{child.get('state')} {age}"]
    if child.get("pid"):
        parts.append(f"pid {child['pid']}")
    if child.get("restarts"):
        parts.append(f"{child['restarts']} restarts, last: {child.get('last_exit')}")
    if child.get("status"):
        parts.append(str(child["status"]))
    return ", ".join(parts)


def restart_alarm(name: str, message: str) -> Alarm:
    """The alarm for a kept process that ended: Asterisk's cut calls, ours did not."""
    if name == "asterisk":
        return Alarm(kind="asterisk_restarted", message=message, severity="critical")
    return Alarm(kind="service_restarted", message=message, severity="major")
