"""The disk guard's spool choice: kept in AstDB (spool.py), read back at every check, so
that a reload, a restart or a hand that changes it is put right at the next check."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hotline.app import render
from hotline.kernel.alarms import Alarm
from hotline.recordings import spool, worker
from hotline.recordings.diskguard import SpaceReport
from hotline.recordings.errors import SpoolError
from tests.helpers.fake_astdb import FakeAsteriskCli
from tests.helpers.recordings_env import make_env

KEY = "/hotline/recdir"
SECOND = "/var/spool/second"


@pytest.fixture
def free(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, float]:
    """Free MB per place the disk guard checks (limit 100); the test changes them."""
    space = {"spool": 9000.0, "secondary": 9000.0, "archive": 9000.0}
    monkeypatch.setattr(
        worker,
        "check_space",
        lambda _s: [SpaceReport(n, tmp_path, mb, mb < 100) for n, mb in space.items()],
    )
    return space


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Alarm]:
    alarms: list[Alarm] = []

    async def publish(_s: object, alarm: Alarm) -> bool:
        alarms.append(alarm)
        return True

    monkeypatch.setattr(worker, "publish", publish)
    return alarms


def make_worker(tmp_path: Path, **recordings: object) -> worker.RecordingWorker:
    env = make_env(tmp_path, min_free_mb=100, **recordings)
    return worker.RecordingWorker(env.settings, env.engine)


async def test_a_full_spool_moves_recording_to_the_secondary_and_back(
    tmp_path: Path, free: dict[str, float], sent: list[Alarm], asterisk_cli: FakeAsteriskCli
) -> None:
    w = make_worker(tmp_path, secondary_dir=SECOND)
    await w.guard_disk()
    assert w.on_secondary is False and asterisk_cli.writes() == []  # nothing to change
    free["spool"] = 50.0
    await w.guard_disk()
    await w.guard_disk()  # still low: no second alarm, no second write
    assert [a.kind for a in sent] == ["disk_low"] and "spool 50 MB free (LOW)" in sent[0].message
    assert asterisk_cli.db == {KEY: SECOND} and w.on_secondary is True
    assert asterisk_cli.writes() == [f'database put hotline recdir "{SECOND}"']
    free["spool"] = 5000.0  # space again: back to the primary spool, the key gone
    await w.guard_disk()
    assert asterisk_cli.db == {} and w.on_secondary is False
    assert asterisk_cli.writes()[-1] == "database del hotline recdir"
    assert [a.kind for a in sent] == ["disk_low"]
    w.pool.shutdown()


async def test_a_choice_lost_in_asterisk_is_made_again_at_the_next_check(
    tmp_path: Path, free: dict[str, float], sent: list[Alarm], asterisk_cli: FakeAsteriskCli
) -> None:
    """The issue: the worker trusted its own flag, so a reset in Asterisk was never undone."""
    w = make_worker(tmp_path, secondary_dir=SECOND)
    free["spool"] = 50.0
    await w.guard_disk()
    await w.guard_disk()
    assert asterisk_cli.db == {KEY: SECOND} and len(asterisk_cli.writes()) == 1
    asterisk_cli.db.clear()  # a new root, or `database del` by hand
    await w.guard_disk()
    assert asterisk_cli.db == {KEY: SECOND} and len(asterisk_cli.writes()) == 2
    asterisk_cli.db[KEY] = "/var/spool/elsewhere"  # an older secondary_dir
    await w.guard_disk()
    assert asterisk_cli.db == {KEY: SECOND}
    free["spool"] = 5000.0
    asterisk_cli.db[KEY] = SECOND
    await w.guard_disk()
    assert asterisk_cli.db == {}
    w.pool.shutdown()


async def test_secondary_also_full_stays_on_the_primary(
    tmp_path: Path, free: dict[str, float], sent: list[Alarm], asterisk_cli: FakeAsteriskCli
) -> None:
    w = make_worker(tmp_path, secondary_dir=SECOND)
    free["spool"] = free["secondary"] = 50.0
    await w.guard_disk()
    assert asterisk_cli.db == {} and w.on_secondary is False
    assert sorted(a.message.split(":")[0] for a in sent) == [
        "recordings secondary",
        "recordings spool",
    ]
    w.pool.shutdown()


async def test_asterisk_down_is_logged_once_and_the_switch_made_when_it_answers(
    tmp_path: Path,
    free: dict[str, float],
    sent: list[Alarm],
    asterisk_cli: FakeAsteriskCli,
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make_worker(tmp_path, secondary_dir=SECOND)
    free["spool"] = 50.0
    asterisk_cli.down = True
    with caplog.at_level(logging.ERROR, logger=worker.__name__):
        await w.guard_disk()
        await w.guard_disk()
    assert w.on_secondary is None and w.status()["on_secondary"] is None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Unable to connect to remote asterisk" in errors[0], errors
    asterisk_cli.down = False
    await w.guard_disk()
    assert asterisk_cli.db == {KEY: SECOND} and w.on_secondary is True
    assert [a.kind for a in sent] == ["disk_low"]  # the alarm did not wait for Asterisk
    w.pool.shutdown()


async def test_without_a_secondary_a_left_over_choice_is_cleared_once(
    tmp_path: Path, free: dict[str, float], sent: list[Alarm], asterisk_cli: FakeAsteriskCli
) -> None:
    w = make_worker(tmp_path)
    asterisk_cli.db[KEY] = SECOND  # from a configuration that had secondary_dir
    free["spool"] = 50.0
    await w.guard_disk()
    assert asterisk_cli.db == {} and w.on_secondary is False
    asked = len(asterisk_cli.commands)
    await w.guard_disk()
    await w.guard_disk()
    assert len(asterisk_cli.commands) == asked  # once cleared, Asterisk is not asked again
    w.pool.shutdown()


def test_a_directory_with_spaces_and_quotes_is_one_argument(
    tmp_path: Path, asterisk_cli: FakeAsteriskCli
) -> None:
    odd = '/var/spool/disk two/"b"\\c'
    assert spool.choose_spool(tmp_path, odd) == odd
    assert asterisk_cli.db == {KEY: odd}
    assert spool.choose_spool(tmp_path, None) is None and asterisk_cli.db == {}


def test_an_answer_it_does_not_know_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asterisk_cli: FakeAsteriskCli
) -> None:
    monkeypatch.setattr(asterisk_cli, "answer", lambda _words: "No such command 'database'\n")
    with pytest.raises(SpoolError, match="unexpected answer \"No such command 'database'"):
        spool.chosen_spool(tmp_path)


def test_the_dialplan_records_under_the_astdb_key_else_the_default(
    tmp_path: Path, asterisk_root: Path
) -> None:
    """Both places that start MixMonitor read the key spool.py writes, before naming the file."""
    env = make_env(tmp_path)
    settings = env.settings.model_copy(update={"asterisk_root": asterisk_root})
    render.render_all(settings)
    ext = (asterisk_root / "etc/asterisk/extensions.conf").read_text()
    assert f"HOTLINE_RECDIR={settings.recordings_dir}\n" in ext  # [globals]: the default
    read = f"Set(HOTLINE_RECDIR=${{DB({spool.FAMILY}/{spool.KEY})}})"
    default = 'ExecIf($["${HOTLINE_RECDIR}" = ""]?Set(HOTLINE_RECDIR=${GLOBAL(HOTLINE_RECDIR)}))'
    named = "Set(HOTLINE_RECORDING=${HOTLINE_RECDIR}/"
    for context in ("[hotline-inbound]", "[hotline-callback-dial]"):
        body = ext[ext.index(context) :]
        body = body[: body.index("MixMonitor(")]
        assert body.index(read) < body.index(default) < body.index(named), context
