"""`hotline bench all|run NAME…`: run the measurements of issue 9, keep their figures in
bench/results/results.json, and write the table (results.md) and the plots from it.

Every benchmark starts its own hotline (a private var dir on the machine's Asterisk),
prints progress, and is sized to finish in under 10 minutes on two cores. Every
figure is a ratio against a reference measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    capacity,
    cli_start,
    fastagi_rtt,
    held,
    plots,
    recording,
    routing,
    simulation,
    soak,
    speech,
)
from bench.ami_headroom import TRANSCRIPT, replay
from bench.harness import BenchHotline, Trial, percentile, progress
from bench.prompt_timer import PromptTimer
from hotline.crm_bridge.transcript import read_transcript

RESULTS = Path(__file__).resolve().parent / "results"
Data = dict[str, Any]
GAP_SECONDS = 5


def _load() -> Data:
    path = RESULTS / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(data: Data) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))


def _trial_row(t: Trial) -> Data:
    return {
        "rate": t.rate,
        "calls": t.calls,
        "failed": t.failed,
        "clean": t.clean,
        "setup_p50": percentile(t.setup_ms, 50),
        "setup_p95": percentile(t.setup_ms, 95),
        "cpu_ms_per_call": t.cpu_seconds / max(t.calls, 1) * 1000,
    }


# ---- the benchmarks ------------------------------------------------------------
def bench_capacity(data: Data) -> Data:
    """1 (and the peak of 6): top clean call rate, ENG and REF."""
    out: Data = {}
    with BenchHotline() as h:
        for target in ("ENG", "REF"):
            cap = capacity.top_rate(h, target)
            lag = cap.confirmed.store_lag_ms if cap.confirmed else []
            out[target] = {
                "top": cap.top_rate,
                "label": cap.label,
                "trials": [_trial_row(t) for t in cap.trials],
                "store_lag_p99_ms": percentile(lag, 99),
                "store_lag_p50_ms": percentile(lag, 50),
            }
    return out


def _half_ref(data: Data) -> float:
    top = float(data.get("capacity", {}).get("REF", {}).get("top", 80))
    return max(5.0, round(top / 2))


def bench_setup(data: Data, seconds: float = 30) -> Data:
    """2-3: set-up and first-prompt delay, CPU per call, at half REF's top rate."""
    rate = _half_ref(data)
    out: Data = {"rate": rate}
    with BenchHotline() as h:
        timer = PromptTimer(h)
        try:
            for target in ("ENG", "REF"):
                prefix = h.next_prefix()
                timer.start(prefix)
                t = h.run_load(target, rate, seconds, prefix=prefix)
                first = timer.delays_ms()
                row = _trial_row(t) | {
                    "prompt_p50": percentile(first, 50),
                    "prompt_p95": percentile(first, 95),
                    "prompts_timed": len(first),
                }
                progress(
                    f"{target} at {rate:g} calls/s: {t.summary()}; setup p50/p95 "
                    f"{row['setup_p50']:.0f}/{row['setup_p95']:.0f} ms, first prompt p50/p95 "
                    f"{row['prompt_p50']:.1f}/{row['prompt_p95']:.1f} ms, "
                    f"{row['cpu_ms_per_call']:.1f} ms CPU/call"
                )
                out[target] = row
        finally:
            timer.close()
    return out


def bench_classic(data: Data) -> Data:
    """4: the same IVR as a classic AGI script (pyst2), one process per call."""
    eng = data.get("capacity", {}).get("ENG", {}).get("top", 320)
    with BenchHotline() as h:
        cap = capacity.top_rate(h, "CLASSIC", start=5, ceiling=max(10, eng))
    return {"top": cap.top_rate, "label": cap.label, "trials": [_trial_row(t) for t in cap.trials]}


def bench_fastagi(data: Data) -> Data:
    """5: FastAGI round trip p99 at 100 channels against a bare asyncio echo."""
    progress("5: FastAGI round trip, 100 concurrent channels")
    return dict(fastagi_rtt.measure())


