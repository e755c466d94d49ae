"""Database engine and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event
from sqlmodel import create_engine

from hotline.kernel.settings import DatabaseSettings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, limits: DatabaseSettings | None = None) -> Engine:
    """The engine of a database URL. limits: the services' timeouts (the `database` section);
    None: its defaults without a statement timeout (migrations, tests' own engines)."""
    lim = limits or DatabaseSettings(statement_timeout_seconds=0)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        busy = lim.sqlite_busy_timeout_seconds
        engine = create_engine(url, connect_args={"timeout": busy})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={round(busy * 1000)}")
            cur.close()

        return engine
    return create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        pool_pre_ping=True,
        connect_args=pg_connect_args(lim),
    )


def pg_connect_args(lim: DatabaseSettings) -> dict[str, int | str]:
    """libpq's parameters for the limits: a server that drops packets (rather than refusing)
    would otherwise hold a connect for the system's TCP timeout (about two minutes) and a
    query for ever."""
    dead = lim.dead_connection_seconds
    idle = dead // 3
    args: dict[str, int | str] = {
        "connect_timeout": lim.connect_timeout_seconds,
        # an answer that never comes: probes after `idle` s, 3 unanswered probes end it
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": max(1, (dead - idle) // 3),
        "keepalives_count": 3,
        # data sent and never acknowledged
        "tcp_user_timeout": dead * 1000,
    }
    if lim.statement_timeout_seconds:
        args["options"] = f"-c statement_timeout={round(lim.statement_timeout_seconds * 1000)}"
    return args


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # only the commands that migrate load Alembic

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def utcnow() -> datetime:
    return datetime.now(UTC)
