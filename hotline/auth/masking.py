"""Citizens' phone numbers in API answers: full for the roles of `auth.full_number_roles`,
masked (139******01) for everyone else. One function, applied to every answer that
carries numbers."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from hotline.auth.settings import AuthConfig
from hotline.auth.tokens import Principal
from hotline.kernel.masking import mask_number

# the fields of our answers that hold a citizen's number
NUMBER_FIELDS = frozenset({"caller_number", "caller", "contact", "citizen_number"})
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,}$")

T = TypeVar("T")


def sees_full_numbers(settings: AuthConfig, viewer: Principal) -> bool:
    roles = {*settings.auth.full_number_roles, *settings.recordings.full_number_roles}
    return viewer.role in roles


def mask_value(value: str) -> str:
    return mask_number(value) if _PHONE.match(value) else value


def masked(
    data: T, viewer: Principal, settings: AuthConfig, fields: frozenset[str] = NUMBER_FIELDS
) -> T:
    """`data` (models, dicts, lists of them) with the number fields masked for `viewer`."""
    if sees_full_numbers(settings, viewer):
        return data
    return _walk(data, fields)  # type: ignore[no-any-return]


def _walk(data: Any, fields: frozenset[str]) -> Any:
    def one(key: str, value: Any) -> Any:
        return (
            mask_value(value) if key in fields and isinstance(value, str) else _walk(value, fields)
        )

    if isinstance(data, BaseModel):
        changes = {
            k: one(k, v)
            for k, v in data.__dict__.items()
            if isinstance(v, str | list | dict | BaseModel)
        }
        return data.model_copy(update=changes)
    if isinstance(data, dict):
        return {k: one(k, v) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk(v, fields) for v in data]
    return data
