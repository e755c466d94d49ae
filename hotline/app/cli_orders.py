"""`hotline orders ...`: the work-order lifecycle from the command line (thin over
workorders.service and its companions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import cli_user
from hotline.kernel.errors import ConfigError

if TYPE_CHECKING:
    from hotline.workorders.models import WorkOrder
    from hotline.workorders.service import WorkOrderService

orders_app = typer.Typer(
    help="Work orders (工单): accept, dispatch, sign, return, reply, close, rate, supervise, "
    "assess.",
    no_args_is_help=True,
)

By = Annotated[str, typer.Option("--by", help="who acts (kept in the audit trail)")]


@contextmanager
def _svc() -> Iterator[WorkOrderService]:
    from hotline.app.tables import open_engine
    from hotline.config.settings import load_settings
    from hotline.kernel.db import upgrade
    from hotline.workorders.context import service_session
    from hotline.workorders.errors import WorkOrderError

    try:
        settings = load_settings()
        upgrade(settings.db_url)
        engine = open_engine(settings)
        with service_session(settings, engine) as svc:
            yield svc
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except (WorkOrderError, ValueError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc


def _line(svc: WorkOrderService, o: WorkOrder) -> str:
    unit = svc.unit_of(o)
    due = svc.local(o.due_at) if o.due_at else "-"
    flags = ("突发 " if o.emergency else "") + ("保密 " if o.confidential else "")
    return (
        f"{o.number:18} {o.status:12} {o.request_type:12} {o.channel:16} "
        f"{unit.code if unit else '-':8} due {due:16} {flags}{o.topic}"
    )


@orders_app.command("list")
def list_orders(
    status: Annotated[str | None, typer.Option(help="only this state")] = None,
    unit: Annotated[str | None, typer.Option(help="only this lead unit (code)")] = None,
) -> None:
    """Work orders, newest first."""
    with _svc() as svc:
        for o in svc.orders(status, unit):
            typer.echo(_line(svc, o))


@orders_app.command("show")
def show(number: str) -> None:
    """One order with its audit trail."""
    from hotline.workorders.duty_plan import minutes_late

    with _svc() as svc:
        o = svc.get(number)
        typer.echo(_line(svc, o))
        if o.signed_at is not None:
            late = minutes_late(o.sign_due_at, o.signed_at)
            flag = f" — LATE by {late} min" if late else ""
            typer.echo(f"  signed: {svc.local(o.signed_at)}{flag}")
        for key in ("citizen_name", "contact", "district", "content", "reply_text", "satisfaction"):
            value = getattr(o, key)
            if value:
                typer.echo(f"  {key}: {value}")
        for e in svc.events(o):
            typer.echo(
                f"  {svc.local(e.at)} {e.actor:10} {e.action:20} "
                f"{e.from_status or '-'} -> {e.to_status} {e.reason}"
            )


@orders_app.command("create")
def create(
    request_type: Annotated[str, typer.Option("--type", help="consultation, help, complaint, …")],
    content: Annotated[str, typer.Option(help="the request")] = "",
    channel: Annotated[str, typer.Option(help="phone, website, wechat, app, …")] = "phone",
    name: Annotated[str, typer.Option(help="the citizen's name")] = "",
    contact: Annotated[str, typer.Option(help="callback number")] = "",
    topic: str = "",
    district: str = "",
    emergency: bool = False,
    confidential: bool = False,
    by: By = "",
) -> None:
    """受理: a new order from any channel."""
    with _svc() as svc:
        o = svc.create(
            request_type=request_type,
            channel=channel,
            content=content,
            citizen_name=name,
            contact=contact,
            caller_number=contact,
            topic=topic,
            district=district,
            emergency=emergency,
            confidential=confidential,
            agent=by or cli_user(),
        )
        typer.echo(f"{o.number} accepted; query code {o.query_code}")


@orders_app.command("accept")
def accept(
    number: str,
    content: str = "",
    name: str = "",
    topic: str = "",
    district: str = "",
    by: By = "",
) -> None:
    """Complete a draft from a call."""
    fields = {
        k: v
        for k, v in {
            "content": content,
            "citizen_name": name,
            "topic": topic,
            "district": district,
        }.items()
        if v
    }
    with _svc() as svc:
        svc.accept(number, by or cli_user(), **fields)
        typer.echo(f"{number} accepted")


@orders_app.command("answer")
def answer(number: str, text: Annotated[str, typer.Option("--text")], by: By = "") -> None:
    """直接解答: answer and close without dispatch."""
    with _svc() as svc:
        svc.answer(number, by or cli_user(), text)
        typer.echo(f"{number} answered directly and closed")


@orders_app.command("dispatch")
def dispatch(
    number: str,
    unit: Annotated[str, typer.Argument(help="lead unit code")],
    assist: Annotated[str, typer.Option(help="assisting unit codes, comma-separated")] = "",
    law_days: Annotated[int | None, typer.Option(help="special-law deadline")] = None,
    law: Annotated[str, typer.Option(help="the law that sets it")] = "",
    reason: str = "",
    by: By = "",
) -> None:
    """派单 (or re-dispatch) to a lead unit; sets the deadlines."""
    with _svc() as svc:
        o = svc.dispatch(
            number,
            by or cli_user(),
            unit,
            assisting=[a for a in assist.split(",") if a],
            special_law_days=law_days,
            special_law_ref=law,
            reason=reason,
        )
        due = svc.local(o.due_at) if o.due_at else "no deadline"
        sign = svc.local(o.sign_due_at) if o.sign_due_at else "-"
        typer.echo(f"{number} dispatched to {unit}; sign by {sign}; due {due}")


@orders_app.command("sign")
def sign(number: str, by: By = "") -> None:
    """签收 by the lead unit."""
    with _svc() as svc:
        svc.sign(number, by or cli_user())
        typer.echo(f"{number} signed")


@orders_app.command("return")
def return_cmd(number: str, reason: Annotated[str, typer.Option()], by: By = "") -> None:
    """退单 (within 1 working day of signing; 30 minutes for emergency)."""
    with _svc() as svc:
        svc.return_order(number, by or cli_user(), reason)
        typer.echo(f"{number} returned to the hotline")


@orders_app.command("dispute")
def dispute(number: str, reason: Annotated[str, typer.Option()], by: By = "") -> None:
    """Put a returned order on the coordination list (art. 19)."""
    with _svc() as svc:
        svc.dispute(number, by or cli_user(), reason)
        typer.echo(f"{number} on the coordination list")


@orders_app.command("coordination")
def coordination() -> None:
    """The coordination list: disputed orders."""
    with _svc() as svc:
        for o in svc.coordination_list():
            typer.echo(_line(svc, o))


@orders_app.command("reply")
def reply(number: str, text: Annotated[str, typer.Option()], by: By = "") -> None:
    """答复 by the lead unit."""
    with _svc() as svc:
        svc.reply(number, by or cli_user(), text)
        typer.echo(f"{number} replied")


@orders_app.command("assist-reply")
def assist_reply(number: str, unit: str, text: Annotated[str, typer.Option()], by: By = "") -> None:
    """An assisting unit answers the lead unit."""
    with _svc() as svc:
        svc.assist_reply(number, unit, by or cli_user(), text)
        typer.echo(f"{unit} replied to the lead unit on {number}")


@orders_app.command("close")
def close(number: str, by: By = "") -> None:
    """办结; the citizen gets the satisfaction SMS."""
    with _svc() as svc:
        svc.close(number, by or cli_user())
        typer.echo(f"{number} closed; satisfaction SMS sent")


@orders_app.command("rate")
def rate(number: str, reply_text: Annotated[str, typer.Argument(metavar="REPLY")]) -> None:
    """Record the citizen's rating: 1 满意, 2 基本满意, 3 不满意."""
    from hotline.workorders import satisfaction

    with _svc() as svc:
        o, task = satisfaction.rate(svc, number, reply_text)
        extra = f"; revisit task {task.id}" if task else ""
        typer.echo(f"{number} rated {o.satisfaction}{extra}")


