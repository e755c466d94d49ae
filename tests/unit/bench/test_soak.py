"""The soak's pure parts: RSS parsing, the processes watched, SIPp's counters, growth and
the summary's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import (
    TOO_SHORT,
    Counts,
    Sample,
    agents_needed,
    growth,
    interval_rate,
    report_lines,
    sipp_stat_last,
    steady_rate,
    summarise,
    vm_rss_kib,
    watched_pids,
    write_csv,
)
from hotline.acd.erlang import probability_of_waiting

STATUS = """Name:\tpython
State:\tS (sleeping)
VmPeak:\t  312000 kB
VmHWM:\t   90000 kB
VmRSS:\t   81234 kB
RssAnon:\t   60000 kB
"""


def test_vm_rss_from_proc_status() -> None:
    assert vm_rss_kib(STATUS) == 81234
    # a zombie or kernel thread has no VmRSS line
    assert vm_rss_kib("Name:\tkworker\nState:\tI (idle)\n") is None


def test_watched_pids_are_the_supervisor_and_children_with_a_pid() -> None:
    services = {
        "supervisor": 100,
        "at": 0.0,
        "children": {
            "asterisk": {"state": "running", "pid": 101},
            "agi": {"state": "running", "pid": 102},
            "speech": {"state": "restarting", "pid": None},
        },
    }
    assert watched_pids(services) == {"supervisor": 100, "agi": 102, "asterisk": 101}


def test_sipp_stat_last_row() -> None:
    header = "StartTime;CurrentTime;OutgoingCall(P);OutgoingCall(C);SuccessfulCall(P);"
    header += "SuccessfulCall(C);FailedCall(P);FailedCall(C)"
    text = f"{header}\nx;y;5;5;0;0;0;0\nx;y;7;120;6;110;1;2\n"
    assert sipp_stat_last(text) == {"placed": 120, "ok": 110, "failed": 2}
    assert sipp_stat_last(header + "\n") == {"placed": 0, "ok": 0, "failed": 0}


def test_agents_needed_keep_the_chance_of_waiting_under_one_percent() -> None:
    n = agents_needed(22.5, 3.5)
    erlangs = 22.5 * 3.5
    assert probability_of_waiting(n, erlangs) <= 0.01 < probability_of_waiting(n - 1, erlangs)


def _samples(minutes: float, rss: dict[str, float], slope: float = 0.0) -> list[Sample]:
    """One sample every 10 s; each process's RSS grows by `slope` (fraction) per minute."""
    out = []
    for i in range(int(minutes * 6) + 1):
        t = i * 10.0
        kib = {n: int(v * (1 + slope * t / 60)) for n, v in rss.items()}
        out.append(Sample(t, True, i * 200, 0, i * 200, kib, {n: 1 for n in rss}))
    return out


def test_growth_from_ten_minutes_to_the_end() -> None:
    flat = growth(_samples(60, {"agi": 100_000}), "agi")
    assert flat.verdict == "pass"
    assert flat.growth_pct == 0.0
    # 0.2 % a minute: the median of minute 10-11 to that of minute 59-60 is about +10 %
    leaking = growth(_samples(60, {"agi": 100_000}, slope=0.002), "agi")
    assert leaking.verdict == "FAIL"
    assert leaking.growth_pct == pytest.approx(9.8, abs=0.3)
    assert leaking.baseline_spread_kib is not None
    assert leaking.baseline_spread_kib[0] < leaking.baseline_spread_kib[1]


def test_growth_of_a_short_run_is_not_judged() -> None:
    g = growth(_samples(6, {"bridge": 50_000}, slope=0.01), "bridge")
    assert g.verdict == TOO_SHORT
    assert g.growth_pct is None and g.baseline_kib is None
    assert (g.first_kib, g.last_kib) == (50_000, 53_000)


def test_a_process_that_restarted_fails() -> None:
    samples = _samples(30, {"acd": 70_000})
    for s in samples[100:]:
        s.pids["acd"] = 2
    g = growth(samples, "acd")
    assert g.verdict == "restarted"
    assert g.pids == [1, 2]


def _counts(**kw: int) -> Counts:
    base = dict(placed=1000, sip_ok=1000, sip_failed=0, records=1000, answered=1000)
    base |= kw
    return Counts(22.5, 60, 102, menus={"chosen": base["records"]}, load_seconds=3600, **base)


def test_summary_verdicts() -> None:
    good = summarise(_counts(), _samples(60, {"agi": 100_000, "asterisk": 200_000}))
    assert good["verdict"] == "pass"
    assert good["finished_rate_median"] == 20.0
    assert good["processes"]["asterisk"]["growth_pct"] == 0.0
    lost = summarise(_counts(records=998), _samples(60, {"agi": 100_000}))
    assert (lost["lost_records"], lost["verdict"]) == (2, "FAIL")
    failed = summarise(_counts(sip_ok=999, sip_failed=1), _samples(60, {"agi": 100_000}))
    assert (failed["lost_calls"], failed["verdict"]) == (1, "FAIL")
    leak = summarise(_counts(), _samples(60, {"agi": 100_000}, slope=0.002))
    assert leak["verdict"] == "FAIL"
    short = summarise(_counts(), _samples(6, {"agi": 100_000}))
    assert short["verdict"] == f"no lost calls or records; memory: {TOO_SHORT}"
    assert short["processes"]["agi"]["growth_pct"] is None
    assert any(TOO_SHORT in line for line in report_lines(short))


def test_csv_has_the_interval_rate_and_every_process(tmp_path: Path) -> None:
    samples = _samples(1, {"agi": 100_000, "api": 60_000})
    assert interval_rate(samples[0], samples[1]) == 20.0
    assert interval_rate(None, samples[0]) == 0.0
    assert steady_rate(samples[:3]) == 0.0  # no interval after the first minute
    rows = write_csv(samples, tmp_path / "soak.csv").read_text().splitlines()
    assert rows[0].split(",")[-2:] == ["rss_kib_agi", "rss_kib_api"]
    assert rows[2].split(",")[5] == "20.00"
    assert len(rows) == len(samples) + 1