def bench_ami(data: Data) -> Data:
    """6: the bridge's top events/s on a replayed transcript."""
    progress("6: AMI headroom, replayed transcript")
    eps, n = replay()
    per_call = sum(1 for e in read_transcript(TRANSCRIPT) if e.get("Linkedid")) / 3
    return {"events_per_second": eps, "events": n, "events_per_call": per_call}


def bench_recording(data: Data, seconds: float = 30) -> Data:
    """7: CPU per call with and without MixMonitor; archive speed."""
    rate = _half_ref(data)
    with BenchHotline() as h:
        on, off = recording.recording_cost(h, rate, seconds)
    progress("7: archive speed (transcode to GSM + SHA-256)")
    speed = recording.archive_speed()
    progress(f"archived {speed:.1f} minutes of audio per CPU second")
    return {
        "rate": rate,
        "on": _trial_row(on),
        "off": _trial_row(off),
        "archive_min_per_cpu_s": speed,
    }


def bench_routing(data: Data) -> Data:
    """8: agent free -> next caller's INVITE at the agent, ENG and plain app_queue."""
    out: Data = {}
    with BenchHotline(agents=[routing.AGENT]) as h:
        for target in ("ENG", "REF"):
            d = routing.routing_delay(h, target)
            out[target] = {"p50": percentile(d, 50), "p95": percentile(d, 95), "n": len(d)}
            progress(
                f"{target}: routing p50/p95 {out[target]['p50']:.0f}/{out[target]['p95']:.0f} ms"
            )
    return out


def bench_simulation(data: Data) -> Data:
    """8 (second part): a 4-minute queue simulation against Erlang C."""
    with BenchHotline(agents=simulation.AGENTS) as h:
        return dict(simulation.simulate(h, minutes=4).__dict__)


def bench_held(data: Data) -> Data:
    """9: concurrent calls held 60 s with audio and recording, quality holding."""
    out: Data = {}
    with BenchHotline() as h:
        for target in ("ENG", "REF"):
            levels = held.held_capacity(h, target, levels=(100, 200))
            good = [lv.calls for lv in levels if lv.holds]
            out[target] = {
                "top": max(good, default=0),
                "ceiling_reached": all(lv.holds for lv in levels),
                "levels": [lv.__dict__ | {"holds": lv.holds} for lv in levels],
            }
    return out


def bench_speech(data: Data) -> Data:
    """10: speech recognition real-time factor and latency to the final result."""
    return dict(speech.measure())


def bench_cli_start(data: Data) -> Data:
    """11: `hotline --help` start time against `python -c pass` (20 interleaved rounds)."""
    progress("11: CLI start, 20 rounds")
    return dict(cli_start.measure())


def bench_soak(data: Data, minutes: float = 60, rate: float | None = None) -> Data:
    """Soak (issue 19): Poisson calls at half the top rate of the soak's own call (found by
    short trials first, unless --rate is given), memory of every process."""
    search = None
    if rate is None:
        search = soak.search_top_rate()
        if search.top <= 0:
            raise RuntimeError(f"no clean trial from {soak.SEARCH_START:g} calls/s: {search}")
        rate = search.top / 2
    counts, samples = soak.soak(rate, minutes)
    summary = soak.summarise(counts, samples)
    csv = soak.write_csv(samples, RESULTS / "soak_samples.csv")
    names = list(dict.fromkeys(n for s in samples for n in s.rss_kib))
    png = plots.soak_over_time(
        [s.t / 60 for s in samples],
        {n: [s.rss_kib[n] / 1024 if n in s.rss_kib else None for s in samples] for n in names},
        [soak.interval_rate(p, s) for p, s in zip([None, *samples], samples, strict=False)],
        rate,
        RESULTS / "soak_memory_and_rate.png",
    )
    for line in soak.report_lines(summary):
        progress(line)
    found = {"top_rate_search": search.as_dict()} if search else {}
    return summary | found | {"commit": cli_start.commit(), "csv": csv.name, "plot": png.name}