@orders_app.command("archive")
def archive(number: str, by: By = "") -> None:
    with _svc() as svc:
        svc.archive(number, by or cli_user())
        typer.echo(f"{number} archived")


@orders_app.command("reopen")
def reopen(number: str, reason: Annotated[str, typer.Option()], by: By = "") -> None:
    """重办 after a dissatisfied rating."""
    with _svc() as svc:
        svc.reopen(number, by or cli_user(), reason)
        typer.echo(f"{number} dispatched again")


@orders_app.command("extend")
def extend(
    number: str,
    days: int,
    reason: Annotated[str, typer.Option()],
    by: By = "",
) -> None:
    """延期申请 by the unit (before the deadline, at most doubling the time)."""
    with _svc() as svc:
        req = svc.request_extension(number, by or cli_user(), days, reason)
        typer.echo(f"extension request {req.id}: {days} working days, waiting for the hotline")


@orders_app.command("extension")
def extension(
    request_id: int,
    approve: Annotated[bool, typer.Option("--approve/--refuse")],
    by: By = "",
) -> None:
    """The hotline approves or refuses an extension request."""
    with _svc() as svc:
        req = svc.decide_extension(request_id, by or cli_user(), approve)
        typer.echo(f"extension request {request_id} {req.status}")


@orders_app.command("sweep")
def sweep() -> None:
    """Issue due warnings and cards; apply the 24-hour satisfaction default."""
    from hotline.workorders import satisfaction, supervision

    with _svc() as svc:
        for n in supervision.sweep(svc):
            typer.echo(f"{n.kind:8} order id {n.order_id}: {n.reason}")
        for o in satisfaction.apply_defaults(svc):
            typer.echo(f"default satisfied: {o.number}")


