"""The systemd units `hotline service install-units` writes (app/units.py)."""

from __future__ import annotations

import configparser
from pathlib import Path

from hotline.app.service_state import describe
from hotline.app.units import render_units, write_units
from hotline.config.settings import Settings
from hotline.kernel.service_names import OUR_SERVICES as SERVICES
from hotline.kernel.settings import RuntimeSettings


def units(tmp_path: Path) -> dict[str, configparser.ConfigParser]:
    settings = Settings(
        var_dir=tmp_path / "var", runtime=RuntimeSettings(watchdog_seconds=20, drain_seconds=120)
    )
    written = write_units(
        render_units(settings, "hotline", "hotline", Path("/etc/hotline/hotline.env"), SERVICES),
        tmp_path / "systemd",
    )
    parsed = {}
    for path in written:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(path.read_text())
        parsed[str(path.relative_to(tmp_path / "systemd"))] = parser
    return parsed


def test_each_service_is_a_notify_unit_with_a_watchdog_and_restarts_for_ever(
    tmp_path: Path,
) -> None:
    u = units(tmp_path)
    service = u["hotline-service@.service"]
    assert service["Service"]["Type"] == "notify"
    assert service["Service"]["ExecStart"].endswith(" -m hotline serve %i --no-migrate")
    assert service["Service"]["Restart"] == "always"
    assert service["Service"]["WatchdogSec"] == "20"
    assert service["Service"]["WatchdogSignal"] == "SIGKILL"  # a SIGSTOPped one too
    assert service["Unit"]["StartLimitIntervalSec"] == "0"
    assert service["Unit"]["OnFailure"] == "hotline-alarm@%n.service"
    assert service["Service"]["User"] == "hotline" and service["Service"]["UMask"] == "0077"
    assert u["hotline-service@agi.service.d/watchdog.conf"]["Service"]["WatchdogSec"] == "5"
    wants = u["hotline.target"]["Unit"]["Wants"].split()
    assert {f"hotline-service@{n}.service" for n in SERVICES} <= set(wants)
    assert "hotline-asterisk.service" in wants


def test_asterisk_drains_on_stop_and_redis_and_mosquitto_restart(tmp_path: Path) -> None:
    u = units(tmp_path)
    asterisk = u["hotline-asterisk.service"]["Service"]
    assert asterisk["ExecStop"].endswith("-m hotline service drain --stop")
    assert asterisk["TimeoutStopSec"] == "180"  # the drain and a minute
    assert asterisk["ExecStart"].endswith("/usr/sbin/asterisk -f -n")
    assert asterisk["Restart"] == "always"
    for name in ("redis-server.service", "mosquitto.service"):
        assert u[f"{name}.d/hotline.conf"]["Service"]["Restart"] == "always"


def test_a_status_line_says_state_pid_and_restarts() -> None:
    line = describe(
        {"state": "running", "pid": 42, "since": 1000.0, "restarts": 2, "last_exit": "exit 1"},
        now=1065.0,
    )
    assert line == "running 65s, pid 42, 2 restarts, last: exit 1"
