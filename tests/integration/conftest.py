"""A real hotline for the integration tests: Asterisk, bridge and API through
`hotline up --detach`, the FastAGI server as its own `hotline serve agi` (so a
test can stop it), and SIPp desk phones for two agents.

The session's hotline has its own configuration, var directory, ports (tests/helpers/
ports.py), Redis, Mosquitto, namespace and Asterisk root (an overlay over the cached one,
tests/helpers/overlay_root.py): it runs beside a hotline started from this checkout. Its
agents and settings, and the `Hotline` the tests drive it with: tests/helpers/session_hotline.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hotline.acd.settings import DEFAULT_QUEUES
from hotline.asterisk.root import exclusive_use
from tests.helpers.overlay_root import overlay_root
from tests.helpers.ports import PORTS
from tests.helpers.session_hotline import (
    ACD_AGENTS,
    AGENTS,
    DEAD_PHONE_AGENTS,
    HELP_WIDENING,
    NAMESPACE,
    OVERFLOW_CENTRE,
    OWN_SERVICE_PORTS,
    REPORT_WRAPUP_SECONDS,
    SERVICES,
    TEST_PROMPTS,
    WIDENING,
    Hotline,
    port_open,
)
from tests.helpers.sipp import AgentPhone, Caller


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
                ]
                + [
                    {k: v for k, v in a.items() if k in ("id", "name", "skills", "qualify_seconds")}
                    | {"contact": f"sip:{a['id']}@127.0.0.1:{a['port']}"}
                    for a in DEAD_PHONE_AGENTS
                ],
                # widening: the skill's other agents after 3 s, everybody after 20 s;
                # the help queue (nobody has the skill) widens sooner, and to the other
                # centre, for its tests
                # the desk phones (SIPp) send no audio, and callers none once their recording
                # has played: the tests' longest calls (test_faults.py, ~100 s) must not end
                # for lack of RTP; test_rtp_timeout.py sets its own
                # no qualify (OPTIONS) of the desk phones, which start and stop with their
                # tests: one not yet started would be unreachable until the next qualify;
                # test_dead_phones.py's agent 1023 has its own
                "sip": {
                    "carrier_rtp_timeout": {"seconds": 300},
                    "agent_rtp_timeout": {"seconds": 300},
                    "agent_qualify_seconds": 0,
                },
                # a queue call rings an agent 5 s (the least allowed): test_dead_phones.py's
                # unanswered phone is given up on before a caller's widening steps
                "acd": {
                    "ring_seconds": 5,
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
        h.cli("down", "--now", check=False)


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
