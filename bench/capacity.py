"""Measurements 1-3 of issue 9: top clean call rate, set-up delay, CPU per call.

1. Highest call rate with zero failed calls (SIP failures, IVR fallbacks, missing
   call records) over a trial, by doubling then bisecting (RFC 7501/7502 style).
2. INVITE -> 200 OK p50/p95 at half of REF's top rate.
3. CPU seconds per call (Asterisk plus our process) at that same fixed rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import BenchHotline, Trial, percentile, progress


@dataclass
class Capacity:
    target: str
    top_rate: float
    trials: list[Trial]


def top_rate(
    h: BenchHotline,
    target: str,
    seconds: float,
    start: float = 10,
    ceiling: float = 640,
    bisections: int = 3,
) -> Capacity:
    trials: list[Trial] = []

    def clean(rate: float) -> bool:
        t = h.run_load(target, rate, seconds)
        trials.append(t)
        progress(
            f"{target} {rate:g} calls/s: {t.sip_ok}/{t.calls} SIP ok, "
            f"{t.records} records, {t.ivr_failed} IVR fallbacks -> "
            f"{'clean' if t.clean else 'FAILED'}"
        )
        return t.clean

    good, bad = 0.0, None
    rate = start
    while rate <= ceiling:
        if clean(rate):
            good = rate
            rate *= 2
        else:
            bad = rate
            break
    if bad is not None:
        for _ in range(bisections):
            mid = round((good + bad) / 2, 1)
            if mid in (good, bad):
                break
            if clean(mid):
                good = mid
            else:
                bad = mid
    return Capacity(target, good, trials)


def fixed_rate(h: BenchHotline, target: str, rate: float, seconds: float) -> Trial:
    t = h.run_load(target, rate, seconds)
    progress(
        f"{target} at {rate:g} calls/s: setup p50 {percentile(t.setup_ms, 50):.0f} ms, "
        f"p95 {percentile(t.setup_ms, 95):.0f} ms, "
        f"{t.cpu_seconds / max(t.calls, 1) * 1000:.1f} ms CPU/call"
    )
    return t
