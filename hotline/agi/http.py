"""HTTP API for blocked numbers (art. 21.4): list, add, remove, audit trail.

Changes need a supervisor's login (auditors may read); the token's user is written to
the audit trail as the actor. The numbers are shown in full: blocking needs them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from hotline.agi import blocks
from hotline.agi.errors import BlockError
from hotline.agi.models import BlockAudit, BlockedNumber
from hotline.agi.settings import AgiConfig
from hotline.auth import gate
from hotline.auth.masking import NUMBER_FIELDS, masked
from hotline.auth.roles import Perm
from hotline.auth.tokens import Principal
from hotline.kernel.web import EngineDep, settings_of

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[AgiConfig, Depends(settings_of)]


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


router = APIRouter(prefix="/api/blocks", tags=["blocked numbers"])
MASKED_FIELDS = NUMBER_FIELDS | {"number"}  # for a role that may not see numbers


def supervisor(who: Principal = Depends(gate.require(Perm.BLOCKS_WRITE))) -> str:  # noqa: B008
    """The name of the supervisor making the change: the audit trail's actor."""
    return who.name


READER = Depends(gate.require(Perm.BLOCKS_READ))
ACTOR = Depends(supervisor)


@router.get("", response_model=list[BlockOut])
def list_blocks(
    settings: ConfigDep,
    engine: EngineDep,
    include_inactive: bool = Query(False, alias="all"),
    who: Principal = READER,
) -> list[BlockOut]:
    with Session(engine) as s:
        out = [_out(b) for b in blocks.list_blocks(s, include_inactive=include_inactive)]
    return masked(out, who, settings, MASKED_FIELDS)


@router.post("", response_model=BlockOut, status_code=201)
def add(body: BlockIn, engine: EngineDep, actor: str = ACTOR) -> BlockOut:
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise HTTPException(422, "expires_at needs a time zone, e.g. 2027-01-01T00:00:00+08:00")
    with Session(engine) as s:
        try:
            block = blocks.add_block(
                s, body.number, reason=body.reason, actor=actor, expires_at=body.expires_at
            )
        except BlockError as exc:
            raise HTTPException(409, str(exc)) from exc
        s.commit()
        s.refresh(block)
        return _out(block)


@router.delete("/{number}", response_model=BlockOut)
def remove(number: str, engine: EngineDep, actor: str = ACTOR) -> BlockOut:
    with Session(engine) as s:
        try:
            block = blocks.remove_block(s, number, actor=actor)
        except BlockError as exc:
            raise HTTPException(404, str(exc)) from exc
        s.commit()
        s.refresh(block)
        return _out(block)


@router.get("/audit", response_model=list[AuditOut])
def audit(
    settings: ConfigDep, engine: EngineDep, number: str | None = None, who: Principal = READER
) -> list[AuditOut]:
    with Session(engine) as s:
        rows: list[BlockAudit] = blocks.audit(s, number)
        out = [AuditOut.model_validate(r.model_dump()) for r in rows]
    return masked(out, who, settings, MASKED_FIELDS)
