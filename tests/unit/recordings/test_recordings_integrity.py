"""verify names every missing, altered or extra file; purge keeps what is held or young."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hotline.config.settings import load_settings
from hotline.kernel.errors import ConfigError
from hotline.recordings import worker
from hotline.recordings.integrity import verify
from hotline.recordings.manifest import check_chain
from hotline.recordings.models import ManifestEntry, Recording, RecordingStatus
from hotline.recordings.retention import add_years, place_hold, purge, release_hold
from hotline.workorders.models import WorkOrder
from tests.helpers.recordings_env import Env, add_call, make_env


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = make_env(tmp_path)
    for i in range(3):
        add_call(e, f"1700000100.{i}", seconds=3 + i)
    assert [o.status for o in worker.process_pending(e.settings, e.engine)] == ["archived"] * 3
    return e


def archived(env: Env) -> dict[str, Path]:
    with Session(env.engine) as s:
        rows = s.exec(select(Recording).where(Recording.status == RecordingStatus.ARCHIVED))
        return {r.linkedid: env.settings.recordings_archive_dir / r.archive_path for r in rows}


def run_verify(env: Env) -> list[str]:
    with Session(env.engine) as s:
        return verify(s, env.settings.recordings_archive_dir).problems


def test_intact_archive_verifies(env: Env) -> None:
    assert run_verify(env) == []


def test_flipped_byte_is_named(env: Env) -> None:
    path = archived(env)["1700000100.1"]
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    problems = run_verify(env)
    assert problems == [f"altered file {path} (call 1700000100.1): hash differs"]


def test_deleted_file_is_named(env: Env) -> None:
    path = archived(env)["1700000100.2"]
    path.unlink()
    assert run_verify(env) == [f"missing file {path} (call 1700000100.2)"]


def test_extra_file_is_named(env: Env) -> None:
    stray = env.settings.recordings_archive_dir / "2020/01/01/intruder.gsm"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x" * 33)
    assert run_verify(env) == [f"extra file {stray}: not in the manifest"]


def test_altered_chain_entry_is_detected(env: Env) -> None:
    # the triggers stop an UPDATE; a forger who drops them still breaks the hashes
    with Session(env.engine) as s:
        entries = list(s.exec(select(ManifestEntry).order_by(col(ManifestEntry.seq))))
    entries[1].size += 1
    assert [p.seq for p in check_chain(entries)] == [2]
    del entries[0]
    assert check_chain(entries)[0].message == "entry 1 is missing before 2"


def test_cli_verify_exit_code_and_names(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.app.cli import app

    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(tmp_path / "hotline.yaml"))
    runner = CliRunner()
    ok = runner.invoke(app, ["recordings", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 chain entries, 3 files checked: OK" in ok.output
    path = archived(env)["1700000100.0"]
    path.unlink()
    bad = runner.invoke(app, ["recordings", "verify"])
    assert bad.exit_code == 1
    assert f"missing file {path}" in bad.output


def test_purge_with_the_clock_moved_forward(env: Env) -> None:
    archive = env.settings.recordings_archive_dir
    files = archived(env)
    with Session(env.engine) as s:
        # an older call, a call held directly, a call held through its work order
        old = s.exec(select(Recording).where(Recording.linkedid == "1700000100.0")).one()
        old.created_at -= timedelta(days=60)
        s.add(old)
        s.add(
            WorkOrder(
                number="20261124-000001",
                request_type="complaint",
                linkedid="1700000100.2",
                accepted_at=datetime.now(UTC),
            )
        )
        place_hold(s, reason="court case 2026-17", by="legal", linkedid="1700000100.1")
        place_hold(s, reason="citizen appeal", by="legal", work_order_number="20261124-000001")
        s.commit()

    in_two_years = datetime.now(UTC) + timedelta(days=730)
    with Session(env.engine) as s:
        report = purge(s, archive, retention_years=3, now=in_two_years)
    assert report.deleted == [] and report.kept == 3
    assert all(p.exists() for p in files.values())

    # three years after the oldest call, but before the others: only it goes
    just_after_oldest = add_years(datetime.now(UTC) - timedelta(days=60), 3) + timedelta(days=1)
    with Session(env.engine) as s:
        dry = purge(s, archive, retention_years=3, now=just_after_oldest, dry_run=True)
        assert [r.linkedid for r in dry.deleted] == ["1700000100.0"]
    assert files["1700000100.0"].exists(), "a dry run deletes nothing"
    with Session(env.engine) as s:
        report = purge(s, archive, retention_years=3, now=just_after_oldest)
    assert [r.linkedid for r in report.deleted] == ["1700000100.0"]
    assert not files["1700000100.0"].exists()

    # far in the future: the two held calls stay, until their holds are released
    far = datetime.now(UTC) + timedelta(days=3650)
    with Session(env.engine) as s:
        report = purge(s, archive, retention_years=3, now=far)
    assert report.deleted == []
    assert sorted(r.linkedid for r in report.held) == ["1700000100.1", "1700000100.2"]
    with Session(env.engine) as s:
        release_hold(s, 1, by="legal")
        s.commit()
        report = purge(s, archive, retention_years=3, now=far)
    assert [r.linkedid for r in report.deleted] == ["1700000100.1"]
    assert files["1700000100.2"].exists()

    # every deletion is a link in the chain, and the archive still verifies
    with Session(env.engine) as s:
        kinds = [
            (e.kind, e.linkedid)
            for e in s.exec(select(ManifestEntry).order_by(col(ManifestEntry.seq)))
        ]
        gone = s.exec(select(Recording).where(Recording.linkedid == "1700000100.0")).one()
        assert gone.status == RecordingStatus.PURGED and gone.purged_at is not None
    assert kinds[3:] == [("purged", "1700000100.0"), ("purged", "1700000100.1")]
    assert run_verify(env) == []


def test_retention_below_three_years_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "hotline.yaml"
    cfg.write_text("recordings: {retention_years: 2}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    text = str(err.value)
    assert str(cfg) in text and "recordings.retention_years" in text
    assert "at least 3 years" in text and "art. 28" in text


@pytest.mark.usefixtures("own_var")
def test_stereo_needs_a_stereo_format(tmp_path: Path) -> None:
    cfg = tmp_path / "hotline.yaml"
    cfg.write_text("recordings: {stereo: true}\n")
    with pytest.raises(ConfigError, match="stereo needs archive_format wav, mp3 or opus"):
        load_settings(cfg)
    cfg.write_text("recordings: {stereo: true, archive_format: opus}\n")
    assert load_settings(cfg).recordings.format == "raw"


def test_leap_day_retention_is_never_shorter() -> None:
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert add_years(leap, 3) == datetime(2031, 3, 1, 12, tzinfo=UTC)


def test_disk_guard_names_each_place(tmp_path: Path) -> None:
    from hotline.recordings.diskguard import check_space, describe

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    roomy = make_env(tmp_path / "a")
    assert [(r.name, r.low) for r in check_space(roomy.settings)] == [
        ("spool", False),
        ("archive", False),
    ]
    # a threshold no disk meets: every place is low, and says so
    tight = make_env(tmp_path / "b", min_free_mb=10**12, secondary_dir="/var/spool/second")
    reports = check_space(tight.settings)
    assert [(r.name, r.low) for r in reports] == [
        ("spool", True),
        ("secondary", True),
        ("archive", True),
    ]
    assert describe(reports, 10**12).count("(LOW)") == 3
