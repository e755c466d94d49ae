"""Password hashing: argon2id through pwdlib (salted, memory-hard; the hash names its
parameters, so stronger settings later re-hash on the next good login)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    if password.strip() != password:
        raise ValueError("a password may not start or end with a space")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher().hash(password)


def verify(password: str, stored: str) -> tuple[bool, str | None]:
    """(matches, a new hash to store when the parameters changed)."""
    if not stored:
        # same work as a real check, so that a missing user is not told by the time taken
        _hasher().verify(password, _dummy_hash())
        return False, None
    return _hasher().verify_and_update(password, stored)


def generate() -> str:
    """A random password for `hotline users add` when none is given (shown once)."""
    return secrets.token_urlsafe(12)
