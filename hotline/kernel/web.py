"""What every package's `http.py` takes from the running app: its settings and its
database engine, kept in `app.state` by `attach` (app/api.py, create_app).

Handlers ask for them as FastAPI dependencies (`engine: EngineDep`; the settings as their
package's view, `Annotated[AcdConfig, Depends(settings_of)]`), so that a router is a
module-level object and no handler closes over a factory's arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.requests import HTTPConnection

from hotline.kernel.settings import Site

T = TypeVar("T")


def attach(app: FastAPI, settings: Site, engine: Engine) -> None:
    """Give the app the settings and engine its routes read (settings_of, engine_of)."""
    app.state.settings = settings
    app.state.engine = engine


def settings_of(conn: HTTPConnection) -> Any:
    """The app's settings (a request's or a WebSocket's): the root Settings, which each
    package reads through its own view (its settings.py), e.g. `Annotated[AcdConfig,
    Depends(settings_of)]`."""
    return conn.app.state.settings


def engine_of(conn: HTTPConnection) -> Engine:
    """The app's database engine (a request's or a WebSocket's)."""
    engine: Engine = conn.app.state.engine
    return engine


def per_app(conn: HTTPConnection, name: str, make: Callable[[], T]) -> T:
    """One `make()` per app, kept in app.state under `name` (e.g. a Redis reader)."""
    state: Any = conn.app.state
    found: T | None = getattr(state, name, None)
    if found is None:
        found = make()
        setattr(state, name, found)
    return found


EngineDep = Annotated[Engine, Depends(engine_of)]
