"""A citizen's call to the hotline placed with SIPp (Debian's sip-tester): the keys to
press, the scenario (hotline/sipp/caller.xml), the SIPp command line, and what SIPp
reported. `hotline call` places one; the integration tests' Caller is built on it.

Nothing here reads the database: hotline/cli_call.py reads what the hotline stored.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from hotline.app.dtmf_pcap import EVENTS, write_walk

SCENARIOS = Path(__file__).resolve().parent / "sipp"
CALLER_SCENARIO = SCENARIOS / "caller.xml"
PCAPS = Path("/usr/share/sip-tester")  # Debian's sip-tester: RTP captures SIPp can play
AUDIO = PCAPS / "g711a.pcap"  # a few seconds of speech, A-law

KEY_MS = 350  # keys typed together (an order number) go this far apart
AFTER_KEYS_MS = 200  # after the last key's packets, before the citizen talks


def sipp() -> str:
    exe = shutil.which("sipp")
    if exe is None:
        raise RuntimeError("SIPp is missing: apt-get install -y sip-tester (scripts/setup does)")
    return exe


def parse_keys(text: str, *, first_ms: int, gap_ms: int) -> list[tuple[int, str]]:
    """The keys of `hotline call` as (pause before it in ms, key) for dtmf_pcap.write_walk.

    Keys typed together are pressed KEY_MS apart; a space waits gap_ms (the next prompt),
    and so does the key after `*`, which opens the emergency menu (`*2` is `* 2`).
    The first key comes first_ms after the hotline answers.
    """
    steps: list[tuple[int, str]] = []
    pause = first_ms
    for ch in text:
        if ch.isspace():
            if steps:
                pause = gap_ms
            continue
        key = ch.upper()
        if key not in EVENTS:
            raise ValueError(f"{ch!r} is no phone key (0-9 * # A-D; a space waits)")
        steps.append((pause, key))
        pause = gap_ms if key == "*" else KEY_MS
    return steps


@dataclass
class CallResult:
    returncode: int
    stdout: str
    stderr: str
    errors: str = ""  # SIPp's error file (-trace_err): the messages it did not expect

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def sipp_command(
    scenario: Path,
    *,
    target: str,
    service: str,
    port: int,
    media_port: int,
    timeout_s: int,
    error_file: Path,
    local_ip: str = "127.0.0.1",
) -> list[str]:
    """One call of a UAC scenario, then SIPp exits (0 when the call went as scripted)."""
    return [
        sipp(), target, "-sf", str(scenario), "-s", service, "-m", "1",
        "-i", local_ip, "-p", str(port), "-mp", str(media_port),
        "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin",
        "-trace_err", "-error_file", str(error_file),
    ]  # fmt: skip


@dataclass
class Caller:
    """The citizen: one call at a time from `port` (SIP) and `media_port` (RTP)."""

    workdir: Path
    port: int = 5061
    media_port: int = 16000
    target: str = "127.0.0.1:5060"
    service: str = "12345"
    scenario: Path = CALLER_SCENARIO
    local_ip: str = "127.0.0.1"

    def call(
        self,
        caller: str,
        keys_pcap: Path,
        *,
        before_key_ms: int,
        after_keys_ms: int = AFTER_KEYS_MS,
        talk_ms: int,
        timeout_s: int,
    ) -> CallResult:
        """Call, play keys_pcap before_key_ms after the answer, talk, hang up; wait for SIPp."""
        text = Template(self.scenario.read_text()).substitute(
            caller=caller,
            key_pcap=str(keys_pcap),
            before_key_ms=before_key_ms,
            after_keys_ms=after_keys_ms,
            talk_ms=talk_ms,
        )
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir=self.workdir, delete=False) as fh:
            fh.write(text)
        error_file = self.workdir / f"caller-{caller}.err"
        cmd = sipp_command(
            Path(fh.name),
            target=self.target,
            service=self.service,
            port=self.port,
            media_port=self.media_port,
            timeout_s=timeout_s,
            error_file=error_file,
            local_ip=self.local_ip,
        )
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            timeout=timeout_s + 30,
            check=False,
        )
        errors = error_file.read_text(errors="replace") if error_file.exists() else ""
        return CallResult(out.returncode, out.stdout, out.stderr, errors)

    def call_keys(
        self, caller: str, steps: Sequence[tuple[int, str]], *, talk_ms: int, timeout_s: int
    ) -> CallResult:
        """Call and press the keys of parse_keys() (none: just talk)."""
        if not steps:
            return self.call(
                caller, AUDIO, before_key_ms=1000, talk_ms=talk_ms, timeout_s=timeout_s
            )
        pcap = self.workdir / f"keys-{caller}.pcap"
        # SIPp starts a pcap at its first packet: the first pause is the scenario's
        length_ms = write_walk(pcap, [(0, steps[0][1]), *steps[1:]])
        return self.call(
            caller,
            pcap,
            before_key_ms=steps[0][0],
            after_keys_ms=length_ms + AFTER_KEYS_MS,
            talk_ms=talk_ms,
            timeout_s=timeout_s,
        )


def free_udp_port(host: str, start: int, count: int = 1, tries: int = 200) -> int:
    """The first port from `start` (even, in steps of 4) where `count` UDP ports in a row
    are free on `host`."""
    for base in range(start, start + 4 * tries, 4):
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((host, p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free UDP port on {host} from {start}")


def sip_answers(host: str, port: int, local_ip: str, timeout_s: float = 3.0) -> bool:
    """Does anything answer a SIP OPTIONS at host:port (any response will do)?"""
    call_id = uuid.uuid4().hex
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local_ip, 0))
        s.settimeout(timeout_s)
        here = f"{local_ip}:{s.getsockname()[1]}"
        request = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {here};branch=z9hG4bK{call_id[:16]};rport\r\n"
            f"From: <sip:hotline-call@{here}>;tag={call_id[16:24]}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        try:
            s.connect((host, port))
            s.send(request.encode())
            return s.recv(4096).startswith(b"SIP/2.0")
        except OSError:  # refused (nothing listens) or timed out
            return False


def failure(result: CallResult) -> str:
    """Why SIPp reports the call as failed, in a line: a SIP error, a hang-up by the
    hotline, a time-out; "" when it did not."""
    if result.ok:
        return ""
    text = result.errors + "\n" + result.stderr
    status = re.search(r"^\s*SIP/2\.0 ([3-6]\d\d) ?([^\r\n]*)", result.errors, re.M)
    if status:
        return f"SIP error {status.group(1)} {status.group(2)}".rstrip()
    if re.search(r"received '\s*BYE", text):
        return "the hotline hung up first"
    if "timed out" in text or "retransmission" in text.lower():
        return "no answer from the hotline in time (SIPp timed out)"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f"SIPp failed (exit {result.returncode}): {lines[-1] if lines else 'no message'}"
