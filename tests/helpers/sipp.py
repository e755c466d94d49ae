"""SIPp as the citizen (UAC) and as the agents' desk phones (UAS).

The citizen is the product's (hotline/call.py, the core of `hotline call`), pressing one
key from Debian's per-key pcaps; the desk phones and the other scenarios are the tests'.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from hotline.app import call as product
from hotline.app.call import AUDIO, PCAPS, CallResult, sipp
from tests.helpers.ports import SIP_TARGET

# the tests' own scenarios (the citizen's is the product's: product.CALLER_SCENARIO)
HERE = Path(__file__).resolve().parent.parent / "sipp"
__all__ = ["AUDIO", "HERE", "AgentPhone", "CallInProgress", "CallResult", "Caller", "sipp"]


def key_pcap(key: str) -> Path:
    name = {"*": "star", "#": "pound"}.get(key, key)
    return PCAPS / f"dtmf_2833_{name}.pcap"


class Caller:
    """Place one call to 12345 and wait until SIPp has hung up."""

    def __init__(
        self,
        workdir: Path,
        port: int = 5061,
        media_port: int = 16000,
        target: str = SIP_TARGET,
        service: str = "12345",
        scenario: Path = product.CALLER_SCENARIO,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.citizen = product.Caller(workdir, port, media_port, target, service, scenario)

    def call(
        self,
        caller: str,
        key: str | None,
        *,
        before_key_ms: int = 1500,
        talk_ms: int = 3000,
        timeout_s: int = 180,
    ) -> CallResult:
        return self.citizen.call(
            caller,
            key_pcap(key) if key else AUDIO,
            before_key_ms=before_key_ms,
            talk_ms=talk_ms,
            timeout_s=timeout_s,
        )

    def start(self, caller: str, key: str | None, **kw: int) -> CallInProgress:
        """Like call(), in the background (the test does something while it runs)."""
        return CallInProgress(lambda: self.call(caller, key, **kw))


class CallInProgress:
    def __init__(self, run: Callable[[], CallResult]) -> None:
        self._result: list[CallResult] = []
        self._thread = threading.Thread(target=lambda: self._result.append(run()), daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> CallResult:
        self._thread.join(timeout)
        if not self._result:
            raise TimeoutError("the SIPp call did not finish")
        return self._result[0]


class AgentPhone:
    """A desk phone that answers every call (sipp -sn uas) on a fixed port."""

    def __init__(
        self, workdir: Path, port: int, media_port: int, *, answers_options: bool = False
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.media_port = media_port
        # -aa also answers a mid-call UPDATE or INFO, which the session's phones have always
        # treated as unexpected: only a phone that must answer a qualify gets it
        self.aa = ["-aa"] if answers_options else []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / f"agent-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sipp(),
                "-sn",
                "uas",
                *self.aa,
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-mp",
                str(self.media_port),
                "-nostdin",
                "-trace_err",
                "-error_file",
                str(self.workdir / f"agent-{self.port}.err"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
