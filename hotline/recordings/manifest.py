"""The insert-only, hash-chained manifest: every archive and every deletion is a link.

entry_hash = SHA-256 over the entry's fields and the previous entry's hash, so changing,
removing or reordering any link breaks every hash after it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from hotline.recordings.models import ManifestEntry, ManifestKind

GENESIS = "0" * 64


def entry_hash(
    *,
    seq: int,
    kind: str,
    linkedid: str,
    path: str,
    size: int,
    duration_ms: int,
    sha256: str,
    at: datetime,
    prev_hash: str,
) -> str:
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = "|".join(
        [str(seq), kind, linkedid, path, str(size), str(duration_ms), sha256, stamp, prev_hash]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def last_entry(session: Session) -> ManifestEntry | None:
    return session.exec(select(ManifestEntry).order_by(col(ManifestEntry.seq).desc())).first()


def append(
    session: Session,
    kind: ManifestKind,
    linkedid: str,
    *,
    path: str = "",
    size: int = 0,
    duration_seconds: float = 0.0,
    sha256: str = "",
    at: datetime | None = None,
) -> ManifestEntry:
    """Add a link in the caller's transaction (seq and prev_hash are unique: a concurrent
    append fails at commit instead of forking the chain)."""
    last = last_entry(session)
    seq = (last.seq + 1) if last else 1
    prev = last.entry_hash if last else GENESIS
    when = (at or datetime.now(UTC)).astimezone(UTC)
    # the database keeps microseconds; hash exactly what is stored
    fields = {
        "seq": seq,
        "kind": kind.value,
        "linkedid": linkedid,
        "path": path,
        "size": size,
        "duration_ms": round(duration_seconds * 1000),
        "sha256": sha256,
        "at": when,
        "prev_hash": prev,
    }
    entry = ManifestEntry(**fields, entry_hash=entry_hash(**fields))  # type: ignore[arg-type]
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def check_chain(entries: list[ManifestEntry]) -> list[ChainProblem]:
    """Walk the links in order: numbering, back-links and each entry's own hash."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            problems.append(ChainProblem(e.seq, f"entry {expected_seq} is missing before {e.seq}"))
        if e.prev_hash != prev:
            problems.append(ChainProblem(e.seq, "does not link to the entry before it"))
        want = entry_hash(
            seq=e.seq,
            kind=e.kind,
            linkedid=e.linkedid,
            path=e.path,
            size=e.size,
            duration_ms=e.duration_ms,
            sha256=e.sha256,
            at=e.at,
            prev_hash=e.prev_hash,
        )
        if want != e.entry_hash:
            problems.append(ChainProblem(e.seq, f"altered entry (call {e.linkedid})"))
        prev = e.entry_hash
        expected_seq = e.seq + 1
    return problems
