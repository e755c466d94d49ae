"""Redis and Mosquitto for one unit test: a daemon of its own on a free port, started and
stopped by the test, and the Settings that use them."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from hotline.config.settings import Settings
from hotline.kernel.settings import ServiceUrl

# the unit tests' install namespace (Redis keys hotline:<ns>:…, MQTT topics hotline/<ns>/…)
TENANT = "nanning-unit"


def wait_port(port: int, up: bool = True, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if (s.connect_ex(("127.0.0.1", port)) == 0) == up:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} not {'up' if up else 'down'}")


class Daemon:
    def __init__(self, cmd: list[str], port: int) -> None:
        self.cmd, self.port = cmd, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            wait_port(self.port, up=False)


def settings_for(tmp_path: Path, redis_port: int, mqtt_port: int) -> Settings:
    return Settings(
        var_dir=tmp_path,
        namespace=TENANT,
        redis=ServiceUrl(port=redis_port, start_if_absent=False),
        mqtt=ServiceUrl(port=mqtt_port, start_if_absent=False),
    )
