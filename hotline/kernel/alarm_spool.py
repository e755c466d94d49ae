"""The alarm spool: one file per alarm under <var_dir>/alarms/, kept until a relay has sent
it over MQTT (alarms.py sends; this module only moves files). Neither the database nor the
broker is needed to keep an alarm, and every move is one os.rename, so services in separate
processes share the spool safely:

    pending/<name>.json            raised, not sent yet (names sort in the order raised)
    sending/<name>~<claim>.json    claimed by one relay (<claim>: its pid, a token, the time)
    delivered/<name>.json          sent; the last KEEP_DELIVERED stay, for `recent`
    bad/<name>.json                unreadable: set aside, never sent

Files are 0600 and the folders 0700: an alarm names masked numbers only, but stays private.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PENDING = 1000  # past it the oldest pending alarm is dropped (and logged)
KEEP_DELIVERED = 200
# A relay sends within seconds (aiomqtt's timeout); an older claim is from a relay that died.
STALE_CLAIM_SECONDS = 60
STALE_TMP_SECONDS = 3600
SUFFIX = ".json"
OWNER_MARK = "~"


def new_owner() -> str:
    """A relay's name in the files it claims: its process and a token (two relays may share
    a process)."""
    return f"{os.getpid()}.{secrets.token_hex(4)}"


def _claim_parts(claimed: Path) -> tuple[int, float] | None:
    """The claiming relay's pid and when it claimed, from the claimed file's name."""
    pid, _, rest = claimed.stem.rpartition(OWNER_MARK)[2].partition(".")
    at = rest.rpartition(".")[2]
    return (int(pid), float(at)) if pid.isdigit() and at.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(path: Path) -> str:
    """`<kind> of <at>` for a log line, or the file's name when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return f"{data['kind']} of {data['at']}"
    except (OSError, ValueError, KeyError, TypeError):
        return path.name


@dataclass(frozen=True)
class Spool:
    root: Path
    max_pending: int = MAX_PENDING
    keep_delivered: int = KEEP_DELIVERED

    @classmethod
    def of(cls, var_dir: Path) -> Spool:
        return cls(var_dir / "alarms")

    @property
    def pending_dir(self) -> Path:
        return self.root / "pending"

    @property
    def sending_dir(self) -> Path:
        return self.root / "sending"

    @property
    def delivered_dir(self) -> Path:
        return self.root / "delivered"

    @property
    def bad_dir(self) -> Path:
        return self.root / "bad"

    def _make_dirs(self) -> None:
        for folder in (self.root, self.pending_dir, self.sending_dir, self.delivered_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    # Writing ------------------------------------------------------------------
    def put(self, payload: str) -> Path:
        """Keep one alarm: written beside, synced, then renamed into pending/ (a reader never
        sees half a file). Past `max_pending` the oldest pending ones are dropped."""
        self._make_dirs()
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}{SUFFIX}"
        tmp = self.pending_dir / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, payload.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        path = self.pending_dir / name
        os.rename(tmp, path)
        _fsync_dir(self.pending_dir)
        self._bound()
        return path

    def _bound(self) -> None:
        pending = self.pending()
        for oldest in pending[: max(0, len(pending) - self.max_pending)]:
            what = describe(oldest)
            with contextlib.suppress(FileNotFoundError):  # a relay took it meanwhile
                oldest.unlink()
                log.error(
                    "alarm spool %s full (%d pending): dropped the oldest, %s",
                    self.pending_dir,
                    self.max_pending,
                    what,
                )

    # Reading ------------------------------------------------------------------
    @staticmethod
    def _listed(folder: Path) -> list[Path]:
        try:
            with os.scandir(folder) as entries:
                names = [e.name for e in entries if e.name.endswith(SUFFIX) and e.is_file()]
        except FileNotFoundError:
            return []
        return [folder / n for n in sorted(names)]

    def pending(self) -> list[Path]:
        """The pending alarms, oldest first."""
        return self._listed(self.pending_dir)

    def sending(self) -> list[Path]:
        return self._listed(self.sending_dir)

    def delivered(self) -> list[Path]:
        return self._listed(self.delivered_dir)

    def bad(self) -> list[Path]:
        return self._listed(self.bad_dir)

    @staticmethod
    def name_of(path: Path) -> str:
        """The alarm's name, the same in every folder (a claim adds its owner)."""
        return path.stem.partition(OWNER_MARK)[0] + SUFFIX

    # Moving -------------------------------------------------------------------
    def claim(self, path: Path, owner: str) -> Path | None:
        """Take a pending alarm for one relay; None when another one took it first."""
        claim = f"{OWNER_MARK}{owner}.{int(time.time())}"
        claimed = self.sending_dir / f"{path.stem}{claim}{SUFFIX}"
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def release(self, claimed: Path) -> None:
        """Give a claimed alarm back (not sent): pending again, in its place."""
        os.rename(claimed, self.pending_dir / self.name_of(claimed))

    def done(self, claimed: Path) -> None:
        os.rename(claimed, self.delivered_dir / self.name_of(claimed))
        delivered = self.delivered()
        for old in delivered[: max(0, len(delivered) - self.keep_delivered)]:
            with contextlib.suppress(FileNotFoundError):  # another relay pruned it
                old.unlink()

    def set_aside(self, path: Path, reason: object) -> Path:
        """Move an unreadable alarm to bad/ (kept for a person to look at), with a log line."""
        self.bad_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        aside = self.bad_dir / self.name_of(path)
        os.rename(path, aside)
        log.error("alarm spool: %s unreadable (%s); moved to %s", path.name, reason, aside)
        return aside

    def reclaim_stale(self) -> int:
        """Claims of relays that died (their process is gone, or the claim is older than a
        send can take) go back to pending; the number given back."""
        given = 0
        for claimed in self.sending():
            parts = _claim_parts(claimed)
            if parts and _alive(parts[0]) and time.time() - parts[1] < STALE_CLAIM_SECONDS:
                continue
            with contextlib.suppress(FileNotFoundError):
                self.release(claimed)
                given += 1
                log.warning("alarm spool: %s claimed by a relay that died; pending again", claimed)
        self._drop_stale_tmp()
        return given

    def _drop_stale_tmp(self) -> None:
        try:
            with os.scandir(self.pending_dir) as entries:
                tmps = [Path(e.path) for e in entries if e.name.endswith(".tmp")]
        except FileNotFoundError:
            return
        for tmp in tmps:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    tmp.unlink()

    def newest(self, n: int) -> Iterator[tuple[Path, bool]]:
        """Up to n alarms, newest first, each with whether it was delivered (a claimed one is
        still pending)."""
        found = {self.name_of(p): (p, False) for p in self.pending() + self.sending()}
        found.update({p.name: (p, True) for p in self.delivered()})
        for name in sorted(found, reverse=True)[:n]:
            yield found[name]
