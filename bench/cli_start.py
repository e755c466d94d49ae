"""Measurement 11: how long `hotline --help` takes to start, against a bare `python -c pass`.

The integration tests run the CLI hundreds of times, and a person types it: its start is
the import of what it needs (tests/unit/app/test_cli_imports.py keeps heavy modules out). Each
round runs every command once, in turn (interleaved, so a busy moment hits all alike);
the figures are wall-clock medians and quartiles over the rounds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.harness import percentile

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20
# name -> arguments after the interpreter; "entry" starts as the `hotline` console script
COMMANDS = {
    "ref": ["-c", "pass"],
    "help": ["-m", "hotline", "--help"],
    "agent_help": ["-m", "hotline", "agent", "--help"],
    "entry_help": ["-c", "import sys; from hotline.app.cli import app; sys.exit(app())", "--help"],
}


def _once(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - t


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def measure(rounds: int = ROUNDS) -> dict[str, float | str]:
    for args in COMMANDS.values():  # warm the file cache and the .pyc files
        _once(args)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, args in COMMANDS.items():
            samples[name].append(_once(args) * 1000)
    out: dict[str, float | str] = {"rounds": float(rounds), "commit": commit()}
    for name, ms in samples.items():
        out[f"{name}_p50_ms"] = percentile(ms, 50)
        out[f"{name}_p25_ms"] = percentile(ms, 25)
        out[f"{name}_p75_ms"] = percentile(ms, 75)
    return out


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:18} {value:.1f}" if isinstance(value, float) else f"{key:18} {value}")
