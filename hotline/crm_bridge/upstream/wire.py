"""The wire format to the platform (README "Upstream sync"): body, headers, signature.

Body: compact JSON (UTF-8, sorted keys), the same bytes on every attempt of a change.
Signature: `X-Hotline-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`.
Idempotency key: `<tenant>:<kind>:<ref>:<version>`, unique per change; `version` is the
outbox row's id, which only grows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

FORMAT = 1
SIGNATURE_HEADER = "X-Hotline-Signature"
KEY_HEADER = "Idempotency-Key"
USER_AGENT = "hotline12345-upstream/1"


def idempotency_key(tenant: str, kind: str, ref: str, version: int) -> str:
    return f"{tenant}:{kind}:{ref}:{version}"


def body(
    *, tenant: str, kind: str, ref: str, version: int, changed_at: str, data: dict[str, Any]
) -> bytes:
    envelope = {
        "format": FORMAT,
        "tenant": tenant,
        "kind": kind,
        "ref": ref,
        "version": version,
        "idempotency_key": idempotency_key(tenant, kind, ref, version),
        "changed_at": changed_at,
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify(secret: str, raw: bytes, signature: str) -> bool:
    """Constant-time check of a signature header against the raw body."""
    return bool(secret) and hmac.compare_digest(sign(secret, raw), signature.strip())


def headers(*, secret: str, raw: bytes, tenant: str, kind: str, key: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        KEY_HEADER: key,
        SIGNATURE_HEADER: sign(secret, raw),
        "X-Hotline-Tenant": tenant,
        "X-Hotline-Kind": kind,
    }
