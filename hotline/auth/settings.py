"""The logins' section of the config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import (
    Field,
)

from hotline.kernel.settings import Role, Section, Site


class AuthSettings(Section):
    """Logins, tokens and masking (auth/)."""

    token_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 31,
        description="How long a login's token lasts: a shift and a bit.",
    )
    max_failed_logins: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row that lock a user."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, le=24 * 60, description="How long such a lock lasts."
    )
    full_number_roles: list[Role] = Field(
        default_factory=lambda: ["supervisor"],  # type: ignore[arg-type]
        description="Who sees citizens' full phone numbers in API answers (others: "
        "139******01); unit_staff only ever sees its own unit's orders.",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Set the Secure flag of the login page's session cookie; true behind HTTPS.",
    )


class FullNumberRoles(Protocol):
    @property
    def full_number_roles(self) -> Sequence[str]: ...


class AuthConfig(Site, Protocol):
    """What auth reads of the settings (and the recordings' older full_number_roles)."""

    @property
    def auth(self) -> AuthSettings: ...
    @property
    def recordings(self) -> FullNumberRoles: ...
