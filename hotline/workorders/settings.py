"""The work orders' section of the config: phoning emergency orders to the units."""

from __future__ import annotations

import re
from typing import Protocol

from pydantic import (
    Field,
    field_validator,
)

from hotline.asterisk.settings import AsteriskConfig
from hotline.auth.settings import AuthConfig
from hotline.kernel.settings import (
    PHONE_RE,
    Section,
)


class DutyCallSettings(Section):
    """Calls to a unit's duty phone when an emergency (突发) order is dispatched (art. 25.2).

    The duty phone is tried `duty_attempts` times, then the unit's liaison, then each of
    `supervisors` (the hotline's supervisors on duty, 值班长); a unit's phones are on the
    unit (`hotline orders unit-phones`).
    """

    endpoint: str = Field(
        default="carrier",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PJSIP endpoint (the carrier) the phones are rung through.",
    )
    address: str = Field(
        default="127.0.0.1:5090",
        pattern=r"^[A-Za-z0-9_.:\[\]-]+$",
        description="A phone is rung as sip:<number>@<address>.",
    )
    ring_seconds: int = Field(default=30, ge=3, le=120, description="How long each attempt rings.")
    duty_attempts: int = Field(
        default=2, ge=1, le=10, description="Attempts on the unit's duty phone (值班电话)."
    )
    liaison_attempts: int = Field(
        default=2, ge=0, le=10, description="Then attempts on the unit's liaison (联络员)."
    )
    supervisor_attempts: int = Field(
        default=1, ge=0, le=10, description="Then attempts on each of supervisors."
    )
    supervisors: list[str] = Field(
        default_factory=list,
        description="Phones of the hotline's supervisors on duty (值班长), called last; they "
        "acknowledge, they cannot sign for the unit.",
    )
    retry_after_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="After an attempt that did not sign, the next one (same person or the "
        "next) this much later.",
    )
    key_rounds: int = Field(
        default=3,
        ge=1,
        le=10,
        description='The message and "press 1" are said this many times before the call '
        "counts as no key.",
    )
    key_wait_seconds: int = Field(
        default=5, ge=1, le=30, description="Wait for the key after each round."
    )
    poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How often the duty service looks for newly dispatched emergency orders.",
    )
    pick_up_within_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="Emergency orders dispatched longer ago than this are not called (past "
        "their 24 h).",
    )

    @field_validator("supervisors")
    @classmethod
    def _numbers(cls, v: list[str]) -> list[str]:
        for number in v:
            if not re.match(PHONE_RE, number):
                raise ValueError(
                    f"supervisors: {number!r} is not a phone number (digits, - and spaces)"
                )
        return v


class WorkordersConfig(AsteriskConfig, AuthConfig, Protocol):
    """What the work orders read of the settings."""

    @property
    def duty_calls(self) -> DutyCallSettings: ...
