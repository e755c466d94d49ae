"""On PostgreSQL, `alembic upgrade head` makes exactly the schema the models declare, with
the insert-only triggers; a downgrade to base leaves nothing behind."""

from __future__ import annotations

import psycopg

from hotline.app.tables import metadata
from hotline.kernel.db import make_engine
from tests.helpers.schema import (
    INSERT_ONLY,
    differences,
    downgrade_to_base,
    migrated,
    only_defaults_the_models_lack,
    tables,
)


def _triggers_and_functions(pg_url: str) -> tuple[set[str], set[str]]:
    with psycopg.connect(pg_url) as conn:
        triggers = {
            str(name)
            for (name,) in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        }
        functions = {
            str(name)
            for (name,) in conn.execute(
                "SELECT proname FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace "
                "WHERE nspname = 'public'"
            )
        }
    return triggers, functions


def test_upgrade_head_on_postgresql_is_the_models_schema(pg_url: str) -> None:
    engine = migrated(pg_url)
    assert tables(engine) == {*metadata.tables, "alembic_version"}
    assert differences(engine) == []
    assert only_defaults_the_models_lack(differences(engine, server_defaults=True))
    engine.dispose()
    insert_only = {f"{t}_insert_only" for t in INSERT_ONLY}
    assert _triggers_and_functions(pg_url) == (insert_only, insert_only)


def test_downgrade_to_base_on_postgresql_leaves_nothing(pg_url: str) -> None:
    migrated(pg_url).dispose()
    downgrade_to_base(pg_url)
    engine = make_engine(pg_url)
    assert tables(engine) == {"alembic_version"}
    engine.dispose()
    assert _triggers_and_functions(pg_url) == (set(), set())
