"""Measurement 6: the bridge's top events per second on a replayed AMI transcript.

The recorded transcript (tests/fixtures/ami_three_calls.txt) is replayed with fresh
call ids through the assembler and stored in SQLite, as the bridge does; the
rate is compared with the peak events per second Asterisk produced in the run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from hotline.crm_bridge.assembler import CallAssembler
from hotline.crm_bridge.service import store_call
from hotline.crm_bridge.transcript import read_transcript
from hotline.kernel.db import make_engine, upgrade
from hotline.kernel.settings import PROJECT_ROOT
from hotline.workorders.calendar import WorkCalendar

TRANSCRIPT = PROJECT_ROOT / "tests" / "fixtures" / "ami_three_calls.txt"


def replay(copies: int = 300) -> tuple[float, int]:
    """Events per second through assembly and storage; and the number of events."""
    base = [e for e in read_transcript(TRANSCRIPT) if e.get("Linkedid")]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        asm = CallAssembler()
        cal, tz = WorkCalendar(), ZoneInfo("Asia/Shanghai")
        events = []
        for i in range(copies):
            for e in base:
                ev = dict(e)
                for key in ("Linkedid", "Uniqueid", "DestLinkedid", "DestUniqueid"):
                    if key in ev:
                        ev[key] = f"{i}-{ev[key]}"
                events.append(ev)
        t = time.perf_counter()
        with Session(engine) as s:
            for ev in events:
                call = asm.feed(ev)
                if call is not None:
                    store_call(s, call, tenant="bench", calendar=cal, tz=tz)
                    s.commit()
        elapsed = time.perf_counter() - t
        engine.dispose()
    return len(events) / elapsed, len(events)