BENCHMARKS: dict[str, Callable[[Data], Data]] = {
    "fastagi": bench_fastagi,
    "ami": bench_ami,
    "capacity": bench_capacity,
    "setup": bench_setup,
    "classic": bench_classic,
    "recording": bench_recording,
    "routing": bench_routing,
    "simulation": bench_simulation,
    "held": bench_held,
    "speech": bench_speech,
    "cli_start": bench_cli_start,
}
# Run only by name (`hotline bench run soak`), not by `hotline bench all`: an hour long.
LONG: dict[str, Callable[..., Data]] = {"soak": bench_soak}


def run(names: list[str], soak_options: Data | None = None) -> Path:
    """Run the named benchmarks; `soak_options` (minutes, rate) go to the soak."""
    known = BENCHMARKS | LONG
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown benchmark {unknown}; choose from {list(known)}")
    if soak_options and "soak" not in names:
        raise ValueError("--minutes and --rate are the soak's options: run soak to use them")
    data = _load()
    data["machine"] = _machine()
    for name in names:
        bench = known[name]
        progress(f"== {name}: {(bench.__doc__ or '').strip()}")
        t = time.monotonic()
        extra = (soak_options or {}) if name == "soak" else {}
        data[name] = bench(data, **extra) | {
            "ran_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "minutes": round((time.monotonic() - t) / 60, 1),
        }
        _save(data)
        progress(f"== {name} done in {data[name]['minutes']} min")
        time.sleep(GAP_SECONDS)  # a test session waiting for the Asterisk root goes now
    return write_report(data)


# ---- the report ------------------------------------------------------------------
def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and a == a and b == b else "n/a"


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}; SIPp on the same machine"
    )


