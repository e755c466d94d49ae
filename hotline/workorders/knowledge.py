"""Knowledge questions (知识提问, art. 29.2) and the knowledge base agents search.

The hotline asks a unit; the unit answers within 3 working days; the answer becomes a
knowledge entry (知识库条目).
"""

from __future__ import annotations

from sqlmodel import col, or_, select

from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import KnowledgeEntry, KnowledgeQuestion
from hotline.workorders.service import WorkOrderService
from hotline.workorders.units import find_unit


def ask(svc: WorkOrderService, unit: str, question: str, asked_by: str) -> KnowledgeQuestion:
    if not question.strip():
        raise WorkOrderError("the question is empty")
    org = find_unit(svc.session, unit)
    now = svc.now()
    q = KnowledgeQuestion(
        unit_id=org.id or 0,
        question=question.strip(),
        asked_by=asked_by,
        asked_at=now,
        due_at=svc.limits.knowledge_due(now),
    )
    svc.session.add(q)
    svc.session.flush()
    return q


def answer(
    svc: WorkOrderService, question_id: int, unit: str, text: str, tags: str = ""
) -> KnowledgeEntry:
    """The unit's answer becomes a searchable entry (late answers are kept, and count)."""
    q = svc.session.get(KnowledgeQuestion, question_id)
    if q is None:
        raise WorkOrderError(f"no knowledge question {question_id}")
    org = find_unit(svc.session, unit)
    if org.id != q.unit_id:
        raise WorkOrderError(f"question {question_id} was asked of another unit")
    if q.answered_at is not None:
        raise WorkOrderError(f"question {question_id} is already answered")
    if not text.strip():
        raise WorkOrderError("the answer is empty")
    now = svc.now()
    entry = KnowledgeEntry(
        unit_id=org.id,
        title=q.question,
        body=text.strip(),
        tags=tags,
        created_at=now,
        updated_at=now,
    )
    svc.session.add(entry)
    svc.session.flush()
    q.answered_at = now
    q.entry_id = entry.id
    svc.session.add(q)
    return entry


def overdue_questions(svc: WorkOrderService) -> list[KnowledgeQuestion]:
    return list(
        svc.session.exec(
            select(KnowledgeQuestion)
            .where(col(KnowledgeQuestion.answered_at).is_(None))
            .where(col(KnowledgeQuestion.due_at) < svc.now())
        )
    )


def search(svc: WorkOrderService, text: str, limit: int = 20) -> list[KnowledgeEntry]:
    """Entries whose title, body or tags contain every word of `text`."""
    q = select(KnowledgeEntry)
    for word in text.split():
        like = f"%{word}%"
        q = q.where(
            or_(
                col(KnowledgeEntry.title).like(like),
                col(KnowledgeEntry.body).like(like),
                col(KnowledgeEntry.tags).like(like),
            )
        )
    return list(svc.session.exec(q.order_by(col(KnowledgeEntry.updated_at).desc()).limit(limit)))
