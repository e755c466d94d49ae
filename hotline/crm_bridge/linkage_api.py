"""GET /api/calls/{linkedid}/linkage: the emergency lines a call brought in, with parties."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hotline.auth.gate import Gate
from hotline.auth.masking import masked
from hotline.auth.roles import Perm
from hotline.auth.tokens import Principal
from hotline.calls.models import EmergencyLinkage, EmergencyParty
from hotline.config.settings import Settings


class PartyOut(BaseModel):
    role: str
    party: str
    joined_at: datetime
    left_at: datetime


class LinkageOut(BaseModel):
    seq: int
    line: str
    via: str
    agent: str
    started_at: datetime
    outcome: str
    destination: str
    connected_at: datetime | None
    attempts: list[str]
    parties: list[PartyOut]


def linkage_router(settings: Settings, engine: Engine) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["calls"])
    reader = Gate(settings, engine).require(Perm.CALLS_READ)

    @router.get("/calls/{linkedid}/linkage", response_model=list[LinkageOut])
    def call_linkage(linkedid: str, who: Principal = Depends(reader)) -> list[LinkageOut]:  # noqa: B008
        with Session(engine) as s:
            links = s.exec(
                select(EmergencyLinkage)
                .where(EmergencyLinkage.linkedid == linkedid)
                .order_by(col(EmergencyLinkage.seq))
            ).all()
            parties = s.exec(
                select(EmergencyParty)
                .where(EmergencyParty.linkedid == linkedid)
                .order_by(col(EmergencyParty.joined_at))
            ).all()
            out = [
                LinkageOut(
                    **lk.model_dump(exclude={"id", "linkedid", "attempts"}),
                    attempts=[a for a in lk.attempts.split(",") if a],
                    parties=[
                        PartyOut(
                            role=p.role, party=p.party, joined_at=p.joined_at, left_at=p.left_at
                        )
                        for p in parties
                        if p.seq == lk.seq
                    ],
                )
                for lk in links
            ]
        return masked(out, who, settings, frozenset({"party", "destination"}))

    return router