def rows(data: Data) -> list[tuple[str, str, str, str, str]]:
    r: list[tuple[str, str, str, str, str]] = []
    cap = data.get("capacity")
    if cap:
        e, f = cap["ENG"], cap["REF"]
        r.append((
            "1. Top call rate, zero failed calls (calls/s)", e["label"], f["label"],
            _ratio(e["top"], f["top"]),
            "10 s search trials (doubling from 10, 3 bisections, ceiling 160), then a 60 s "
            "trial at the rate found; call: answer, record, 0.3 s menu, key 3, queue, bye at 1.5 s",
        ))  # fmt: skip
    s = data.get("setup")
    if s:
        e, f = s["ENG"], s["REF"]
        for key, name in (("setup", "INVITE → 200 OK"), ("prompt", "answer → first prompt")):
            for p in (50, 95):
                r.append((
                    f"2. {name} p{p} (ms)", f"{e[f'{key}_p{p}']:.1f}", f"{f[f'{key}_p{p}']:.1f}",
                    _ratio(e[f"{key}_p{p}"], f[f"{key}_p{p}"]),
                    f"{s['rate']:g} calls/s (half REF's top) for 30 s; "
                    + ("SIPp -trace_rtt" if key == "setup" else "AMI event timestamps"),
                ))  # fmt: skip
        r.append((
            "3. CPU per call (ms)", f"{e['cpu_ms_per_call']:.1f}", f"{f['cpu_ms_per_call']:.1f}",
            _ratio(e["cpu_ms_per_call"], f["cpu_ms_per_call"]),
            "every process of the hotline (Asterisk, the supervisor, each service), /proc "
            f"utime+stime, {e['calls']} calls at {s['rate']:g}/s",
        ))  # fmt: skip
    c = data.get("classic")
    if c and cap:
        r.append((
            "4. Top call rate, FastAGI ÷ classic AGI (pyst2, a process per call)",
            cap["ENG"]["label"], c["label"], _ratio(cap["ENG"]["top"], c["top"]),
            "REF column = the same menu as a pyst2 script run by AGI() inside the Asterisk root",
        ))  # fmt: skip
    rt = data.get("fastagi")
    if rt:
        r.append((
            "5. FastAGI GET VARIABLE round trip p99 (µs)", f"{rt['eng_p99']:.0f}",
            f"{rt['ref_p99']:.0f}", _ratio(rt["eng_p99"], rt["ref_p99"]),
            f"100 channels x {fastagi_rtt.COMMANDS} commands; REF = bare asyncio echo",
        ))  # fmt: skip
    a = data.get("ami")
    if a and cap:
        peak = a["events_per_call"] * max(cap["ENG"]["top"], cap["REF"]["top"])
        r.append((
            "6. AMI headroom: bridge events/s ÷ peak events/s", f"{a['events_per_second']:.0f}",
            f"{peak:.0f}", _ratio(a["events_per_second"], peak),
            f"{a['events']} replayed events assembled and stored in SQLite; peak = "
            f"{a['events_per_call']:.1f} events/call x measurement 1's top rate",
        ))  # fmt: skip
        r.append((
            "6. Hang-up → stored call record p99 (ms)", f"{cap['ENG']['store_lag_p99_ms']:.0f}",
            f"{cap['REF']['store_lag_p99_ms']:.0f}",
            _ratio(cap["ENG"]["store_lag_p99_ms"], cap["REF"]["store_lag_p99_ms"]),
            "measurement 1's 60 s trial at each flow's top rate; database polled every 0.2 s",
        ))  # fmt: skip
    rc = data.get("recording")
    if rc:
        on, off = rc["on"]["cpu_ms_per_call"], rc["off"]["cpu_ms_per_call"]
        r.append((
            "7. CPU per call, recording on ÷ off (ms)", f"{on:.1f}", f"{off:.1f}", _ratio(on, off),
            f"REF flow with and without MixMonitor, {rc['rate']:g} calls/s for 30 s",
        ))  # fmt: skip
        r.append((
            "7. Archive speed (minutes of audio per CPU second)",
            f"{rc['archive_min_per_cpu_s']:.1f}", "n/a", "n/a",
            "8 kHz WAV → GSM (pydub/ffmpeg) + SHA-256, 10 files of 3 min",
        ))  # fmt: skip
    ro = data.get("routing")
    if ro:
        for q in ("p50", "p95"):
            r.append((
                f"8. Agent free → next caller's INVITE {q} (ms)", f"{ro['ENG'][q]:.0f}",
                f"{ro['REF'][q]:.0f}", _ratio(ro["ENG"][q], ro["REF"][q]),
                f"one agent, 30 callers queued faster than served; {ro['ENG']['n']}/"
                f"{ro['REF']['n']} intervals; REF = dialplan menu to the same app_queue queue",
            ))  # fmt: skip
    sm = data.get("simulation")
    if sm:
        r.append((
            "8. Service level (answered ≤ 20 s ÷ offered), simulation ÷ Erlang C",
            f"{sm['measured_sl']:.1%}", f"{sm['erlang_sl']:.1%}",
            _ratio(sm["measured_sl"], sm["erlang_sl"]),
            f"{sm['agents']} agents, Poisson {sm['calls_per_hour']:g} calls/h, exponential talk "
            f"(mean {sm['aht_target_s']:g} s, measured {sm['measured_aht_s']:.1f} s), "
            f"{sm['offered']} offered, {sm['answered']} answered; REF column = Erlang C",
        ))  # fmt: skip
    hd = data.get("held")
    if hd:
        e, f = hd["ENG"], hd["REF"]
        lab = {
            k: (f"≥ {hd[k]['top']}" if hd[k]["ceiling_reached"] else str(hd[k]["top"]))
            for k in ("ENG", "REF")
        }
        r.append((
            "9. Calls held 60 s with audio + recording, quality holding", lab["ENG"], lab["REF"],
            _ratio(e["top"], f["top"]),
            "levels 100, 200; holds = every call ok and worst channel RTP loss < 1 % "
            "(Asterisk's receive statistics)",
        ))  # fmt: skip
    sp = data.get("speech")
    if sp:
        one, pool, lat = sp["one"], sp["pool"], sp["latency_ms"]
        r.append((
            "10. Speech real-time factor, one stream ÷ a stream of a full pool",
            f"{one['rtf']:.3f}", f"{pool['rtf']:.3f}", _ratio(one["rtf"], pool["rtf"]),
            f"{sp['model']}; espeak-ng phrases {one['recognised']} / {pool['recognised']} "
            f"right; pool = {pool['streams']} streams at once ({pool['throughput_x']}x real time)",
        ))  # fmt: skip
        r.append((
            "10. Speech end → outcome at the IVR p50 / p95 (ms)", f"{lat['p50']}", f"{lat['p95']}",
            "n/a",
            f"the service over a fake AudioSocket at real time, {lat['n']} utterances "
            f"({lat['recognised']} right); includes Vosk's end-of-utterance silence",
        ))  # fmt: skip
    cs = data.get("cli_start")
    if cs:
        for key, name in (
            ("help", "hotline --help"),
            ("agent_help", "hotline agent --help"),
            ("entry_help", "hotline --help, console-script entry"),
        ):
            r.append((
                f"11. `{name}` start, p50 (ms)", f"{cs[f'{key}_p50_ms']:.0f}",
                f"{cs['ref_p50_ms']:.0f}", _ratio(cs[f"{key}_p50_ms"], cs["ref_p50_ms"]),
                f"{cs['rounds']:.0f} interleaved rounds, quartiles {cs[f'{key}_p25_ms']:.0f}-"
                f"{cs[f'{key}_p75_ms']:.0f} ms; REF = python -c pass; commit {cs['commit']}",
            ))  # fmt: skip
    return r


