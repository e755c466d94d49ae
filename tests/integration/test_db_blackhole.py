"""A database that drops packets while citizens call (issue 19): no silence from it.

The test's own FastAGI server (`hotline serve agi`, as test_speech_ivr.py runs one) uses a
private PostgreSQL cluster (tests/helpers/private_pg.py) through a proxy the test cuts
silently (tests/helpers/tcp_proxy.py: connections stay open, nothing is answered, new ones
are accepted and left silent), as a firewall or a dead network path does. Before the cut
a blocked number is refused (so the server does ask this database); after it, callers
still hear the welcome and reach the complaint desk, each question getting its fallback
within agi.lookup_timeout_seconds, and with two lookup threads the second caller's
questions are not even asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from hotline.agi import blocks
from hotline.agi.models import BlockAudit
from hotline.kernel.db import make_engine, upgrade
from tests.helpers.ivr_calls import walk
from tests.helpers.private_pg import PrivatePostgres
from tests.helpers.session_hotline import TEST_PROMPTS, Hotline
from tests.helpers.tcp_proxy import SilentCutProxy

BLOCKED = "13900002301"
AFTER_CUT = ["13900002302", "13900002303"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres().init()
    try:
        pg.start()
        upgrade(pg.url)
        engine = make_engine(pg.url)
        with Session(engine) as s:
            blocks.add_block(s, BLOCKED, reason="骚扰", actor="supervisor1")
            s.commit()
        engine.dispose()
        yield pg
    finally:
        pg.remove()


@pytest.fixture(scope="module")
def proxy(hotline: Hotline, tone_ivr: Path, postgres: PrivatePostgres) -> Iterator[SilentCutProxy]:
    """The FastAGI server on the private cluster through the proxy; the session's one back
    afterwards."""
    link = SilentCutProxy(postgres.port).start()
    env = {
        **hotline.env,
        "HOTLINE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{link.port}/postgres",
        "HOTLINE_AGI__LOOKUP_THREADS": "2",
    }
    try:
        with hotline.agi_with_env(env):
            yield link
    finally:
        link.close()


def agi_log(hotline: Hotline) -> str:
    return (hotline.var / "log" / "agi.log").read_text(errors="replace")


def sounds_by_call(log: Path) -> list[list[str]]:
    """What Asterisk played to each citizen's channel, calls in order of their first sound."""
    calls: dict[str, list[str]] = {}
    for channel, sound in re.findall(
        r"<(PJSIP/carrier-\w+)> ?Playing '([^.']+)\.\w+' [^\n]*\(language 'zh'\)",
        log.read_text(errors="replace"),
    ):
        calls.setdefault(channel, []).append(sound)
    return list(calls.values())


def test_a_silent_database_leaves_no_caller_in_silence(
    hotline: Hotline,
    postgres: PrivatePostgres,
    proxy: SilentCutProxy,
    verbose_log: Path,
    tmp_path: Path,
) -> None:
    # the link works: the blocked number is refused, and its refusal audited
    result = walk(
        tmp_path, BLOCKED, [], hotline_hangs_up=True, wait_ms=20_000, port=5141, media_port=18600
    )
    assert result.ok, result.stdout[-2000:]
    assert hotline.wait_call(BLOCKED)["ivr_result"] == "blocked"
    assert proxy.accepted >= 1

    proxy.cut()
    log_before = len(agi_log(hotline))
    for i, number in enumerate(AFTER_CUT):
        result = walk(tmp_path, number, [(1500, "3")], port=5142 + i, media_port=18620 + 20 * i)
        assert result.ok, result.stdout[-2000:]
        call = hotline.wait_call(number)
        # the key at 1.5 s reached the menu: the welcome did not wait on the database
        assert call["ivr_choice"] == "3" and call["ivr_result"] == "chosen", call
        assert call["queue"] == "complaint" and call["agent"] == "1001", call

    sounds = sounds_by_call(verbose_log)
    for heard in sounds[-2:]:  # the welcome first, then the menu (no returning-caller count)
        assert heard[0] == f"{TEST_PROMPTS}/welcome" and f"{TEST_PROMPTS}/menu" in heard, heard
        assert f"{TEST_PROMPTS}/returning-before" not in heard, heard
    after = agi_log(hotline)[log_before:]
    # the first caller's questions were asked and not answered in time ...
    assert "block list of 139******02: no answer within 0.8 s" in after, after[-3000:]
    # ... and took both lookup threads: the second caller's were not asked at all
    assert "not asked: all 2 lookup threads wait on the database" in after, after[-3000:]

    engine = make_engine(postgres.url)  # straight, not through the proxy
    try:
        with Session(engine) as s:
            audit = s.exec(select(BlockAudit).where(BlockAudit.number == BLOCKED)).all()
    finally:
        engine.dispose()
    assert [a.action for a in audit] == ["added", "refused-call"]
