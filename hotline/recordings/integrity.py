"""`hotline recordings verify`: the chain, then every archived file, then stray files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from hotline.recordings.archive import sha256_file
from hotline.recordings.manifest import check_chain
from hotline.recordings.models import ManifestEntry, ManifestKind, Recording, RecordingStatus


@dataclass
class VerifyReport:
    entries: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, archive_dir: Path) -> VerifyReport:
    report = VerifyReport()
    entries = list(session.exec(select(ManifestEntry).order_by(col(ManifestEntry.seq))))
    report.entries = len(entries)
    for p in check_chain(entries):
        report.problems.append(f"manifest entry {p.seq}: {p.message}")

    live: dict[str, ManifestEntry] = {}  # archive path -> its archiving entry
    for e in entries:
        if e.kind == ManifestKind.ARCHIVED:
            live[e.path] = e
        elif e.kind == ManifestKind.PURGED:
            live.pop(e.path, None)

    for path, e in sorted(live.items()):
        full = archive_dir / path
        if not full.is_file():
            report.problems.append(f"missing file {full} (call {e.linkedid})")
            continue
        report.files += 1
        if full.stat().st_size != e.size or sha256_file(full) != e.sha256:
            report.problems.append(f"altered file {full} (call {e.linkedid}): hash differs")

    chained = {e.linkedid: e for e in live.values()}
    archived = session.exec(select(Recording).where(Recording.status == RecordingStatus.ARCHIVED))
    for rec in archived:
        link = chained.get(rec.linkedid)
        if link is None or link.sha256 != rec.sha256 or link.path != rec.archive_path:
            report.problems.append(f"index row of call {rec.linkedid} does not match the manifest")

    if archive_dir.exists():
        for full in sorted(archive_dir.rglob("*")):
            if not full.is_file() or full.name.startswith("."):
                continue  # dot files: a transcode in progress
            rel = full.relative_to(archive_dir).as_posix()
            if rel not in live:
                report.problems.append(f"extra file {full}: not in the manifest")
    return report
