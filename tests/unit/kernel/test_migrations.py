"""The migrations (hotline/migrations/versions) read in order, and on SQLite make exactly
the schema the models declare (tests/db/test_migrations_pg.py: the same on PostgreSQL)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory

from hotline.app.tables import metadata
from hotline.kernel.db import alembic_config, make_engine
from tests.helpers.schema import (
    INSERT_ONLY,
    differences,
    downgrade_to_base,
    migrated,
    only_defaults_the_models_lack,
    tables,
)


def test_the_revisions_read_in_order_one_chain_numbered_without_gaps() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = list(reversed(list(script.walk_revisions())))  # base first
    assert len(script.get_heads()) == 1
    files = [Path(str(r.path)).name for r in chain]
    assert files == sorted(files)
    for number, (name, revision) in enumerate(zip(files, chain, strict=True), start=1):
        assert re.match(rf"{number:04d}_\w+\.py$", name), name
        assert revision.revision == name.removesuffix(".py")
        assert revision.down_revision == (chain[number - 2].revision if number > 1 else None)


def test_upgrade_head_on_sqlite_is_the_models_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    engine = migrated(url)
    assert tables(engine) == {*metadata.tables, "alembic_version"}
    assert differences(engine) == []
    assert only_defaults_the_models_lack(differences(engine, server_defaults=True))
    engine.dispose()
    with sqlite3.connect(tmp_path / "hotline.db") as db:
        triggers = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == {f"{t}_no_{verb}" for t in INSERT_ONLY for verb in ("update", "delete")}


def test_downgrade_to_base_on_sqlite_leaves_no_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrated(url).dispose()
    downgrade_to_base(url)
    engine = make_engine(url)
    assert tables(engine) == {"alembic_version"}
    engine.dispose()
