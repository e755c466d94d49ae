"""The post-processing worker on real audio files and a migrated SQLite database."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydub import AudioSegment  # type: ignore[import-untyped]
from pydub.generators import Sine  # type: ignore[import-untyped]
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from hotline.recordings import worker
from hotline.recordings.archive import FORMATS, archive_one, sha256_file
from hotline.recordings.integrity import verify
from hotline.recordings.manifest import GENESIS, check_chain
from hotline.recordings.models import ManifestEntry, Recording, RecordingStatus
from tests.helpers.recordings_env import Env, add_call, make_env


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


def rec(env: Env, linkedid: str) -> Recording:
    with Session(env.engine) as s:
        r = s.exec(select(Recording).where(Recording.linkedid == linkedid)).one()
        s.expunge(r)
        return r


def chain(env: Env) -> list[ManifestEntry]:
    with Session(env.engine) as s:
        return list(s.exec(select(ManifestEntry).order_by(col(ManifestEntry.seq))))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_archive_one_each_format(tmp_path: Path, fmt: str) -> None:
    env = make_env(tmp_path)
    src = add_call(env, "1700000000.1", seconds=6)
    assert src is not None
    result = archive_one(src, tmp_path / "out", fmt, name="call")
    assert result.path == tmp_path / "out" / f"call.{FORMATS[fmt][0]}"
    assert abs(result.duration_seconds - 6) < 0.05
    assert result.sha256 == sha256_file(result.path) and result.size == result.path.stat().st_size
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o400
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700


def test_gsm_is_about_100_kb_a_minute(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    src = add_call(env, "1700000000.2", seconds=60)
    assert src is not None
    assert 95_000 <= archive_one(src, tmp_path / "out", "gsm").size <= 105_000


def test_worker_archives_chains_and_links(env: Env) -> None:
    src1 = add_call(env, "1700000001.1", seconds=8)
    add_call(env, "1700000002.1", seconds=5, agent="1002")
    outcomes = worker.process_pending(env.settings, env.engine)
    assert sorted(o.status for o in outcomes) == ["archived", "archived"]
    assert all(o.alarm is None for o in outcomes)

    r = rec(env, "1700000001.1")
    assert r.status == RecordingStatus.ARCHIVED and not r.truncated
    assert r.archive_format == "gsm" and r.archive_path.endswith("/1700000001.1.gsm")
    assert r.agent == "1001" and r.queue == "complaint"
    assert abs((r.duration_seconds or 0) - 8) < 0.1 and abs((r.expected_seconds or 0) - 8) < 0.1
    archived = env.settings.recordings_archive_dir / r.archive_path
    assert sha256_file(archived) == r.sha256
    assert src1 is not None and not src1.exists(), "the spool copy is removed once archived"

    links = chain(env)
    assert [e.seq for e in links] == [1, 2] and links[0].prev_hash == GENESIS
    assert links[1].prev_hash == links[0].entry_hash
    assert {e.sha256 for e in links} == {r.sha256, rec(env, "1700000002.1").sha256}
    assert check_chain(links) == []
    assert verify(Session(env.engine), env.settings.recordings_archive_dir).ok


def test_nothing_is_done_twice(env: Env) -> None:
    add_call(env, "1700000003.1", seconds=4)
    now = datetime.now(UTC)
    ids = worker.due_recordings(env.engine, now)
    assert len(ids) == 1
    # two workers (or a restart) racing on the same row: one wins, one link only
    first = worker.process_one(env.settings, env.engine, ids[0], now)
    again = worker.process_one(env.settings, env.engine, ids[0], now)
    assert (first.status, again.status) == ("archived", "skipped")
    assert worker.process_pending(env.settings, env.engine) == []
    assert len(chain(env)) == 1


def test_crash_after_transcode_before_commit_loses_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_call(env, "1700000004.1", seconds=4)

    def crash(*_a: object, **_k: object) -> bool:
        raise RuntimeError("power cut")

    monkeypatch.setattr(worker, "_finish", crash)
    with pytest.raises(RuntimeError):
        worker.process_pending(env.settings, env.engine)
    assert rec(env, "1700000004.1").status == RecordingStatus.PENDING
    monkeypatch.undo()
    assert [o.status for o in worker.process_pending(env.settings, env.engine)] == ["archived"]
    assert len(chain(env)) == 1
    assert verify(Session(env.engine), env.settings.recordings_archive_dir).ok


def test_short_recording_is_flagged_truncated_with_an_alarm(env: Env) -> None:
    add_call(env, "1700000005.1", seconds=20, audio_seconds=6)
    [outcome] = worker.process_pending(env.settings, env.engine)
    assert outcome.status == "archived"
    assert outcome.alarm is not None and outcome.alarm.kind == "recording_truncated"
    assert "6.0 s of a 20.0 s call" in outcome.alarm.message
    assert rec(env, "1700000005.1").truncated


def test_within_tolerance_is_not_truncated(env: Env) -> None:
    add_call(env, "1700000006.1", seconds=10, audio_seconds=9)
    [outcome] = worker.process_pending(env.settings, env.engine)
    assert outcome.alarm is None and not rec(env, "1700000006.1").truncated


def test_no_file_at_all_is_flagged_missing(env: Env) -> None:
    add_call(env, "1700000007.1", seconds=10, audio_seconds=0)
    # just after the call the file may still be closing: retried, not flagged
    assert [o.status for o in worker.process_pending(env.settings, env.engine)] == ["retry"]
    later = datetime.now(UTC) + timedelta(seconds=worker.MISSING_GRACE_SECONDS + 1)
    [outcome] = worker.process_pending(env.settings, env.engine, now=later)
    assert outcome.status == "missing" and outcome.alarm is not None
    r = rec(env, "1700000007.1")
    assert r.status == RecordingStatus.MISSING and r.truncated
    assert [e.kind for e in chain(env)] == ["missing"]


def test_manifest_is_insert_only(env: Env) -> None:
    add_call(env, "1700000008.1", seconds=3)
    worker.process_pending(env.settings, env.engine)
    with Session(env.engine) as s:
        entry = s.exec(select(ManifestEntry)).one()
        entry.sha256 = "0" * 64
        s.add(entry)
        with pytest.raises(DatabaseError, match="insert-only"):
            s.commit()
    with Session(env.engine) as s:
        s.delete(s.exec(select(ManifestEntry)).one())
        with pytest.raises(DatabaseError, match="insert-only"):
            s.commit()


def test_stereo_capture_is_archived_with_two_channels(tmp_path: Path) -> None:
    env = make_env(tmp_path, stereo=True, archive_format="opus")
    assert env.settings.recordings.format == "raw"
    add_call(env, "1700000009.1", seconds=5, audio_seconds=0)
    # what MixMonitor's D option writes: interleaved 16-bit 8 kHz, citizen left, agent right
    left = Sine(300, sample_rate=8000).to_audio_segment(duration=5000)
    right = Sine(700, sample_rate=8000).to_audio_segment(duration=5000)
    stereo = AudioSegment.from_mono_audiosegments(
        left.set_sample_width(2), right.set_sample_width(2)
    )
    with Session(env.engine) as s:
        r = s.exec(select(Recording).where(Recording.linkedid == "1700000009.1")).one()
        r.path = r.path.replace(".wav", ".raw")
        s.add(r)
        s.commit()
        raw = env.settings.root / r.path.lstrip("/")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(stereo.raw_data)
    [outcome] = worker.process_pending(env.settings, env.engine)
    assert outcome.status == "archived" and outcome.alarm is None
    r = rec(env, "1700000009.1")
    assert r.channels == 2 and r.archive_format == "opus"
    archived = AudioSegment.from_file(env.settings.recordings_archive_dir / r.archive_path)
    assert archived.channels == 2 and abs(len(archived) - 5000) < 100


def test_estimate_measures_each_format(tmp_path: Path) -> None:
    from hotline.recordings.estimate import estimate

    rows = {e.format: e for e in estimate(1000, 3.0, 3)}
    assert set(rows) == set(FORMATS)
    assert 95_000 <= rows["gsm"].bytes_per_minute <= 105_000  # the regulation-era ~100 kB/min
    assert 950_000 <= rows["wav"].bytes_per_minute <= 970_000  # 8 kHz 16-bit mono
    assert rows["gsm"].total_bytes == round(rows["gsm"].bytes_per_minute * 1000 * 3 * 365.25 * 3)


async def test_worker_tick_runs_the_queue_at_low_priority(env: Env) -> None:
    import os

    add_call(env, "1700000010.1", seconds=3)
    w = worker.RecordingWorker(env.settings, env.engine)
    await w.tick()
    assert w.archived == 1 and rec(env, "1700000010.1").status == RecordingStatus.ARCHIVED
    nice = w.pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, 0)).result()
    assert nice >= 10 and os.getpriority(os.PRIO_PROCESS, 0) < nice
    w.pool.shutdown()
