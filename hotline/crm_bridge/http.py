"""Routes of crm_bridge: GET /api/calls/{linkedid}/linkage, the emergency lines a call
brought in, with their parties."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import Session, col, select

from hotline.auth import gate
from hotline.auth.masking import masked
from hotline.auth.roles import Perm
from hotline.auth.tokens import Principal
from hotline.calls.models import EmergencyLinkage, EmergencyParty
from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.kernel.web import EngineDep, settings_of

# the settings as this package reads them (its settings.py)
ConfigDep = Annotated[CrmBridgeConfig, Depends(settings_of)]


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


router = APIRouter(prefix="/api", tags=["calls"])
MASKED_FIELDS = frozenset({"party", "destination"})


@router.get("/calls/{linkedid}/linkage", response_model=list[LinkageOut])
def call_linkage(
    linkedid: str,
    settings: ConfigDep,
    engine: EngineDep,
    who: Principal = Depends(gate.require(Perm.CALLS_READ)),  # noqa: B008
) -> list[LinkageOut]:
    with Session(engine) as s:
        out = _linkages(s, linkedid)
    return masked(out, who, settings, MASKED_FIELDS)


def _linkages(s: Session, linkedid: str) -> list[LinkageOut]:
    """The call's emergency linkages in order, each with the parties that took part."""
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
    return [
        LinkageOut(
            **lk.model_dump(exclude={"id", "linkedid", "attempts"}),
            attempts=[a for a in lk.attempts.split(",") if a],
            parties=[
                PartyOut(role=p.role, party=p.party, joined_at=p.joined_at, left_at=p.left_at)
                for p in parties
                if p.seq == lk.seq
            ],
        )
        for lk in links
    ]
