"""Recordings on a real PostgreSQL: the worker's queue, the chain and its insert-only trigger."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from hotline.kernel.db import make_engine, upgrade
from hotline.recordings import worker
from hotline.recordings.integrity import verify
from hotline.recordings.models import ManifestEntry
from tests.helpers.recordings_env import Env, add_call, make_env


def test_archive_chain_and_insert_only_on_postgresql(
    tmp_path: Path,
    pg_url: str,
) -> None:
    upgrade(pg_url)
    env = Env(make_env(tmp_path).settings, make_engine(pg_url))
    for i in range(2):
        add_call(env, f"1700000300.{i}", seconds=3)
    assert [o.status for o in worker.process_pending(env.settings, env.engine)] == ["archived"] * 2
    assert worker.process_pending(env.settings, env.engine) == []
    with Session(env.engine) as s:
        assert verify(s, env.settings.recordings_archive_dir).ok
        entry = s.exec(select(ManifestEntry).where(ManifestEntry.seq == 1)).one()
        entry.size = 1
        s.add(entry)
        with pytest.raises(DatabaseError, match="insert-only"):
            s.commit()
    env.engine.dispose()
