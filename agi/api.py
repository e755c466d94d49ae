"""HTTP API for blocked numbers (art. 21.4): list, add, remove, audit trail.

Changes need a supervisor's token (`hotline recordings user add NAME --role supervisor`);
the token's user is written to the audit trail as the actor.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from agi import blocks
from agi.models import BlockAudit, BlockedNumber
from config.settings import Settings

bearer = HTTPBearer(auto_error=False, description="a supervisor's token")


class BlockIn(BaseModel):
    number: str = Field(min_length=3, max_length=40)
    reason: str = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None  # aware; none: until removed


class BlockOut(BaseModel):
    id: int
    number: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    removed_by: str
    refused_calls: int


class AuditOut(BaseModel):
    number: str
    action: str
    actor: str
    detail: str
    at: datetime


def _out(b: BlockedNumber) -> BlockOut:
    return BlockOut.model_validate(b.model_dump())


def blocks_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/api/blocks", tags=["blocked numbers"])

    def supervisor(
        creds: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> str:
        from recordings.access import authenticate

        user = authenticate(settings, creds.credentials) if creds else None
        if user is None:
            raise HTTPException(401, "a supervisor's token is required (Bearer)")
        if user.role != "supervisor":
            raise HTTPException(403, "only a supervisor may change or see blocked numbers")
        return user.name

    @router.get("", response_model=list[BlockOut])
    def list_blocks(
        include_inactive: bool = Query(False, alias="all"),
        _: str = Depends(supervisor),
    ) -> list[BlockOut]:
        with Session(engine) as s:
            return [_out(b) for b in blocks.list_blocks(s, include_inactive=include_inactive)]

    @router.post("", response_model=BlockOut, status_code=201)
    def add(body: BlockIn, actor: str = Depends(supervisor)) -> BlockOut:
        if body.expires_at is not None and body.expires_at.tzinfo is None:
            raise HTTPException(422, "expires_at needs a time zone, e.g. 2027-01-01T00:00:00+08:00")
        with Session(engine) as s:
            try:
                block = blocks.add_block(
                    s, body.number, reason=body.reason, actor=actor, expires_at=body.expires_at
                )
            except blocks.BlockError as exc:
                raise HTTPException(409, str(exc)) from exc
            s.commit()
            s.refresh(block)
            return _out(block)

    @router.delete("/{number}", response_model=BlockOut)
    def remove(number: str, actor: str = Depends(supervisor)) -> BlockOut:
        with Session(engine) as s:
            try:
                block = blocks.remove_block(s, number, actor=actor)
            except blocks.BlockError as exc:
                raise HTTPException(404, str(exc)) from exc
            s.commit()
            s.refresh(block)
            return _out(block)

    @router.get("/audit", response_model=list[AuditOut])
    def audit(number: str | None = None, _: str = Depends(supervisor)) -> list[AuditOut]:
        with Session(engine) as s:
            rows: list[BlockAudit] = blocks.audit(s, number)
            return [AuditOut.model_validate(r.model_dump()) for r in rows]

    return router
