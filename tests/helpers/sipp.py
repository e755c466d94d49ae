"""SIPp as the citizen (UAC) and as the agents' desk phones (UAS)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent.parent / "sipp"
PCAPS = Path("/usr/share/sip-tester")
AUDIO = PCAPS / "g711a.pcap"


def sipp() -> str:
    exe = shutil.which("sipp")
    if exe is None:
        raise RuntimeError("SIPp is missing: apt-get install -y sip-tester (scripts/setup does)")
    return exe


def key_pcap(key: str) -> Path:
    name = {"*": "star", "#": "pound"}.get(key, key)
    return PCAPS / f"dtmf_2833_{name}.pcap"


@dataclass
class CallResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Caller:
    """Place one call to 12345 and wait until SIPp has hung up."""

    def __init__(
        self,
        workdir: Path,
        port: int = 5061,
        media_port: int = 16000,
        target: str = "127.0.0.1:5060",
        service: str = "12345",
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.media_port = media_port
        self.target = target
        self.service = service

    def call(
        self,
        caller: str,
        key: str | None,
        *,
        before_key_ms: int = 1500,
        talk_ms: int = 3000,
        timeout_s: int = 180,
    ) -> CallResult:
        scenario = Template((HERE / "caller.xml").read_text()).substitute(
            caller=caller,
            key_pcap=str(key_pcap(key) if key else AUDIO),
            before_key_ms=before_key_ms,
            talk_ms=talk_ms,
        )
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir=self.workdir, delete=False) as fh:
            fh.write(scenario)
        cmd = [
            sipp(),
            self.target,
            "-sf",
            fh.name,
            "-s",
            self.service,
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mp",
            str(self.media_port),
            "-timeout",
            f"{timeout_s}s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(self.workdir / f"caller-{caller}.err"),
        ]
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            timeout=timeout_s + 30,
            check=False,
        )
        return CallResult(out.returncode, out.stdout, out.stderr)

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

    def __init__(self, workdir: Path, port: int, media_port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.media_port = media_port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / f"agent-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sipp(),
                "-sn",
                "uas",
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
