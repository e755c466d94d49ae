"""HTTP API (FastAPI) on 127.0.0.1:8345: every package's routes (its `http.py`), and here
the calls, the status and the API's own docs (/docs, Swagger UI served from the package).

Every route but /api/status, /api/login and /login needs a token (auth/); every write
is audited."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.app.health import check_all
from hotline.app.plugins import PLUGINS
from hotline.auth import gate
from hotline.auth.audit import AuditWrites
from hotline.auth.masking import masked
from hotline.auth.roles import Perm
from hotline.auth.tokens import Principal
from hotline.calls.models import CallRecord
from hotline.config.settings import Settings
from hotline.crm_bridge.record import CallOut, call_out
from hotline.kernel.web import EngineDep, attach, settings_of
from hotline.workorders.units import unit_problem

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[Settings, Depends(settings_of)]

# Swagger UI for /docs, from the package (static/swagger-ui/README.md: version, hashes)
SWAGGER_UI_VERSION = "5.35.0"
DOCS_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"
DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


router = APIRouter()
ANYONE = Depends(gate.anyone())
PAGE = Depends(gate.page(None))


@router.get("/api/calls", response_model=list[CallOut])
def list_calls(
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = Depends(gate.require(Perm.CALLS_READ)),  # noqa: B008
    caller: str | None = Query(None, description="the caller's full number"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[CallOut]:
    gate.caller_search(settings, who, caller)
    with Session(engine) as s:
        q = select(CallRecord).order_by(col(CallRecord.started_at).desc()).limit(limit)
        if caller:
            q = q.where(CallRecord.caller_number == caller)
        return masked([call_out(r) for r in s.exec(q)], who, settings)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _: Principal = ANYONE) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]


@router.get("/docs", include_in_schema=False)
def docs(_: Principal = PAGE) -> HTMLResponse:
    """Swagger UI, its script, style and icon from the package: nothing from the internet."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="12345 hotline API",
        swagger_js_url="/docs/swagger-ui-bundle.js",
        swagger_css_url="/docs/swagger-ui.css",
        swagger_favicon_url="/docs/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
    )


@router.get("/docs/{name}", include_in_schema=False)
def docs_file(name: str, _: Principal = PAGE) -> FileResponse:
    if name not in DOCS_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(DOCS_DIR / name, media_type=DOCS_FILES[name])


@router.get("/api/status")
async def status(request: Request) -> dict[str, Any]:
    return await check_all(settings_of(request))


# Every package's routes, in the order they are tried: one explicit table (nothing
# registers itself at import).


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI(
        title="12345 hotline",
        description="Calls, work orders (工单) and health of the 12345 call-handling engine.",
        version="0.1.0",
        docs_url=None,  # served by `docs` above, behind the login
        redoc_url=None,
        openapi_url=None,
    )
    attach(app, settings, engine)
    app.state.unit_problem = unit_problem  # auth's check of a unit's staff (auth/users.py)
    # every write, allowed or refused, into audit_log (auth/audit.py)
    app.add_middleware(AuditWrites, engine=engine)
    for plugin in PLUGINS.values():  # each package's routes (app/plugins.py), in order
        for module in plugin.routes:
            app.include_router(importlib.import_module(module).router)
    return app
