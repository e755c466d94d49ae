"""The auth package's exceptions, each with a stable error_id (kernel/errors.py).

HotlineError
 ├── UserError      auth.user_invalid    a refused user change; also a ValueError (users.py)
 ├── LoginRefused   auth.login_refused   wrong name or password, locked, disabled (users.py)
 └── TokenRefused   auth.token_refused   no valid token (tokens.py)
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class UserError(HotlineError, ValueError):
    """A refused user change: says what is allowed."""

    error_id = "auth.user_invalid"


class LoginRefused(HotlineError):
    """A login refused: `status` is the HTTP answer's (401; 403 disabled; 429 locked, with
    `retry_after` seconds)."""

    error_id = "auth.login_refused"

    def __init__(self, message: str, status: int = 401, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TokenRefused(HotlineError):
    """No token, an unknown, expired or revoked one, or a disabled user's."""

    error_id = "auth.token_refused"
