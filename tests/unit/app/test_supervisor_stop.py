"""`hotline down` waits until what it stopped has let go of its ports: a process counts as
gone once it is a zombie or no longer exists, not when its command line reads empty."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from hotline.app.supervisor import exiting_or_alive, pid_alive


def test_a_process_counts_until_it_is_a_zombie_or_reaped() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        # Some kernels (and sandboxes) show the new command line a moment after Popen returns.
        deadline = time.monotonic() + 10
        while not pid_alive(proc.pid, "sleep") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exiting_or_alive(proc.pid) and pid_alive(proc.pid, "sleep")
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while exiting_or_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not exiting_or_alive(proc.pid)  # a zombie: it holds nothing any more
        assert proc.poll() is not None
        assert not exiting_or_alive(proc.pid)  # reaped: gone
    finally:
        proc.kill()
        proc.wait()


def test_no_such_process() -> None:
    assert not exiting_or_alive(2**22 + 12345)  # above pid_max on Linux
