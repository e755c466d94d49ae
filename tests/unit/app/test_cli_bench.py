"""`hotline bench …` finds the checkout's bench/ (it is not installed with the package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = "from hotline.app.cli import app; app(prog_name='hotline')"


def test_bench_commands_find_the_checkouts_benchmarks(tmp_path: Path) -> None:
    # -I: neither the working directory nor PYTHONPATH is on the path, as for the
    # `hotline` script; only the installed package is
    done = subprocess.run(
        [sys.executable, "-I", "-c", CLI, "bench", "run", "no-such-benchmark"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "unknown benchmark ['no-such-benchmark']; choose from" in done.stderr
