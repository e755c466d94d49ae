"""Assessment (考核, art. 30–33): a 100-point score per unit, monthly and yearly.

Which orders count in a period [start, end): those the unit replied to (办结) inside
it, plus those still open with it whose deadline passed before the end; orders open
and not yet due move on to the next period (art. 30). Each figure is a rate in 0..1,
full marks when there is nothing to measure; the score is Σ weight × rate.
The assessment year runs from 1 December to 30 November (config: year_starts).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from hotline.workorders.charts import pyplot
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import (
    Appeal,
    KnowledgeQuestion,
    OrgUnit,
    Satisfaction,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)
from hotline.workorders.service import WorkOrderService
from hotline.workorders.units import find_unit

S = WorkOrderStatus
FIGURES = (
    "on_time_signing",
    "on_time_closing",
    "returns",
    "extensions",
    "satisfaction",
    "knowledge",
)
HANDLED = (S.REPLIED, S.CLOSED, S.RATED, S.ARCHIVED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.DEFAULT_SATISFIED)


@dataclass(frozen=True)
class Period:
    label: str  # "2025-06" or "2025" (the assessment year ending 30 Nov 2025)
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive


@dataclass(frozen=True)
class UnitScore:
    unit: str
    unit_name: str
    period: str
    orders: int  # counted in this period
    on_time_signing: float
    on_time_closing: float
    returns: float
    extensions: float
    satisfaction: float
    knowledge: float
    score: float


def month(year: int, month_: int, tz: ZoneInfo) -> Period:
    start = datetime(year, month_, 1, tzinfo=tz)
    nxt = datetime(year + month_ // 12, month_ % 12 + 1, 1, tzinfo=tz)
    return Period(f"{year}-{month_:02d}", start, nxt)


def assessment_year(svc: WorkOrderService, year: int) -> Period:
    """The year named by its end: 2025 runs 1 Dec 2024 – 30 Nov 2025 (by default)."""
    m, d = svc.rules.assessment.start_month_day
    start_year = year - 1 if (m, d) != (1, 1) else year
    start = datetime(start_year, m, d, tzinfo=svc.tz)
    return Period(str(year), start, start.replace(year=start_year + 1))


def year_months(svc: WorkOrderService, year: int) -> list[Period]:
    period = assessment_year(svc, year)
    out, cur = [], period.start
    while cur < period.end:
        out.append(month(cur.year, cur.month, svc.tz))
        cur = out[-1].end
    return out


def _rate(good: float, total: float) -> float:
    return 1.0 if total == 0 else good / total


def score_unit(svc: WorkOrderService, unit: OrgUnit, period: Period) -> UnitScore:
    session = svc.session
    orders = session.exec(select(WorkOrder).where(WorkOrder.lead_unit_id == unit.id)).all()
    now = svc.now()
    counted = [o for o in orders if _counts(o, period, now)]
    n = len(counted)
    signed_on_time = sum(
        1 for o in counted if o.signed_at and o.sign_due_at and o.signed_at <= o.sign_due_at
    )
    closed_on_time = sum(
        1
        for o in counted
        if o.status in HANDLED and o.replied_at and (o.due_at is None or o.replied_at <= o.due_at)
    )
    extended = sum(1 for o in counted if o.extended_days > 0)
    rated = [o for o in counted if o.satisfaction]
    satisfied = sum(1 for o in rated if o.satisfaction in SATISFIED)
    dispatches = _events(svc, unit, period, "dispatch")
    returns = _events(svc, unit, period, "return")
    questions = session.exec(
        select(KnowledgeQuestion)
        .where(KnowledgeQuestion.unit_id == unit.id)
        .where(col(KnowledgeQuestion.due_at) >= period.start)
        .where(col(KnowledgeQuestion.due_at) < period.end)
    ).all()
    answered = sum(1 for q in questions if q.answered_at and q.answered_at <= q.due_at)
    rates = {
        "on_time_signing": _rate(signed_on_time, n),
        "on_time_closing": _rate(closed_on_time, n),
        "returns": 1 - _rate(returns, dispatches) if dispatches else 1.0,
        "extensions": 1 - _rate(extended, n) if n else 1.0,
        "satisfaction": _rate(satisfied, len(rated)),
        "knowledge": _rate(answered, len(questions)),
    }
    weights = svc.rules.assessment.weights
    total = sum(getattr(weights, k) * v for k, v in rates.items())
    return UnitScore(
        unit=unit.code,
        unit_name=unit.name,
        period=period.label,
        orders=n,
        score=round(total, 2),
        **{k: round(v, 4) for k, v in rates.items()},
    )


def _counts(order: WorkOrder, period: Period, now: datetime) -> bool:
    if order.status in HANDLED and order.replied_at is not None:
        return period.start <= order.replied_at < period.end
    if order.status in (S.DISPATCHED, S.SIGNED) and order.due_at is not None:
        # Still open: counts (as late) in the period its deadline passed; not yet due,
        # it moves on to a later period.
        return period.start <= order.due_at < min(period.end, now)
    return False


def _events(svc: WorkOrderService, unit: OrgUnit, period: Period, action: str) -> int:
    rows = svc.session.exec(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.unit_id == unit.id)
        .where(WorkOrderEvent.action == action)
        .where(col(WorkOrderEvent.at) >= period.start)
        .where(col(WorkOrderEvent.at) < period.end)
    ).all()
    return len(rows)


def handling_units(svc: WorkOrderService) -> list[OrgUnit]:
    return list(
        svc.session.exec(
            select(OrgUnit)
            .where(col(OrgUnit.kind).in_(("department", "sub_centre")))
            .order_by(col(OrgUnit.code))
        )
    )


def score_all(svc: WorkOrderService, period: Period) -> list[UnitScore]:
    return [score_unit(svc, u, period) for u in handling_units(svc)]


def to_csv(scores: list[UnitScore]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(UnitScore.__dataclass_fields__))
    writer.writeheader()
    for s in scores:
        writer.writerow(asdict(s))
    return buf.getvalue()


def charts(svc: WorkOrderService, year: int, out_dir: Path) -> list[Path]:
    """One PNG per unit: its monthly scores over the assessment year."""
    plt = pyplot()

    out_dir.mkdir(parents=True, exist_ok=True)
    months = year_months(svc, year)
    paths = []
    for unit in handling_units(svc):
        scores = [score_unit(svc, unit, m).score for m in months]
        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.plot([m.label for m in months], scores, marker="o")
        ax.set_ylim(0, 100)
        ax.set_title(f"{unit.code}: monthly score, assessment year {year}")
        ax.set_ylabel("score (of 100)")
        ax.tick_params(axis="x", rotation=45)
        fig.tight_layout()
        path = out_dir / f"assessment-{year}-{unit.code}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


# Appeals (art. 32) ---------------------------------------------------------------


def appeal_deadline(svc: WorkOrderService, year: int) -> datetime:
    """End of the 7th working day after the assessment year ends."""
    last_day: date = (assessment_year(svc, year).end - timedelta(days=1)).date()
    last = datetime.combine(last_day, datetime.min.time(), tzinfo=svc.tz)
    return svc.limits.end_of_workday(last, svc.rules.assessment.appeal_working_days)


def file_appeal(svc: WorkOrderService, unit: str, year: int, figure: str, reason: str) -> Appeal:
    org = find_unit(svc.session, unit)
    if figure not in FIGURES and figure != "orders":
        raise WorkOrderError(f"figure {figure!r} unknown; allowed: orders, {', '.join(FIGURES)}")
    if not reason.strip():
        raise WorkOrderError("an appeal needs its reason")
    now = svc.now()
    period = assessment_year(svc, year)
    if now < period.start:
        raise WorkOrderError(f"assessment year {year} has not started")
    deadline = appeal_deadline(svc, year)
    if now > deadline:
        raise WorkOrderError(
            f"appeal refused: appeals for assessment year {year} were accepted until "
            f"{svc.local(deadline)} ({svc.rules.assessment.appeal_working_days} working days "
            "after the year ended, art. 32)"
        )
    appeal = Appeal(
        unit_id=org.id or 0, assessment_year=year, figure=figure, reason=reason, filed_at=now
    )
    svc.session.add(appeal)
    svc.session.flush()
    return appeal
