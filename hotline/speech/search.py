"""Search work orders by what they say: their content, topic, number, and the transcripts
of their messages and recordings (GET /api/agent/search on the agent page).

Recognised Mandarin is stored without spaces and the query's spaces are ignored, so
"噪音 扰民" finds "楼下噪音扰民". Confidential orders (保密) are found by number only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from hotline.calls.models import Transcript, TranscriptStatus
from hotline.workorders.models import WorkOrder

EXCERPT_CHARS = 40
MAX_QUERY = 100


@dataclass(frozen=True)
class SearchHit:
    number: str
    status: str
    request_type: str
    accepted_at: datetime
    topic: str
    excerpt: str  # around the match, in the content or a transcript
    matched_in: str  # number, content or transcript
    transcript: str  # the order's transcripts, joined ("" when none or confidential)


def _bare(text: str) -> str:
    return "".join(text.split())


def excerpt(text: str, query: str, width: int = EXCERPT_CHARS) -> str:
    at = text.find(query)
    if at < 0:
        return text[:width] + ("…" if len(text) > width else "")
    start = max(0, at - width // 2)
    end = min(len(text), at + len(query) + width // 2)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def search_orders(session: Session, query: str, limit: int = 20) -> list[SearchHit]:
    words = query.strip()[:MAX_QUERY]
    bare = _bare(words)
    if not bare:
        return []
    heard = select(Transcript.work_order_number).where(
        Transcript.status == TranscriptStatus.DONE,
        Transcript.work_order_number != "",
        func.replace(col(Transcript.text), " ", "").contains(bare, autoescape=True),
    )
    open_text = or_(
        col(WorkOrder.content).contains(words, autoescape=True),
        func.replace(col(WorkOrder.content), " ", "").contains(bare, autoescape=True),
        col(WorkOrder.topic).contains(words, autoescape=True),
        col(WorkOrder.number).in_(heard),
    )
    orders = session.exec(
        select(WorkOrder)
        .where(or_(col(WorkOrder.number) == words, and_(~col(WorkOrder.confidential), open_text)))
        .order_by(col(WorkOrder.accepted_at).desc())
        .limit(limit)
    ).all()
    numbers = [o.number for o in orders]
    said: dict[str, list[str]] = {}
    for t in session.exec(
        select(Transcript)
        .where(col(Transcript.work_order_number).in_(numbers), Transcript.status == "done")
        .order_by(col(Transcript.id))
    ):
        said.setdefault(t.work_order_number, []).append(t.text)
    hits = []
    for o in orders:
        transcript = "" if o.confidential else " / ".join(said.get(o.number, []))
        if o.number == words:
            where, text = "number", "(保密)" if o.confidential else o.content
        elif bare in _bare(o.content) or words in o.topic:
            where, text = "content", o.content
        else:
            where, text = "transcript", transcript
        hits.append(
            SearchHit(
                number=o.number,
                status=o.status,
                request_type=o.request_type,
                accepted_at=o.accepted_at,
                topic=o.topic,
                excerpt=excerpt(text, words),
                matched_in=where,
                transcript=transcript,
            )
        )
    return hits
