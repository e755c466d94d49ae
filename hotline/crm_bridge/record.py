"""The call record's other shapes, derived from its one declaration (calls/models.py
CallRecord): the API's answer for a call (CallOut) and the store's copying of a finished
call into a row.

The journal keeps the finished call itself, by its declared types (crm_bridge/journal.py).
A new field is computed in the assembler, declared in calls/models.py and migrated; nothing
here changes. tests/unit/crm_bridge/test_call_record.py checks that the shapes agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from pydantic import BaseModel, create_model
from sqlalchemy import inspect

from hotline.calls.models import RECORD_FIELD, CallRecord, RecordField
from hotline.crm_bridge.assembler import FinishedCall


@dataclass(frozen=True)
class Part:
    """One column of the call record and what it is besides a column."""

    name: str
    call: str | None  # the finished call's attribute ("speech.text"), None: not from the call
    public: bool
    listed: bool


def _parts() -> tuple[Part, ...]:
    parts = []
    for column in inspect(CallRecord).columns:
        spec = column.info.get(RECORD_FIELD, RecordField())
        if not isinstance(spec, RecordField):
            raise TypeError(f"call_record.{column.key}: info[{RECORD_FIELD!r}] is {spec!r}")
        call = column.key if spec.call == "" else spec.call
        parts.append(Part(column.key, call, spec.public, spec.listed))
    return tuple(parts)


PARTS = _parts()  # every column, in the table's order
PUBLIC = tuple(p for p in PARTS if p.public)


# The store: a finished call into its row -----------------------------------------------
_ABSENT = object()


def _attribute(obj: object, path: str) -> object:
    """`obj.a.b` for "a.b"; _ABSENT when `obj.a` is None (no speech heard)."""
    head, _, rest = path.partition(".")
    value: object = getattr(obj, head)
    if not rest:
        return value
    return _ABSENT if value is None else _attribute(value, rest)


def _stored(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return value


def record_values(call: FinishedCall) -> dict[str, object]:
    """The columns a finished call gives, as stored; the parts of a part it lacks (the
    speech of a call without speech) are left out, so a stored row keeps its own."""
    values: dict[str, object] = {}
    for part in PARTS:
        if part.call is not None:
            value = _attribute(call, part.call)
            if value is not _ABSENT:
                values[part.name] = _stored(value)
    return values


def copy_call(record: CallRecord, call: FinishedCall) -> None:
    """Set every column the call gives (setting a column to its value changes nothing)."""
    for name, value in record_values(call).items():
        setattr(record, name, value)


# The API: a row into its answer ------------------------------------------------------
def _shown(part: Part, value: object) -> object:
    if part.listed and isinstance(value, str):
        return [v for v in value.split(",") if v]
    return value


def _api_fields() -> dict[str, tuple[object, object]]:
    declared = CallRecord.model_fields
    return {p.name: (list[str] if p.listed else declared[p.name].annotation, ...) for p in PUBLIC}


# One call as GET /api/calls answers it: the call record's public columns, in order, lists
# where the record joins them with commas; every answer has every field (all required).
if TYPE_CHECKING:  # the type checker sees a model; the fields are the columns'

    class CallOut(BaseModel):
        pass

else:
    CallOut = create_model("CallOut", __module__=__name__, **_api_fields())


def call_out(record: CallRecord) -> CallOut:
    values: Mapping[str, object] = {p.name: _shown(p, getattr(record, p.name)) for p in PUBLIC}
    return CallOut.model_validate(values)
