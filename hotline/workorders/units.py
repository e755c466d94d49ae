"""Handling units as a tree: region → city → county workstation; departments and
sub-centres under a hotline (art. 3, 4, 8, 11)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from hotline.workorders.duty_plan import dialable
from hotline.workorders.errors import WorkOrderError
from hotline.workorders.models import OrgUnit, UnitKind

# Which kind of unit may sit under which (None: a root).
PARENT_KINDS: dict[UnitKind, tuple[UnitKind | None, ...]] = {
    UnitKind.REGION: (None,),
    UnitKind.CITY: (UnitKind.REGION, None),
    UnitKind.WORKSTATION: (UnitKind.CITY,),
    UnitKind.DEPARTMENT: (UnitKind.REGION, UnitKind.CITY, UnitKind.WORKSTATION, None),
    UnitKind.SUB_CENTRE: (UnitKind.REGION, UnitKind.CITY),
}


def find_unit(session: Session, code: str) -> OrgUnit:
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None:
        raise WorkOrderError(f"no unit with code {code!r}; see `hotline orders units`")
    return unit


def unit_problem(session: Session, code: str) -> str | None:
    """None when `code` names a unit, else why not (auth's check of a unit's staff)."""
    try:
        find_unit(session, code)
    except WorkOrderError as exc:
        return str(exc)
    return None


def add_unit(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str = UnitKind.DEPARTMENT,
    parent: str | None = None,
    leader: str = "",
    liaison: str = "",
    staff: list[str] | None = None,
    duty_phone: str = "",
    liaison_phone: str = "",
    sms_number: str = "",
) -> OrgUnit:
    """Add a unit under `parent` (a unit code); the kinds must fit the tree."""
    try:
        unit_kind = UnitKind(kind)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in UnitKind)
        raise WorkOrderError(f"unit kind {kind!r} unknown; allowed: {allowed}") from exc
    parent_unit = find_unit(session, parent) if parent else None
    parent_kind = UnitKind(parent_unit.kind) if parent_unit else None
    if parent_kind not in PARENT_KINDS[unit_kind]:
        allowed = ", ".join(k.value if k else "(none, a root)" for k in PARENT_KINDS[unit_kind])
        raise WorkOrderError(
            f"a {unit_kind.value} cannot sit under {parent_kind or 'nothing'}; "
            f"its parent must be: {allowed}"
        )
    if session.exec(select(OrgUnit).where(OrgUnit.code == code)).first() is not None:
        raise WorkOrderError(f"unit code {code!r} exists already")
    unit = OrgUnit(
        code=code,
        name=name,
        kind=unit_kind.value,
        parent_id=parent_unit.id if parent_unit else None,
        leader=leader,
        liaison=liaison,
        staff=",".join(staff or []),
        duty_phone=duty_phone,
        liaison_phone=liaison_phone,
        sms_number=sms_number,
    )
    session.add(unit)
    session.flush()
    return unit


def set_phones(
    session: Session,
    code: str,
    *,
    duty_phone: str | None = None,
    liaison_phone: str | None = None,
    sms_number: str | None = None,
) -> OrgUnit:
    """Change a unit's phones (None leaves one as it is; "" clears it)."""
    unit = find_unit(session, code)
    for field, value in (
        ("duty_phone", duty_phone),
        ("liaison_phone", liaison_phone),
        ("sms_number", sms_number),
    ):
        if value is not None:
            if value and dialable(value) is None:
                raise WorkOrderError(
                    f"{field} {value!r} is not a phone number (digits, - or spaces)"
                )
            setattr(unit, field, value)
    session.add(unit)
    return unit


def children(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    return list(
        session.exec(
            select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(col(OrgUnit.code))
        )
    )


def tree_lines(session: Session) -> list[str]:
    """The tree, indented, for `hotline orders units`."""
    lines: list[str] = []

    def walk(unit: OrgUnit, depth: int) -> None:
        lines.append(
            f"{'  ' * depth}{unit.code} {unit.name} [{unit.kind}] "
            f"leader={unit.leader or '-'} liaison={unit.liaison or '-'} "
            f"duty={unit.duty_phone or '-'} liaison-phone={unit.liaison_phone or '-'}"
        )
        for child in children(session, unit):
            walk(child, depth + 1)

    roots = session.exec(
        select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.code))
    )
    for root in roots:
        walk(root, 0)
    return lines