@orders_app.command("overdue")
def overdue() -> None:
    """Orders past their deadline with their unit and cards."""
    from hotline.workorders import supervision

    with _svc() as svc:
        for item in supervision.overdue(svc):
            typer.echo(
                f"{item.order.number:18} {item.unit.code if item.unit else '-':8} "
                f"due {svc.local(item.due_at)} overdue {item.overdue_hours:.1f} h "
                f"cards: {','.join(item.cards) or '-'}"
            )


@orders_app.command("units")
def units() -> None:
    """The unit tree."""
    from hotline.workorders.units import tree_lines

    with _svc() as svc:
        for line in tree_lines(svc.session):
            typer.echo(line)


@orders_app.command("unit-add")
def unit_add(
    code: str,
    name: str,
    kind: Annotated[str, typer.Option(help="region, city, workstation, department, …")] = (
        "department"
    ),
    parent: Annotated[str | None, typer.Option(help="parent unit code")] = None,
    leader: str = "",
    liaison: str = "",
    staff: Annotated[str, typer.Option(help="comma-separated names")] = "",
    duty_phone: Annotated[str, typer.Option(help="值班电话: rung for emergency orders")] = "",
    liaison_phone: Annotated[str, typer.Option(help="联络员电话: rung next")] = "",
    sms: Annotated[str, typer.Option(help="number for warnings")] = "",
) -> None:
    """Add a unit to the tree."""
    from hotline.workorders.units import add_unit

    with _svc() as svc:
        add_unit(
            svc.session,
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            leader=leader,
            liaison=liaison,
            staff=[s for s in staff.split(",") if s],
            duty_phone=duty_phone,
            liaison_phone=liaison_phone,
            sms_number=sms,
        )
        typer.echo(f"unit {code} added")


@orders_app.command("unit-phones")
def unit_phones(
    code: str,
    duty_phone: Annotated[str | None, typer.Option(help='值班电话 ("" clears)')] = None,
    liaison_phone: Annotated[str | None, typer.Option(help="联络员电话")] = None,
    sms: Annotated[str | None, typer.Option(help="number for warnings")] = None,
) -> None:
    """Change a unit's phones (those rung for emergency orders, and the SMS number)."""
    from hotline.workorders.units import set_phones

    with _svc() as svc:
        unit = set_phones(
            svc.session, code, duty_phone=duty_phone, liaison_phone=liaison_phone, sms_number=sms
        )
        typer.echo(
            f"unit {unit.code}: duty {unit.duty_phone or '-'}, liaison "
            f"{unit.liaison_phone or '-'}, sms {unit.sms_number or '-'}"
        )


@orders_app.command("duty-calls")
def duty_calls_cmd(
    order: Annotated[str | None, typer.Option(help="only this work order")] = None,
    late: Annotated[bool, typer.Option(help="only those signed late or not in time")] = False,
) -> None:
    """Emergency orders phoned to their units: each call, who was rung, the outcome."""
    from hotline.workorders import duty_calls

    with _svc() as svc:
        order_id = svc.get(order).id if order else None
        for call in duty_calls.listing(svc.session, order_id=order_id, late=late):
            typer.echo(duty_calls.summary(svc, call))
            for a in duty_calls.attempts(svc.session, call):
                typer.echo("  " + duty_calls.attempt_line(svc, a))


