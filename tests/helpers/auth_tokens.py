"""For tests: a user and a token in one call, without a password or the login route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.auth import tokens, users
from hotline.auth.errors import UserError
from hotline.config.settings import Settings
from hotline.workorders.units import unit_problem


def token_for(engine: Engine, name: str, role: str, agent_id: str = "", unit: str = "") -> str:
    """A token of user `name` (added without a password when new), valid an hour."""
    with Session(engine) as s:
        try:
            user = users.find(s, name)
        except UserError:
            user = users.add(
                s, name, role, "", agent_id=agent_id, unit=unit, unit_problem=unit_problem
            )
        token = tokens.issue(s, user, datetime.now(UTC) + timedelta(hours=1))
        s.commit()
    return token


def bearer(
    engine: Engine, name: str, role: str, agent_id: str = "", unit: str = ""
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(engine, name, role, agent_id, unit)}"}


def settings_token(
    settings: Settings, name: str, role: str, agent_id: str = "", unit: str = ""
) -> str:
    """token_for on the database of `settings` (migrated first)."""
    from hotline.kernel.db import make_engine, upgrade

    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    try:
        return token_for(engine, name, role, agent_id, unit)
    finally:
        engine.dispose()
