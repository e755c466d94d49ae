"""A kept child (app/keeper.py): started again with back-off when it dies, killed when it
stalls, left stopped when asked; real child processes speaking sd_notify (kernel/notify.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.app.keeper import POLL, ChildSpec, Keeper

# a service in miniature: says it is ready, then alive every period / 4 from its event loop
SERVICE = """
import asyncio, sys
from hotline.kernel import notify
async def main():
    notify.notify("STATUS=serving")
    notify.ready()
    await notify.keep_telling_alive()
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def spec(tmp_path: Path, code: str, **kw: object) -> ChildSpec:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    return ChildSpec(
        "svc",
        [sys.executable, "-c", code],
        tmp_path / "svc.log",
        env=env,
        notify_dir=tmp_path / "notify",
        **kw,  # type: ignore[arg-type]
    )


class Recorder:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.states: list[str] = []

    def changed(self, keeper: Keeper) -> None:
        self.states.append(keeper.state.state)

    def failed(self, keeper: Keeper, reason: str) -> None:
        self.failures.append(reason)


async def until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time given"
        await asyncio.sleep(0.05)


def keeper(s: ChildSpec, rec: Recorder) -> Keeper:
    return Keeper(s, on_change=rec.changed, on_failure=rec.failed)


def test_a_child_that_dies_is_started_again_and_says_why(tmp_path: Path) -> None:
    async def run() -> None:
        rec = Recorder()
        k = keeper(spec(tmp_path, SERVICE, watchdog_seconds=30), rec)
        k.start()
        await asyncio.wait_for(k.ready.wait(), 20)
        assert k.state.state == "running" and k.state.status == "serving"
        first = k.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await until(lambda: k.pid not in (None, first) and k.ready.is_set())
        assert rec.failures == ["killed by SIGKILL"]
        assert k.state.restarts == 1 and k.state.last_exit == "killed by SIGKILL"
        assert "restarting" in rec.states
        await k.stop()
        assert k.state.state == "stopped" and k.pid is None
        assert rec.failures == ["killed by SIGKILL"]  # a stop asked for is no failure

    asyncio.run(run())


def test_a_stalled_child_is_killed_and_started_again(tmp_path: Path) -> None:
    async def run() -> None:
        rec = Recorder()
        k = keeper(spec(tmp_path, SERVICE, watchdog_seconds=2), rec)
        k.start()
        await asyncio.wait_for(k.ready.wait(), 20)
        first = k.pid
        assert first is not None
        os.kill(first, signal.SIGSTOP)  # alive, but its loop says nothing any more
        await until(lambda: k.pid not in (None, first) and k.ready.is_set(), 30)
        assert rec.failures and rec.failures[0].startswith("stalled (silent for ")
        assert _gone_or_zombie(first)
        await k.stop()

    asyncio.run(run())


def _gone_or_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_back_off_doubles_up_to_the_cap(tmp_path: Path) -> None:
    async def run() -> None:
        rec = Recorder()
        k = keeper(spec(tmp_path, "import sys; sys.exit(3)", restart_max=2), rec)
        k.start()
        await until(lambda: len(rec.failures) >= 3, 30)
        await k.stop()
        assert rec.failures[:3] == ["exit 3"] * 3
        assert not k.ready.is_set() and k.state.state == "stopped"

    asyncio.run(run())


def test_a_child_never_ready_is_killed_after_the_start_timeout(tmp_path: Path) -> None:
    async def run() -> None:
        rec = Recorder()
        k = keeper(spec(tmp_path, "import time; time.sleep(60)", start_timeout=1), rec)
        k.start()
        await until(lambda: bool(rec.failures), 20)
        await k.stop()
        assert rec.failures[0] == "not ready 1 s after its start"

    asyncio.run(run())


def test_readiness_by_a_check_for_children_that_do_not_notify(tmp_path: Path) -> None:
    async def run() -> None:
        marker = tmp_path / "up"

        async def check() -> bool:
            return marker.exists()

        s = ChildSpec(
            "server",
            [
                sys.executable,
                "-c",
                f"import pathlib,time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)",
            ],
            tmp_path / "server.log",
            ready_check=check,
        )
        rec = Recorder()
        k = keeper(s, rec)
        k.start()
        await asyncio.wait_for(k.ready.wait(), 20)
        assert k.state.state == "running"
        await k.stop()

    asyncio.run(run())


@pytest.mark.parametrize(
    "usec,pid,expected",
    [("2000000", "", 2.0), ("0", "", None), ("x", "", None), ("2000000", "1", None)],
)
def test_watchdog_period_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str, expected: float | None
) -> None:
    from hotline.kernel.notify import watchdog_seconds

    monkeypatch.setenv("WATCHDOG_USEC", usec)
    monkeypatch.setenv("WATCHDOG_PID", pid)
    assert watchdog_seconds() == expected


def test_notify_without_a_socket_says_nobody_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.kernel.notify import notify

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock")
    assert notify("READY=1") is False


def test_watching_a_child_for_long_leaves_one_exit_waiter(tmp_path: Path) -> None:
    # the soak's supervisor grew 20 MB an hour: a cancelled proc.wait() per poll and child
    # stayed in asyncio's list of the process's exit waiters
    async def run() -> None:
        rec = Recorder()
        k = keeper(spec(tmp_path, SERVICE, watchdog_seconds=30), rec)
        k.start()
        await asyncio.wait_for(k.ready.wait(), 20)
        polls = 12
        await asyncio.sleep(polls * POLL)
        proc = k._proc
        assert proc is not None
        waiters = proc._transport._exit_waiters  # type: ignore[attr-defined]
        assert len(waiters) <= 1, f"{len(waiters)} exit waiters after {polls} polls"
        await k.stop()
        assert rec.failures == []

    asyncio.run(run())
