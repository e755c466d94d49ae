"""`hotline bench all`: run the measurements and write bench/results/results.md."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from bench import ami_headroom, capacity, fastagi_rtt
from bench.ami_headroom import TRANSCRIPT
from bench.harness import BenchHotline, percentile, progress
from crm_bridge.transcript import read_transcript

RESULTS = Path(__file__).resolve().parent / "results"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def run_all(trial_seconds: float = 20) -> Path:
    rows: list[tuple[str, str, str, str, str]] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    progress("5: FastAGI round trip, 100 concurrent channels")
    rt = fastagi_rtt.measure()
    rows.append(
        (
            "FastAGI GET VARIABLE round trip p99 (µs)",
            f"{rt['eng_p99']:.0f}",
            f"{rt['ref_p99']:.0f}",
            _ratio(rt["eng_p99"], rt["ref_p99"]),
            f"100 channels x {fastagi_rtt.COMMANDS} commands; REF = bare asyncio echo",
        )
    )

    progress("6: AMI headroom, replayed transcript")
    eps, n_events = ami_headroom.replay()

    h = BenchHotline()
    try:
        h.start()
        progress("1: top clean call rate (ENG, then REF)")
        eng = capacity.top_rate(h, "ENG", trial_seconds)
        ref = capacity.top_rate(h, "REF", trial_seconds)
        rows.insert(
            0,
            (
                "Top call rate with zero failed calls (calls/s)",
                f"{eng.top_rate:g}",
                f"{ref.top_rate:g}",
                _ratio(eng.top_rate, ref.top_rate),
                f"{trial_seconds:g} s trials, doubling from 10 then 3 bisections; "
                "short IVR call: answer, record, menu, key 3, queue, hang up at 1.5 s",
            ),
        )
        half = max(1.0, ref.top_rate / 2)
        progress(f"2-3: set-up delay and CPU per call at {half:g} calls/s")
        te = capacity.fixed_rate(h, "ENG", half, trial_seconds)
        tr = capacity.fixed_rate(h, "REF", half, trial_seconds)
        for p in (50, 95):
            e, r = percentile(te.setup_ms, p), percentile(tr.setup_ms, p)
            rows.insert(
                p // 50,
                (
                    f"INVITE -> 200 OK p{p} (ms)",
                    f"{e:.0f}",
                    f"{r:.0f}",
                    _ratio(e, r),
                    f"at {half:g} calls/s (half REF's top), SIPp -trace_rtt, 1 ms resolution",
                ),
            )
        ce, cr = te.cpu_seconds / te.calls * 1000, tr.cpu_seconds / tr.calls * 1000
        rows.insert(
            3,
            (
                "CPU per call (ms)",
                f"{ce:.1f}",
                f"{cr:.1f}",
                _ratio(ce, cr),
                f"Asterisk + our process, /proc utime+stime, {te.calls} calls at {half:g} calls/s",
            ),
        )
        per_call = sum(1 for e in read_transcript(TRANSCRIPT) if e.get("Linkedid")) / 3
        peak = per_call * max(eng.top_rate, ref.top_rate)
        rows.append(
            (
                "AMI headroom: bridge events/s ÷ peak events/s",
                f"{eps:.0f}",
                f"{peak:.0f}",
                _ratio(eps, peak),
                f"{n_events} replayed events, assembled and stored in SQLite; peak = "
                f"{per_call:.1f} call events/call x the top call rate",
            )
        )
    finally:
        h.stop()

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "results.md"
    lines = [
        f"# Benchmark results ({started})",
        "",
        f"Machine: {_machine()}.",
        "",
        "| metric | ENG | REF | ENG ÷ REF | conditions |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    progress(f"wrote {out}")
    print(out.read_text())
    return out