@orders_app.command("assess")
def assess(
    month: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    year: Annotated[int | None, typer.Option(help="assessment year (ends 30 Nov)")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write CSV here")] = None,
    charts: Annotated[Path | None, typer.Option(help="write one PNG per unit here")] = None,
) -> None:
    """100-point scores per unit for a month or an assessment year."""
    from hotline.workorders import assessment
    from hotline.workorders.errors import WorkOrderError

    with _svc() as svc:
        if month:
            y, m = (int(x) for x in month.split("-"))
            period = assessment.month(y, m, svc.tz)
        elif year:
            period = assessment.assessment_year(svc, year)
        else:
            raise WorkOrderError("give --month YYYY-MM or --year YYYY")
        scores = assessment.score_all(svc, period)
        text = assessment.to_csv(scores)
        if csv_out:
            csv_out.write_text(text, encoding="utf-8")
        typer.echo(text, nl=False)
        if charts:
            chart_year = year or (period.start.year + (1 if period.start.month == 12 else 0))
            for path in assessment.charts(svc, chart_year, charts):
                typer.echo(str(path))


@orders_app.command("appeal")
def appeal(unit: str, year: int, figure: str, reason: Annotated[str, typer.Option()]) -> None:
    """A unit appeals a figure (until 7 working days after the year ends)."""
    from hotline.workorders import assessment

    with _svc() as svc:
        a = assessment.file_appeal(svc, unit, year, figure, reason)
        typer.echo(f"appeal {a.id} filed")


@orders_app.command("ask")
def ask(unit: str, question: str, by: By = "") -> None:
    """知识提问 to a unit (answer due in 3 working days)."""
    from hotline.workorders import knowledge

    with _svc() as svc:
        q = knowledge.ask(svc, unit, question, by or cli_user())
        typer.echo(f"question {q.id} to {unit}, due {svc.local(q.due_at)}")


@orders_app.command("answer-question")
def answer_question(question_id: int, unit: str, text: str, tags: str = "") -> None:
    """The unit's answer becomes a knowledge entry."""
    from hotline.workorders import knowledge

    with _svc() as svc:
        e = knowledge.answer(svc, question_id, unit, text, tags)
        typer.echo(f"knowledge entry {e.id}")


@orders_app.command("knowledge")
def knowledge_search(text: str) -> None:
    """Search the knowledge base."""
    from hotline.workorders import knowledge

    with _svc() as svc:
        for e in knowledge.search(svc, text):
            typer.echo(f"[{e.id}] {e.title}\n    {e.body}")


@orders_app.command("report")
def report(
    week: Annotated[str, typer.Option(help="Monday of the week, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="directory for the HTML and PNGs")] = Path("report"),
) -> None:
    """Weekly analysis report (HTML and PNG charts)."""
    from hotline.workorders import analysis

    with _svc() as svc:
        path = analysis.weekly_report(svc, date.fromisoformat(week), out)
        typer.echo(str(path))


@orders_app.command("revisits")
def revisits(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Open revisit tasks (人工回访)."""
    from hotline.workorders.revisits import open_tasks

    with _svc() as svc:
        tasks = open_tasks(svc.session)
        if as_json:
            typer.echo(json.dumps([t.model_dump(mode="json") for t in tasks], ensure_ascii=False))
            return
        for t in tasks:
            typer.echo(f"{t.id:5} order {t.order_id or '-'} {t.status:7} {t.reason}")


@orders_app.command("revisit-call")
def revisit_call(
    task_id: int,
    agent: Annotated[str, typer.Option(help="the agent whose phone rings first")],
) -> None:
    """Place a revisit task's call: the agent's phone, then the citizen (via Asterisk)."""
    import asyncio

    from hotline.acd.revisit_call import run_revisit_call
    from hotline.app.tables import open_engine
    from hotline.config.settings import load_settings
    from hotline.kernel.db import upgrade

    settings = load_settings()
    upgrade(settings.db_url)
    try:
        task, outcome = asyncio.run(
            run_revisit_call(settings, open_engine(settings), task_id, agent)
        )
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    except (ConnectionError, TimeoutError, OSError) as exc:
        typer.echo(f"cannot reach AMI ({exc or 'timed out'}); is the hotline up?", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"revisit task {task.id}: {outcome.result} ({outcome.detail}); call {outcome.linkedid}"
    )
