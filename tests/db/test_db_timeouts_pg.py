"""PostgreSQL's statement timeout (the `database` section): the services' statements are
cancelled by the server past it; migrations (make_engine without limits) have none."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hotline.kernel.db import make_engine
from hotline.kernel.settings import DatabaseSettings


def test_a_statement_over_the_limit_is_cancelled(pg_url: str) -> None:
    engine = make_engine(pg_url, DatabaseSettings(statement_timeout_seconds=0.3))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(30)"))
    finally:
        engine.dispose()


def test_migrations_have_no_statement_limit(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()
