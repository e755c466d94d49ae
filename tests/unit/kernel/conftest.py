"""Shared by the kernel's unit tests: a Mosquitto of the test's own, not started (a test
starts and stops it), keeping its sessions across restarts."""

from __future__ import annotations

import getpass
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemons import Daemon
from tests.helpers.ports import free_port


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Daemon]:
    exe = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin")
    assert exe, "mosquitto missing: scripts/setup installs it"
    port = free_port()
    data = tmp_path / "mosquitto"
    data.mkdir()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence true\npersistence_location {data}/\n"
        f"user {getpass.getuser()}\n"  # as root it would become `mosquitto`, unable to save
    )
    d = Daemon([exe, "-c", str(conf)], port)
    yield d
    d.stop()
