"""Analysis (数据分析, art. 17): counts by type, topic, district and unit per day or
week; rising topics; a weekly HTML report with PNG charts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from jinja2 import Environment
from sqlmodel import col, select

from hotline.workorders.charts import pyplot
from hotline.workorders.models import OrgUnit, WorkOrder
from hotline.workorders.service import WorkOrderService

DIMENSIONS = ("type", "topic", "district", "unit")


@dataclass(frozen=True)
class Rising:
    topic: str
    this_week: int
    last_week: int


def _orders(svc: WorkOrderService, start: date, end: date) -> list[WorkOrder]:
    lo = datetime.combine(start, datetime.min.time(), tzinfo=svc.tz)
    hi = datetime.combine(end, datetime.min.time(), tzinfo=svc.tz)
    return list(
        svc.session.exec(
            select(WorkOrder)
            .where(col(WorkOrder.accepted_at) >= lo)
            .where(col(WorkOrder.accepted_at) < hi)
        )
    )


def _key(svc: WorkOrderService, order: WorkOrder, by: str, units: dict[int, str]) -> str:
    if by == "type":
        return order.request_type
    if by == "topic":
        return order.topic or "(none)"
    if by == "district":
        return order.district or "(none)"
    return units.get(order.lead_unit_id or 0, "(not dispatched)")


def counts(
    svc: WorkOrderService, start: date, end: date, by: str, per: str = "day"
) -> dict[str, Counter[str]]:
    """{bucket: Counter(key → orders)}; bucket is the local day or the week's Monday."""
    if by not in DIMENSIONS:
        raise ValueError(f"by {by!r} unknown; allowed: {', '.join(DIMENSIONS)}")
    if per not in ("day", "week"):
        raise ValueError(f"per {per!r} unknown; allowed: day, week")
    units = {u.id or 0: u.code for u in svc.session.exec(select(OrgUnit))}
    out: dict[str, Counter[str]] = {}
    for order in _orders(svc, start, end):
        day = order.accepted_at.astimezone(svc.tz).date()
        if per == "week":
            day -= timedelta(days=day.weekday())
        out.setdefault(day.isoformat(), Counter())[_key(svc, order, by, units)] += 1
    return dict(sorted(out.items()))


def rising_topics(svc: WorkOrderService, week_start: date) -> list[Rising]:
    """Topics whose count this week is at least ratio × last week's (and min_count)."""
    rules = svc.rules.analysis
    this = Counter(o.topic for o in _orders(svc, week_start, week_start + timedelta(days=7)))
    last = Counter(o.topic for o in _orders(svc, week_start - timedelta(days=7), week_start))
    out = [
        Rising(topic, n, last[topic])
        for topic, n in this.items()
        if topic and n >= rules.rising_min_count and n >= rules.rising_ratio * last[topic]
    ]
    return sorted(out, key=lambda r: (-r.this_week, r.topic))


_TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>12345 周报 {{ start }}</title></head>
<body>
<h1>12345 热线周报 {{ start }} – {{ end }}</h1>
<p>受理工单 {{ total }} 件。</p>
<h2>上升热点 (rising topics)</h2>
{% if rising %}<ul>{% for r in rising %}
<li>{{ r.topic }}: {{ r.this_week }} (上周 {{ r.last_week }})</li>{% endfor %}</ul>
{% else %}<p>无</p>{% endif %}
{% for dim, table in tables.items() %}
<h2>{{ dim }}</h2>
<img src="{{ charts[dim] }}" alt="{{ dim }}">
<table border="1"><tr><th>{{ dim }}</th><th>orders</th></tr>
{% for key, n in table %}<tr><td>{{ key }}</td><td>{{ n }}</td></tr>{% endfor %}
</table>
{% endfor %}
</body></html>
"""


def weekly_report(svc: WorkOrderService, week_start: date, out_dir: Path) -> Path:
    """report-YYYY-MM-DD.html and one PNG per dimension in `out_dir`."""
    plt = pyplot()

    out_dir.mkdir(parents=True, exist_ok=True)
    end = week_start + timedelta(days=7)
    tables: dict[str, list[tuple[str, int]]] = {}
    charts: dict[str, str] = {}
    total = 0
    for dim in DIMENSIONS:
        merged: Counter[str] = Counter()
        for c in counts(svc, week_start, end, dim, per="week").values():
            merged.update(c)
        tables[dim] = merged.most_common()
        total = sum(merged.values())
        fig, ax = plt.subplots(figsize=(7, 3.5))
        keys = [k for k, _ in tables[dim]] or ["(none)"]
        ax.bar(keys, [n for _, n in tables[dim]] or [0])
        ax.set_title(f"orders by {dim}, week of {week_start}")
        ax.tick_params(axis="x", rotation=45)
        fig.tight_layout()
        name = f"report-{week_start}-{dim}.png"
        fig.savefig(out_dir / name)
        plt.close(fig)
        charts[dim] = name
    html = (
        Environment(autoescape=True)
        .from_string(_TEMPLATE)
        .render(
            start=week_start,
            end=end - timedelta(days=1),
            total=total,
            rising=rising_topics(svc, week_start),
            tables=tables,
            charts=charts,
        )
    )
    path = out_dir / f"report-{week_start}.html"
    path.write_text(html, encoding="utf-8")
    return path
