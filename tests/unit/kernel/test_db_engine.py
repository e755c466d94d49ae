"""The engine's timeouts (kernel/db.py, the `database` section): a PostgreSQL server that
drops packets fails a connection in connect_timeout_seconds, SQLite keeps its busy wait,
and a wrong value names its field."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hotline.config.settings import load_settings
from hotline.kernel.db import make_engine, pg_connect_args
from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import DatabaseSettings


def test_postgresql_gets_connect_keepalive_and_statement_limits() -> None:
    args = pg_connect_args(DatabaseSettings())
    assert args == {
        "connect_timeout": 3,
        "keepalives": 1,
        "keepalives_idle": 5,  # 15 s in all: 5 idle, then 3 probes 3 s apart
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,
        "options": "-c statement_timeout=30000",
    }


def test_no_statement_limit_when_it_is_zero() -> None:
    args = pg_connect_args(DatabaseSettings(statement_timeout_seconds=0))
    assert "options" not in args and args["connect_timeout"] == 3


def test_a_server_that_never_answers_fails_the_connection() -> None:
    """A listener that accepts at the TCP level (the kernel's backlog) and never speaks: as a
    firewall that drops packets after the handshake, or a dead server's proxy."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        engine = make_engine(
            f"postgresql://hotline@127.0.0.1:{port}/hotline",
            DatabaseSettings(connect_timeout_seconds=2),
        )
        outcome: list[BaseException | None] = []

        def connect() -> None:
            try:
                with engine.connect():
                    outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(60)  # a guard only: without connect_timeout it would wait for ever
        assert not worker.is_alive(), "the connection attempt was still waiting after 60 s"
        assert len(outcome) == 1 and isinstance(outcome[0], OperationalError), outcome
        engine.dispose()


@pytest.mark.parametrize(
    ("limits", "ms"), [(None, 15000), (DatabaseSettings(sqlite_busy_timeout_seconds=2.5), 2500)]
)
def test_sqlite_keeps_its_busy_timeout(
    tmp_path: Path, limits: DatabaseSettings | None, ms: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}", limits)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == ms
    engine.dispose()


@pytest.mark.usefixtures("own_var")
def test_a_wrong_timeout_names_its_field(tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text("database: {connect_timeout_seconds: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert "database.connect_timeout_seconds: Input should be greater than or equal to 2" in str(
        err.value
    )


@pytest.mark.usefixtures("own_var")
def test_the_environment_sets_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG_FILE", raising=False)
    monkeypatch.setenv("HOTLINE_DATABASE__STATEMENT_TIMEOUT_SECONDS", "5")
    settings = load_settings(tmp_path / "absent.yaml")
    assert settings.database.statement_timeout_seconds == 5.0
    assert settings.database.connect_timeout_seconds == 3
