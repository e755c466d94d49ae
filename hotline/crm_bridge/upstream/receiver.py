"""The reference receiver: what the platform's side of the format does, small enough to
read. It checks the signature, refuses malformed bodies, deduplicates by idempotency key
and keeps what it got (raw body and signature, to be checked again) in a SQLite file,
with every answer other than 200 (duplicates included).

Run it with `hotline upstream receiver --port 8390`; tests and sites use it to try the
format. Not a platform: it keeps every version and never acts on them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hotline.crm_bridge.upstream import wire
from hotline.crm_bridge.upstream.capture import KINDS

PATH = "/upstream"

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    idempotency_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


class ReceivedStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def add(self, envelope: dict[str, Any], raw: bytes, signature: str) -> bool:
        """Keep a change; False when its key was already kept (a duplicate)."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO received VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    envelope["idempotency_key"],
                    envelope["kind"],
                    envelope["ref"],
                    envelope["version"],
                    raw.decode(),
                    signature,
                    datetime.now(UTC).isoformat(),
                ),
            )
            return cur.rowcount == 1

    def refused(self, status: int, reason: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO refused (status, reason, received_at) VALUES (?, ?, ?)",
                (status, reason, datetime.now(UTC).isoformat()),
            )

    def rows(self, kind: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT idempotency_key, kind, ref, version, body, signature, received_at "
        query += "FROM received WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR ref = ?) "
        query += "ORDER BY version"
        with self._lock:
            cur = self._db.execute(query, (kind, kind, ref, ref))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def refusals(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute("SELECT status, reason, received_at FROM refused ORDER BY id")
            return [{"status": s, "reason": r, "received_at": t} for s, r, t in cur.fetchall()]


def check(envelope: Any, key_header: str) -> str:
    """What is wrong with a decoded body ("" when nothing)."""
    if not isinstance(envelope, dict):
        return "the body must be a JSON object"
    if envelope.get("format") != wire.FORMAT:
        return f"format must be {wire.FORMAT}"
    if envelope.get("kind") not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    for name in ("tenant", "ref", "idempotency_key", "changed_at"):
        if not isinstance(envelope.get(name), str) or not envelope[name]:
            return f"{name} must be a non-empty string"
    version = envelope.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "version must be a positive integer"
    if not isinstance(envelope.get("data"), dict):
        return "data must be an object"
    expected = wire.idempotency_key(envelope["tenant"], envelope["kind"], envelope["ref"], version)
    if envelope["idempotency_key"] != expected:
        return f"idempotency_key must be {expected}"
    if key_header != expected:
        return f"the {wire.KEY_HEADER} header must equal the body's idempotency_key"
    return ""


def create_receiver(secret: str, store: ReceivedStore) -> FastAPI:
    if not secret:
        raise ValueError("the receiver needs the shared secret")
    app = FastAPI(title="12345 upstream reference receiver")

    def refuse(status: int, error_id: str, detail: str) -> JSONResponse:
        store.refused(status, f"{error_id}: {detail}")
        return JSONResponse({"error_id": error_id, "detail": detail}, status_code=status)

    @app.post(PATH)
    async def receive(request: Request) -> JSONResponse:
        raw = await request.body()
        signature = request.headers.get(wire.SIGNATURE_HEADER, "")
        if not wire.verify(secret, raw, signature):
            return refuse(401, "bad_signature", "X-Hotline-Signature does not match the body")
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return refuse(400, "bad_json", str(exc))
        problem = check(envelope, request.headers.get(wire.KEY_HEADER, ""))
        if problem:
            return refuse(422, "bad_body", problem)
        if not store.add(envelope, raw, signature):
            return refuse(409, "duplicate", envelope["idempotency_key"])
        return JSONResponse({"accepted": envelope["idempotency_key"]}, status_code=200)

    @app.get(PATH + "/received")
    def received(kind: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        return store.rows(kind, ref)

    @app.get(PATH + "/refused")
    def refused() -> list[dict[str, Any]]:
        return store.refusals()

    return app
