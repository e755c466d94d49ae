"""The migrated schema against the models: what the migrations make (`alembic upgrade
head`) must be what SQLModel.metadata declares, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from hotline.app.tables import metadata
from hotline.kernel.db import alembic_config, make_engine, upgrade

# Tables whose rows the database itself keeps from UPDATE and DELETE (triggers).
INSERT_ONLY = ("recording_manifest", "recording_access")


def differences(engine: Engine, *, server_defaults: bool = False) -> list[Any]:
    """What Alembic's autogenerate would change to make the database the models: tables,
    columns, types, nullability, indexes, unique and foreign keys; [] when they agree."""
    with engine.connect() as conn:
        opts = {"compare_server_default": server_defaults}
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))


def only_defaults_the_models_lack(found: list[Any]) -> bool:
    """Server defaults are the database's alone (the models have none): each is one the
    migrations gave a column added to a table that could hold rows, never another."""
    return all(
        isinstance(d, list) and d[0][0] == "modify_default" and d[0][-1] is None for d in found
    )


def migrated(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def downgrade_to_base(url: str) -> None:
    command.downgrade(alembic_config(url), "base")