def soak_section(s: Data) -> list[str]:
    """The soak's table for results.md: calls, then each process's memory."""
    lines = [
        "## Soak",
        "",
        f"{s['rate']:g} calls/s (Poisson) for {s.get('load_minutes', s['minutes']):g} min, "
        f"{s['agents']} agents, talk "
        f"mean {s['talk_mean_s']:g} s; commit {s['commit']}, {s['ran_at']}.",
        "",
        f"- calls placed {s['placed']}, SIP failed {s['sip_failed']}, lost calls "
        f"{s['lost_calls']}; records {s['records']}, lost records {s['lost_records']}",
        f"- verdict: {s['verdict']}",
        "",
        "| process | RSS at 10 min (MiB, median [min-max]) | RSS at the end | growth | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, p in s["processes"].items():
        if p["growth_pct"] is None:
            lines.append(f"| {name} | n/a | n/a | n/a | {p['verdict']} |")
            continue
        base, end = p["at_10_min_range_mib"], p["end_range_mib"]
        lines.append(
            f"| {name} | {p['at_10_min_mib']} [{base[0]}-{base[1]}] | {p['end_mib']} "
            f"[{end[0]}-{end[1]}] | {p['growth_pct']:+.2f} % | {p['verdict']} |"
        )
    return [*lines, "", f"![memory and call rate over time]({s['plot']})"]


def write_report(data: Data) -> Path:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {data.get('machine', _machine())}.",
        "",
        "| metric | ENG | REF | ENG ÷ REF | conditions |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(x)} |" for x in rows(data)],
        "",
        "When each benchmark ran and how long it took:",
        "",
        *[
            f"- {name}: {data[name]['ran_at']}, {data[name]['minutes']} min"
            for name in BENCHMARKS | LONG
            if name in data
        ],
    ]
    if "soak" in data:
        lines += ["", *soak_section(data["soak"])]
    if "capacity" in data:
        png: Path = plots.latency_vs_load(
            {t: data["capacity"][t]["trials"] for t in ("ENG", "REF")},
            RESULTS / "setup_vs_load.png",
        )
        lines += ["", f"![set-up delay against load]({png.name})"]
    if "held" in data:
        png = plots.loss_vs_calls(
            {t: data["held"][t]["levels"] for t in ("ENG", "REF")},
            RESULTS / "rtp_loss_vs_calls.png",
        )
        lines += ["", f"![RTP loss against held calls]({png.name})"]
    out = RESULTS / "results.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    progress(f"wrote {out}")
    return out
