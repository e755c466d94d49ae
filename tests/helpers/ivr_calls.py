"""Walking the voice menu with SIPp: several keys at set times, and phones that
answer as the emergency line or as an agent who hangs up first."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from string import Template

from hotline.app.call import sipp_command
from hotline.app.dtmf_pcap import write_walk
from tests.helpers.ports import SIP_TARGET
from tests.helpers.sipp import AUDIO, HERE, CallResult, sipp

BYE_BY_CITIZEN = """\
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Citizen" <sip:${caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:${caller}@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>"""

BYE_BY_HOTLINE = """\
  <recv request="BYE" timeout="${wait_ms}"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>"""


def walk(
    workdir: Path,
    caller: str,
    steps: Sequence[tuple[int, str | bytes]],
    *,
    talk_ms: int = 3000,
    hotline_hangs_up: bool = False,
    wait_ms: int = 60_000,
    port: int = 5061,
    media_port: int = 16000,
    service: str = "12345",
    timeout_s: int = 120,
    say: tuple[int, Path, int] | None = None,
) -> CallResult:
    """Call, then for each (pause_ms, key) wait and press the key (or speak: A-law bytes,
    hotline/dtmf_pcap.py); then talk and hang up, or (hotline_hangs_up) wait up to
    wait_ms for the hotline's BYE.
    say: (pause_ms, an 8 kHz A-law WAV, hold_ms) spoken before the keys (speech navigation),
    then hold_ms of listening before the next step."""
    body = []
    if say is not None:
        pause_ms, wav, hold_ms = say
        body.append(f'  <pause milliseconds="{pause_ms}"/>')
        body.append(f'  <nop><action><exec rtp_stream="{wav},1,8"/></action></nop>')
        body.append(f'  <pause milliseconds="{hold_ms}"/>')
    if steps:
        pcap = workdir / f"keys-{caller}.pcap"
        # SIPp starts a pcap at its first packet: the first pause is the scenario's
        length_ms = write_walk(pcap, [(0, steps[0][1]), *steps[1:]])
        body.append(f'  <pause milliseconds="{steps[0][0]}"/>')
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
        if not hotline_hangs_up:  # else the keys play on while SIPp waits for the BYE
            body.append(f'  <pause milliseconds="{length_ms + 300}"/>')
    if not hotline_hangs_up:
        body.append('  <pause milliseconds="200"/>')
        body.append(f'  <nop><action><exec play_pcap_audio="{AUDIO}"/></action></nop>')
        body.append(f'  <pause milliseconds="{talk_ms}"/>')
    ending = BYE_BY_HOTLINE if hotline_hangs_up else BYE_BY_CITIZEN
    scenario = Template((HERE / "walk.xml").read_text()).safe_substitute(
        steps="\n".join(body), ending=Template(ending).substitute(caller=caller, wait_ms=wait_ms)
    )
    scenario = Template(scenario).substitute(caller=caller)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", dir=workdir, delete=False) as fh:
        fh.write(scenario)
    cmd = sipp_command(
        Path(fh.name),
        target=SIP_TARGET,
        service=service,
        port=port,
        media_port=media_port,
        timeout_s=timeout_s,
        error_file=workdir / f"walk-{caller}.err",
    )
    out = subprocess.run(
        cmd, capture_output=True, text=True, cwd=workdir, timeout=timeout_s + 30, check=False
    )
    return CallResult(out.returncode, out.stdout, out.stderr)


class Phone:
    """A SIPp UAS on a port: the built-in answering phone, or one of tests/sipp/."""

    def __init__(
        self, workdir: Path, port: int, media_port: int, scenario: str | None = None, **values: str
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.media_port = media_port
        self.scenario = scenario
        self.values = values
        self.messages = workdir / f"phone-{port}-messages.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Phone:
        if self.scenario is None:
            how = ["-sn", "uas"]
        else:
            text = Template((HERE / self.scenario).read_text()).safe_substitute(self.values)
            path = self.workdir / f"phone-{self.port}.xml"
            path.write_text(text)
            how = ["-sf", str(path)]
        log = (self.workdir / f"phone-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sipp(),
                *how,
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-mp",
                str(self.media_port),
                "-nostdin",
                "-trace_msg",
                "-message_file",
                str(self.messages),
                "-trace_err",
                "-error_file",
                str(self.workdir / f"phone-{self.port}.err"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        log.close()
        return self

    def received(self) -> str:
        return self.messages.read_text(errors="replace") if self.messages.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
