"""PNG plots of a benchmark run (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def latency_vs_load(trials: dict[str, list[dict[str, Any]]], out: Path) -> Path:
    """INVITE -> 200 OK p95 and failed calls against the offered call rate."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for target, rows in trials.items():
        rows = sorted(rows, key=lambda r: r["rate"])
        rates = [r["rate"] for r in rows]
        ax1.plot(rates, [r["setup_p95"] for r in rows], marker="o", label=target)
        ax2.plot(rates, [r["failed"] for r in rows], marker="o", label=target)
    ax1.set_ylabel("INVITE → 200 OK p95 (ms)")
    ax1.set_yscale("symlog")
    ax2.set_ylabel("failed calls in the trial")
    ax2.set_xlabel("offered call rate (calls/s)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Call set-up against load (search trials)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def loss_vs_calls(levels: dict[str, list[dict[str, Any]]], out: Path) -> Path:
    """Worst channel's RTP receive loss against concurrent held calls."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for target, rows in levels.items():
        ax.plot(
            [r["calls"] for r in rows],
            [r["worst_loss_pct"] for r in rows],
            marker="o",
            label=target,
        )
    ax.axhline(1.0, color="red", linestyle="--", label="1 % limit")
    ax.set_xlabel("concurrent calls held 60 s (audio + recording)")
    ax.set_ylabel("worst channel RTP loss (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def soak_over_time(
    minutes: list[float],
    rss_mib: dict[str, list[float | None]],
    calls_per_s: list[float],
    target_rate: float,
    out: Path,
) -> Path:
    """The soak: resident memory of every process and the call rate against time."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 8), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
    colours = [plt.get_cmap("tab20")(i) for i in range(20)]  # a colour per process (about 15)
    for i, (name, values) in enumerate(rss_mib.items()):
        ax1.plot(
            minutes,
            [float("nan") if v is None else v for v in values],
            label=name,
            color=colours[i % len(colours)],
            linestyle="-" if i < len(colours) else "--",
        )
    ax1.set_ylabel("resident memory, VmRSS (MiB)")
    ax1.legend(fontsize="small", ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax2.plot(minutes, calls_per_s, label="calls finished per second (10 s intervals)")
    ax2.axhline(target_rate, color="red", linestyle="--", label=f"offered {target_rate:g}/s")
    ax2.set_ylabel("calls/s")
    ax2.set_xlabel("minutes since the first call")
    ax2.legend(fontsize="small")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        if minutes and max(minutes) > 10:
            ax.axvline(10, color="grey", linestyle=":")  # the growth baseline
    fig.suptitle("Soak: memory of every process and call rate")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
