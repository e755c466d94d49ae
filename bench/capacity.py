"""The highest call rate with zero failed calls (measurements 1, 4 and 7).

RFC 7501/7502 style: short trials double the rate from `start` until one fails,
then bisect between the last clean and the first failed rate; the rate found is
then held for a long trial (60 s), stepping down by 10 % until a long trial is
clean. A failed call is a SIP failure, an IVR that did not finish (fallback), or
a missing call record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness import BenchHotline, Trial, percentile, progress


@dataclass
class Capacity:
    target: str
    top_rate: float
    trials: list[Trial]
    confirmed: Trial | None = None
    ceiling_reached: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"≥ {self.top_rate:g}" if self.ceiling_reached else f"{self.top_rate:g}"


def top_rate(
    h: BenchHotline,
    target: str,
    *,
    search_seconds: float = 10,
    confirm_seconds: float = 60,
    start: float = 10,
    ceiling: float = 160,
    bisections: int = 3,
) -> Capacity:
    trials: list[Trial] = []

    def clean(rate: float, seconds: float, watch_store: bool = False) -> Trial:
        t = h.run_load(target, rate, seconds, watch_store=watch_store)
        trials.append(t)
        progress(f"{t.summary()} ({seconds:g} s)")
        return t

    good, bad = 0.0, None
    rate = start
    while rate <= ceiling:
        if clean(rate, search_seconds).clean:
            good = rate
            rate *= 2
        else:
            bad = rate
            break
    if bad is not None:
        for _ in range(bisections):
            mid = round((good + bad) / 2)
            if mid in (good, bad):
                break
            if clean(mid, search_seconds).clean:
                good = mid
            else:
                bad = mid
    cap = Capacity(target, good, trials, ceiling_reached=bad is None)
    # the long trial at the rate found; step down until it holds
    for _ in range(3):
        if cap.top_rate <= 0:
            break
        t = clean(cap.top_rate, confirm_seconds, watch_store=True)
        if t.clean:
            cap.confirmed = t
            break
        cap.ceiling_reached = False
        cap.top_rate = round(cap.top_rate * 0.9)
    return cap


def fixed_rate(h: BenchHotline, target: str, rate: float, seconds: float) -> Trial:
    t = h.run_load(target, rate, seconds)
    progress(
        f"{target} at {rate:g} calls/s: {'clean' if t.clean else 'FAILED'}, setup p50 "
        f"{percentile(t.setup_ms, 50):.0f} ms, p95 {percentile(t.setup_ms, 95):.0f} ms, "
        f"{t.cpu_seconds / max(t.calls, 1) * 1000:.1f} ms CPU/call"
    )
    return t
