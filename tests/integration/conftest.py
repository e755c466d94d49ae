"""A real hotline for the integration tests: Asterisk, bridge and API through
`hotline up --detach`, the FastAGI server as its own `hotline serve agi` (so a
test can stop it), and SIPp desk phones for two agents.

The session's hotline has its own configuration, var directory, ports (tests/helpers/
ports.py), Redis, Mosquitto, namespace and Asterisk root (an overlay over the cached one,
tests/helpers/overlay_root.py): it runs beside a hotline started from this checkout.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hotline.asterisk.root import asterisk_cmd, exclusive_use
from hotline.config.settings import DEFAULT_QUEUES
from tests.helpers.overlay_root import overlay_root
from tests.helpers.ports import PORTS as PORTS  # re-exported for the tests
from tests.helpers.sipp import AgentPhone, Caller

REPO = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-m", "hotline"]
# Ports where nothing answers, so that `hotline up` starts its own Redis and Mosquitto
# (HOTLINE_TEST_REDIS_PORT / HOTLINE_TEST_MQTT_PORT move them off a port left busy).
OWN_SERVICE_PORTS = {
    "redis": int(os.environ.get("HOTLINE_TEST_REDIS_PORT", "6391")),
    "mqtt": int(os.environ.get("HOTLINE_TEST_MQTT_PORT", "1891")),
}
# The session hotline's Redis keys (hotline:<ns>:…) and MQTT topics (hotline/<ns>/…)
NAMESPACE = "nanning-it"
# What `hotline up` runs in the tests (the FastAGI server runs apart, so a test can stop it).
SERVICES = "asterisk,acd,bridge,live,api,recordings,callbacks,duty,speech"

AGENTS = [
    {
        "id": "1001",
        "name": "投诉坐席",
        "skills": ["complaint"],
        "contact": "sip:1001@127.0.0.1:5070",
        "port": 5070,
        "media": 17000,
    },
    {
        "id": "1002",
        "name": "综合坐席",
        "skills": [],
        "contact": "sip:1002@127.0.0.1:5072",
        "port": 5072,
        "media": 17100,
    },
]
# Agents of the ACD tests (tests/integration/test_acd_agents.py), configured but not
# logged in by the session: report-queue agents and a supervisor's phone.
ACD_AGENTS = [
    {"id": "1003", "name": "举报坐席甲", "skills": ["report"], "port": 5074, "media": 17300},
    {"id": "1004", "name": "举报坐席乙", "skills": ["report"], "port": 5076, "media": 17400},
    {"id": "1005", "name": "值班班长", "skills": [], "port": 5078, "media": 17500},
]
# Only the report queue has after-call work in the tests; elsewhere none, so that the
# other tests' calls are not held back by wrap-up.
REPORT_WRAPUP_SECONDS = 8
WIDENING = {"secondary_after_seconds": 3, "general_after_seconds": 20}
HELP_WIDENING = {
    "secondary_after_seconds": 2,
    "general_after_seconds": 6,
    "trunk_after_seconds": 16,
}
# The overflow trunk's other centre (only the help queue has a trunk step)
OVERFLOW_CENTRE = 5094


def user_password(name: str) -> str:
    """The test users' passwords (made up here, never a default of the product)."""
    return f"{name}-test-password"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Hotline:
    def __init__(self, var: Path, env: dict[str, str]) -> None:
        self.var = var
        self.env = env
        self.api = f"http://127.0.0.1:{PORTS['api']}"
        self.agi: subprocess.Popen[bytes] | None = None
        self.token = ""  # the session's supervisor, logged in over HTTP (see `user`)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cli(
        self, *args: str, check: bool = True, timeout: float = 240, input: str | None = None
    ) -> str:
        out = subprocess.run(
            [*HOTLINE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
            input=input,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"hotline {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    @property
    def root(self) -> Path:
        return self.var / "asterisk-root"

    def start_agi(self) -> None:
        log = (self.var / "log" / "agi.log").open("ab")
        self.agi = subprocess.Popen(
            [*HOTLINE, "serve", "agi"], env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 30
        while not port_open(PORTS["agi"]):
            if self.agi.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("hotline serve agi did not start; see var/log/agi.log")
            time.sleep(0.1)

    def stop_agi(self) -> None:
        if self.agi is not None and self.agi.poll() is None:
            self.agi.terminate()
            self.agi.wait(15)
        self.agi = None

    def asterisk(self, command: str, *, check: bool = True) -> str:
        """An Asterisk CLI command, run as `hotline asterisk cli` runs it (asterisk -rx in
        the root) without the second or more that starting the Python CLI takes: the leak
        check runs it after every test."""
        out = subprocess.run(
            asterisk_cmd(self.root, "-rx", command),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"asterisk -rx {command!r} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def active_channels(self) -> int:
        out = self.asterisk("core show channels count")
        m = re.search(r"(\d+) active channel", out)
        assert m, out
        return int(m.group(1))

    def get(self, path: str, **params: str) -> Any:
        r = httpx.get(self.api + path, params=params, headers=self.auth, timeout=10)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(self.api + path, json=body or {}, headers=self.auth, timeout=30)

    def user(self, name: str, role: str, agent_id: str = "", unit: str = "") -> str:
        """Add a user (`hotline users add`, password on stdin) and log them in over HTTP;
        their token. A user added before is logged in again."""
        password = user_password(name)
        args = ["users", "add", name, "--role", role, "--password-stdin"]
        args += ["--agent-id", agent_id] if agent_id else []
        args += ["--unit", unit] if unit else []
        out = subprocess.run(
            [*HOTLINE, *args], env=self.env, cwd=REPO, input=password + "\n",
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0 or "exists already" in out.stderr, out.stderr
        return self.login(name, password)

    def login(self, name: str, password: str) -> str:
        r = httpx.post(
            self.api + "/api/login", json={"name": name, "password": password}, timeout=30
        )
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def wait_call(self, caller: str, timeout: float = 30) -> dict[str, Any]:
        """The stored call record of this caller (the bridge writes it at hangup)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.get("/api/calls", caller=caller)
            if calls:
                assert len(calls) == 1, calls
                return dict(calls[0])
            time.sleep(0.3)
        raise AssertionError(f"no call record for {caller} within {timeout:.0f}s")


@pytest.fixture(scope="session")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotline]:
    with exclusive_use("the integration tests"):
        var = tmp_path_factory.mktemp("var")
        with overlay_root(var) as root:
            yield from _hotline(var, root)


def _hotline(var: Path, root: Path) -> Iterator[Hotline]:
    busy = [name for name, port in {**PORTS, **OWN_SERVICE_PORTS}.items() if port_open(port)]
    if busy:
        raise RuntimeError(
            f"ports in use {busy}: the integration tests' own (tests/helpers/ports.py); "
            "another test session runs, or something else took them"
        )
    config = var / "hotline.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "agents": [{k: a[k] for k in ("id", "name", "skills", "contact")} for a in AGENTS]
                + [
                    {k: a[k] for k in ("id", "name", "skills")}
                    | {"contact": f"sip:{a['id']}@127.0.0.1:{a['port']}"}
                    for a in ACD_AGENTS
                ],
                # widening: the skill's other agents after 3 s, everybody after 20 s;
                # the help queue (nobody has the skill) widens sooner, and to the other
                # centre, for its tests
                "acd": {
                    "wrapup_seconds": 0,
                    "widening": WIDENING,
                    "overflow": {"address": f"127.0.0.1:{OVERFLOW_CENTRE}", "ring_seconds": 10},
                },
                "queues": [
                    {"name": q.name, "title": q.title}
                    | ({"wrapup_seconds": REPORT_WRAPUP_SECONDS} if q.name == "report" else {})
                    | ({"widening": HELP_WIDENING} if q.name == "help" else {})
                    for q in DEFAULT_QUEUES
                ],
                # emergency linkage (test_emergency.py): 110 and 119 on the default 5090;
                # 120's destination shows the hotline number, its backup has a prefix
                "emergency": {
                    "lines": {
                        "120": {
                            "destination": {
                                "host": "127.0.0.1",
                                "port": 5096,
                                "caller_id": "hotline",
                            },
                            "backup": {"host": "127.0.0.1", "port": 5098, "prefix": "0771"},
                            "ring_seconds": 10,
                        }
                    }
                },
                # tests read Asterisk's own file after the call; the worker archives a copy
                "recordings": {"keep_spool": True},
                # waiting callers hear where they are every 10 s; a callback rings the
                # citizen's phone on 5092, and is tried twice, 2 s apart
                # no offer on joining unless nobody can answer (estimate unknown), so that
                # the other tests' callers go straight into their queue
                "waiting": {
                    "announce_every_seconds": 10,
                    "offer_over_seconds": 3600,
                    "callback": {
                        "address": "127.0.0.1:5092",
                        "max_attempts": 2,
                        "retry_after_seconds": 2,
                        "ring_seconds": 10,
                    },
                },
                # emergency orders ring the units' phones on 5086 (test_duty_calls.py):
                # 4 s of ringing, twice for the duty phone, then once the liaison, 1 s apart
                "duty_calls": {
                    "address": "127.0.0.1:5086",
                    "ring_seconds": 4,
                    "duty_attempts": 2,
                    "liaison_attempts": 1,
                    "retry_after_seconds": 1,
                    "key_rounds": 2,
                    "key_wait_seconds": 2,
                    "poll_seconds": 0.5,
                },
            },
            allow_unicode=True,
        )
    )
    env = {
        **os.environ,
        "HOTLINE_CONFIG_FILE": str(config),
        "HOTLINE_VAR_DIR": str(var),
        "HOTLINE_ASTERISK_ROOT": str(root),
        "HOTLINE_SIP__PORT": str(PORTS["sip"]),
        "HOTLINE_AMI__PORT": str(PORTS["ami"]),
        "HOTLINE_AGI__PORT": str(PORTS["agi"]),
        "HOTLINE_API__PORT": str(PORTS["api"]),
        "HOTLINE_SPEECH__PORT": str(PORTS["speech"]),
        "HOTLINE_NAMESPACE": NAMESPACE,
        "HOTLINE_REDIS__PORT": str(OWN_SERVICE_PORTS["redis"]),
        "HOTLINE_MQTT__PORT": str(OWN_SERVICE_PORTS["mqtt"]),
    }
    env.pop("HOTLINE_AMI__SECRET", None)
    h = Hotline(var, env)
    h.cli("asterisk", "install", timeout=900)
    h.cli("up", "--detach", "--services", SERVICES)
    phones = [AgentPhone(var, a["port"], a["media"]) for a in AGENTS]  # type: ignore[arg-type]
    try:
        for phone in phones:
            phone.start()
        h.start_agi()
        h.token = h.user("it-supervisor", "supervisor")
        for a in AGENTS:
            h.cli("agent", "login", str(a["id"]))
        yield h
    finally:
        h.stop_agi()
        for phone in phones:
            phone.stop()
        h.cli("down", check=False)


@pytest.fixture
def caller(hotline: Hotline, tmp_path: Path) -> Caller:
    return Caller(tmp_path)


@pytest.fixture(autouse=True)
def no_leftover_channels(hotline: Hotline) -> Iterator[None]:
    """After every call test Asterisk must hold no channel (asterisk/testsuite's leak check)."""
    yield
    deadline = time.monotonic() + 15
    while (n := hotline.active_channels()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert n == 0, hotline.asterisk("core show channels")


TEST_PROMPTS = "hotline-test"
LONGER = {"blocked": 3.0}  # long enough to press * during it
# What tone_ivr changes in the shipped config/ivr.yaml: the prompts, and the survey's wait
# for a key after each attempt (a test that answers it keys within 2 s of the question)
TONE_IVR_CHANGES = {
    "prompt_dir: hotline\n": f"prompt_dir: {TEST_PROMPTS}\n",
    "survey_timeout_seconds: 6 ": "survey_timeout_seconds: 2 ",
}


@pytest.fixture(scope="module")
def tone_ivr(hotline: Hotline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped tree with 0.3 s tone prompts (sounds/hotline-test) and a 2 s wait for the
    survey's key (TONE_IVR_CHANGES), so that a walk through the menu takes seconds; the
    FastAGI server restarts on it."""
    from hotline.agi.menu import DEFAULT_MENU_FILE
    from hotline.asterisk.prompts import PROMPTS_FILE, tone

    sounds = hotline.root / "usr/share/asterisk/sounds" / TEST_PROMPTS
    sounds.mkdir(parents=True, exist_ok=True)
    for name in yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8")):
        wav = sounds / f"{name}.wav"
        if not wav.exists() or name in LONGER:
            tone(wav, LONGER.get(name, 0.3))
    work = tmp_path_factory.mktemp("ivr")
    path = work / "ivr.yaml"
    text = DEFAULT_MENU_FILE.read_text(encoding="utf-8")
    for shipped, test in TONE_IVR_CHANGES.items():
        assert shipped in text, f"{DEFAULT_MENU_FILE} no longer has {shipped!r}"
        text = text.replace(shipped, test)
    path.write_text(text)
    hotline.stop_agi()
    hotline.env["HOTLINE_IVR_FILE"] = str(path)
    hotline.start_agi()
    try:
        yield path
    finally:
        hotline.stop_agi()
        hotline.env.pop("HOTLINE_IVR_FILE", None)
        hotline.start_agi()


@pytest.fixture(scope="module")
def verbose_log(hotline: Hotline, request: pytest.FixtureRequest) -> Iterator[Path]:
    """What Asterisk played to whom ("Playing 'x' (language 'zh')"), for this module only."""
    name = f"verbose-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    log = hotline.root / "var/log/asterisk" / name
    log.unlink(missing_ok=True)  # the root's log directory outlives test runs
    out = hotline.cli("asterisk", "cli", f"logger add channel {name} verbose(3)")
    assert "Failed" not in out, out
    try:
        yield log
    finally:
        hotline.cli("asterisk", "cli", f"logger remove channel {name}", check=False)


def heard_by(log: Path, first: str) -> list[str]:
    """The sounds played in Mandarin to the citizen's channel that heard `first` first
    (played by the dialplan, app_queue or an AGI STREAM FILE)."""
    plays = re.findall(
        r"<(PJSIP/carrier-\w+)> ?Playing '([^.']+)\.\w+' [^\n]*\(language 'zh'\)",
        log.read_text(errors="replace"),
    )
    channel = next(c for c, sound in plays if sound == first)
    sounds = [sound for c, sound in plays if c == channel]
    return sounds[sounds.index(first) :]


@pytest.fixture
def no_agents(hotline: Hotline) -> Iterator[None]:
    """Every session agent logged out: a caller waits (joinempty) until they hang up;
    logged in again after the test."""
    for a in AGENTS:
        hotline.cli("agent", "logout", str(a["id"]))
    try:
        yield
    finally:
        for a in AGENTS:
            hotline.cli("agent", "login", str(a["id"]))
