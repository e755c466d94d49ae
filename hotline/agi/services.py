"""What the IVR flows ask of the rest of the system (blocks, orders, surveys, speech).

Flows see only the IvrServices protocol; DbServices is the real one: one short
database session per question, on a lookup thread (agi/lookups.py), awaited at most
agi.lookup_timeout_seconds, never held for a call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.acd import callbacks
from hotline.agi import blocks, messages
from hotline.agi.lookups import Lookups, commit_unless
from hotline.agi.models import SurveyResult
from hotline.agi.settings import AgiSettings
from hotline.kernel.masking import mask_number
from hotline.workorders.progress import OrderProgress, find_order_for_caller, open_orders_for_caller
from hotline.workorders.revisits import create_revisit_task

log = logging.getLogger(__name__)


class IvrServices(Protocol):
    timezone: ZoneInfo

    async def blocked(self, number: str) -> bool: ...
    async def refused(self, number: str, linkedid: str) -> None: ...
    async def open_orders(self, number: str) -> int: ...
    async def find_order(
        self, number: str, caller: str, query_code: str | None
    ) -> OrderProgress | None: ...
    async def save_survey(self, linkedid: str, caller: str, answer: str) -> None: ...
    async def speak(self, text: str) -> str | None: ...
    async def request_callback(
        self, linkedid: str, number: str, queue: str, position: int, request_type: str
    ) -> int | None: ...
    async def leave_message(
        self, linkedid: str, caller: str, path: str, request_type: str
    ) -> str | None: ...


class NoServices:
    """No database: nobody is blocked, nobody has orders (unit tests, the bench)."""

    timezone = ZoneInfo("Asia/Shanghai")

    async def blocked(self, number: str) -> bool:
        return False

    async def refused(self, number: str, linkedid: str) -> None:
        return None

    async def open_orders(self, number: str) -> int:
        return 0

    async def find_order(
        self, number: str, caller: str, query_code: str | None
    ) -> OrderProgress | None:
        return None

    async def save_survey(self, linkedid: str, caller: str, answer: str) -> None:
        return None

    async def speak(self, text: str) -> str | None:
        return None

    async def request_callback(
        self, linkedid: str, number: str, queue: str, position: int, request_type: str
    ) -> int | None:
        return None

    async def leave_message(
        self, linkedid: str, caller: str, path: str, request_type: str
    ) -> str | None:
        return None


class DbServices:
    """Every question waits at most agi.lookup_timeout_seconds (hotline/agi/lookups.py); when
    the database is slow or gone the call goes on with the answer that serves the caller."""

    def __init__(
        self,
        engine: Engine,
        timezone: ZoneInfo,
        sounds_dir: Path,
        tts_dir: str,
        root: Path = Path("/"),
        agi: AgiSettings | None = None,
    ) -> None:
        self.engine = engine
        self.timezone = timezone
        self.sounds_dir = sounds_dir
        self.tts_dir = tts_dir  # sound name prefix, e.g. hotline/tts
        self.root = root  # Asterisk's root: its paths are inside it
        limits = agi or AgiSettings()
        self.lookups = Lookups(timeout=limits.lookup_timeout_seconds, threads=limits.lookup_threads)

    async def blocked(self, number: str) -> bool:
        def run(_: threading.Event) -> bool:
            with Session(self.engine) as s:
                return blocks.active_block(s, number) is not None

        # the block list is a nuisance filter: when unreadable, serve the caller
        return await self.lookups.ask(f"block list of {mask_number(number)}", run, False)

    async def refused(self, number: str, linkedid: str) -> None:
        def run(_: threading.Event) -> None:
            with Session(self.engine) as s:
                blocks.log_refused_call(s, number, linkedid)
                s.commit()  # late is fine: an audit line

        await self.lookups.ask(f"refused call {linkedid}: audit", run, None)

    async def open_orders(self, number: str) -> int:
        def run(_: threading.Event) -> int:
            with Session(self.engine) as s:
                return len(open_orders_for_caller(s, number))

        return await self.lookups.ask(f"open orders of {mask_number(number)}", run, 0)

    async def find_order(
        self, number: str, caller: str, query_code: str | None
    ) -> OrderProgress | None:
        def run(_: threading.Event) -> OrderProgress | None:
            with Session(self.engine) as s:
                return find_order_for_caller(s, number, caller, query_code)

        # unreadable: the caller hears "not found" (and reaches an agent after three)
        return await self.lookups.ask(f"progress of order {number}", run, None)

    async def save_survey(self, linkedid: str, caller: str, answer: str) -> None:
        def run(_: threading.Event) -> None:
            with Session(self.engine) as s:
                s.add(
                    SurveyResult(
                        linkedid=linkedid,
                        caller_number=caller,
                        answer=answer,
                        answered_at=datetime.now(UTC),
                    )
                )
                if answer == "dissatisfied":  # art. 27.3: the hotline calls back
                    create_revisit_task(
                        s,
                        linkedid=linkedid,
                        caller_number=caller,
                        reason="不满意 (IVR satisfaction survey)",
                    )
                s.commit()  # late is fine: the caller heard thanks either way

        await self.lookups.ask(f"survey of call {linkedid}", run, None)

    async def speak(self, text: str) -> str | None:
        """A sound name for free text (a unit's name), spoken once and kept."""
        name = f"{self.tts_dir}/{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        wav = self.sounds_dir / f"{name}.wav"
        if wav.exists():
            return name
        try:
            await asyncio.to_thread(_speak, text, wav)
        except Exception:
            log.exception("could not speak a dynamic prompt")
            return None
        return name

    async def request_callback(
        self, linkedid: str, number: str, queue: str, position: int, request_type: str
    ) -> int | None:
        def run(gave_up: threading.Event) -> int | None:
            with Session(self.engine) as s:
                cb = callbacks.request(
                    s,
                    linkedid=linkedid,
                    number=number,
                    queue=queue,
                    position=position,
                    request_type=request_type,
                    now=datetime.now(UTC),
                )
                # never after the caller was told it failed and stayed in the queue
                commit_unless(s, gave_up)
                return cb.id

        # None: the caller hears it failed and stays in the queue
        return await self.lookups.ask(f"callback of call {linkedid}", run, None)

    async def leave_message(
        self, linkedid: str, caller: str, path: str, request_type: str
    ) -> str | None:
        if not path or not (self.root / path.lstrip("/")).is_file():
            return None  # hung up before speaking: nothing was left

        def run(_: threading.Event) -> str | None:
            with Session(self.engine) as s:
                order = messages.order_from_message(
                    s,
                    linkedid=linkedid,
                    caller=caller,
                    path=path,
                    request_type=request_type,
                    now=datetime.now(UTC),
                    tz=self.timezone,
                )
                s.commit()  # even late: a citizen's message is never thrown away
                return order.number

        # None: the caller hears that the message could not be saved
        return await self.lookups.ask(f"message of call {linkedid}", run, None)


def _speak(text: str, out: Path) -> None:
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        raise RuntimeError("espeak-ng or sox is missing")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn", "-s", "210", "-w", str(raw), text],
            check=True,
            capture_output=True,
        )
        part = out.with_suffix(".part.wav")
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(part)],
            check=True,
            capture_output=True,
        )
        part.replace(out)
