"""The voice menu walked through the real Asterisk by SIPp pressing keys (RFC 2833).

Prompts here are short tones under sounds/hotline-test/ (the same tree as
config/ivr.yaml, only prompt_dir differs), so that a walk takes seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from hotline.kernel.db import make_engine
from tests.helpers.ivr_calls import Phone, walk
from tests.helpers.session_hotline import ACD_AGENTS, Hotline, heard_by


@pytest.fixture(scope="module")
def ivr(tone_ivr: Path) -> Iterator[Path]:
    """The shipped tree with tone prompts; the emergency line answers on 5090."""
    emergency = Phone(tone_ivr.parent, 5090, 17300).start()
    try:
        yield tone_ivr
    finally:
        emergency.stop()


@pytest.fixture(scope="module")
def db(hotline: Hotline) -> Engine:
    return make_engine(f"sqlite:///{hotline.var / 'hotline.db'}")


def phone_on(work: Path, port: int) -> str:
    return (work / f"phone-{port}-messages.log").read_text(errors="replace")


def rows(db: Engine, model: Any, **where: str) -> list[Any]:
    with Session(db) as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(s.exec(q))


def test_key_3_with_barge_in_reaches_the_complaint_desk(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    result = walk(tmp_path, "13900000101", [(1500, "3")])
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000101")
    assert call["ivr_choice"] == "3" and call["ivr_result"] == "chosen"
    assert call["queue"] == "complaint" and call["agent"] == "1001"


def test_no_key_three_times_still_reaches_an_agent(
    hotline: Hotline, ivr: Path, verbose_log: Path, tmp_path: Path
) -> None:
    # the shipped menu (three attempts, then the general queue) with 1 s instead of 5 s
    # to press a key, so that the caller does not sit out three long timeouts
    old = ivr.read_text(encoding="utf-8")
    shipped = "        timeout_seconds: 5\n        max_attempts: 3\n"
    assert old.count(shipped) == 1, "config/ivr.yaml's main menu changed: update this test"
    ivr.write_text(old.replace(shipped, shipped.replace(": 5", ": 1")), encoding="utf-8")
    try:
        assert "IVR reloaded" in hotline.cli("reload")
        result = walk(tmp_path, "13900000002", [], talk_ms=12_000)
    finally:
        ivr.write_text(old, encoding="utf-8")
        hotline.cli("reload")
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000002")
    assert call["disposition"] == "answered"
    assert call["ivr_result"] == "failed" and call["ivr_choice"] == "none"
    assert call["queue"] == "general" and call["agent"] in ("1001", "1002")
    assert hotline.get("/api/workorders", caller="13900000002") == []
    # the menu three times, "please choose again" between them, then the transfer
    heard = last_heard(verbose_log, "hotline-test/welcome")
    menu = [s.removeprefix("hotline-test/") for s in heard if s.startswith("hotline-test/")]
    assert menu == ["welcome", "menu", "invalid", "menu", "invalid", "menu", "transfer"], heard


def last_heard(log: Path, first: str) -> list[str]:
    """Like conftest.heard_by, for the channel that heard `first` last (the newest call)."""
    plays = re.findall(
        r"<(PJSIP/carrier-\w+)> ?Playing '([^.']+)\.\w+' [^\n]*\(language 'zh'\)",
        log.read_text(errors="replace"),
    )
    channel = [c for c, sound in plays if sound == first][-1]
    sounds = [sound for c, sound in plays if c == channel]
    return sounds[sounds.index(first) :]


def test_sub_centre_number_has_its_own_tree(hotline: Hotline, ivr: Path, tmp_path: Path) -> None:
    # 12366 (tax sub-centre): key 2 is the complaint desk there, help in the main tree
    result = walk(tmp_path, "13900000114", [(1500, "2")], service="12366")
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000114")
    assert call["queue"] == "complaint" and call["request_type"] == "complaint"


def test_emergency_menu_star_1_transfers_to_110_with_the_caller_number(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    result = walk(tmp_path, "13900000102", [(1500, "*"), (1500, "1")], talk_ms=3000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000102")
    assert call["emergency"] and call["emergency_line"] == "110"
    assert call["ivr_choice"] == "*1" and call["ivr_result"] == "emergency-110"
    invite = phone_on(ivr.parent, 5090)
    assert "INVITE sip:110@127.0.0.1:5090" in invite
    assert "13900000102" in invite  # the caller's number is kept (From)


def test_a_wrong_key_in_the_emergency_menu_asks_again(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    # 7 is no key of the emergency menu: it is asked again, then 1 reaches 110
    result = walk(tmp_path, "13900000115", [(1500, "*"), (1500, "7"), (2500, "1")])
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000115")
    assert call["emergency_line"] == "110" and call["ivr_result"] == "emergency-110"


def test_a_returning_caller_hears_how_many_orders_are_open(
    hotline: Hotline, ivr: Path, db: Engine, verbose_log: Path, tmp_path: Path
) -> None:
    from hotline.workorders.models import WorkOrder

    number = "13900000116"
    with Session(db) as s:
        for i in (1, 2):
            s.add(
                WorkOrder(
                    number=f"20261124-00088{i}",
                    status="dispatched",
                    request_type="help",
                    caller_number=number,
                    linkedid=f"test-returning-{i}",
                    accepted_at=datetime.now(UTC),
                )
            )
        s.commit()
    result = walk(tmp_path, number, [(3000, "0")])
    assert result.ok, result.stdout[-2000:]
    assert hotline.wait_call(number)["queue"] == "general"
    heard = heard_by(verbose_log, "hotline-test/returning-before")
    assert heard[:3] == [
        "hotline-test/returning-before",
        "hotline-test/digit-2",
        "hotline-test/returning-after",
    ], heard


def test_zhuang_without_a_zhuang_agent_goes_to_the_general_queue(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    result = walk(tmp_path, "13900000103", [(1500, "9")])
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000103")
    assert call["ivr_choice"] == "9" and call["ivr_result"] == "no-skilled-agent"
    assert call["queue"] == "general" and call["disposition"] == "answered"


def test_enterprise_without_an_enterprise_agent_goes_to_the_general_queue(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    # the citizen stays on past the "no enterprise agent" notice (under load, 3 s of talk
    # could end the call before the IVR had left, and with it the record's IVR result)
    result = walk(tmp_path, "13900000104", [(1500, "6")], talk_ms=8000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000104")
    assert call["ivr_result"] == "no-skilled-agent" and call["queue"] == "general"


def test_blocked_number_hears_the_notice_and_is_logged(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    hotline.cli("block", "add", "13900000105", "--reason", "辱骂话务员", "--by", "supervisor1")
    try:
        result = walk(tmp_path, "13900000105", [], hotline_hangs_up=True, wait_ms=20_000)
    finally:
        hotline.cli("block", "remove", "13900000105", "--by", "supervisor1")
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000105")
    assert call["ivr_result"] == "blocked" and call["queue"] == "general"
    assert call["agent"] == "" and call["disposition"] == "abandoned_in_ivr"
    audit = hotline.cli("block", "list", "--audit")
    lines = [line for line in audit.splitlines() if "13900000105" in line]
    assert [line.split()[2] for line in lines] == ["added", "refused-call", "removed"]
    assert call["linkedid"] in lines[1] and "supervisor1" in lines[0]


def test_blocked_number_still_reaches_the_emergency_line(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    hotline.cli("block", "add", "13900000106", "--reason", "骚扰", "--by", "supervisor1")
    try:
        result = walk(tmp_path, "13900000106", [(1000, "*"), (1500, "2")], talk_ms=2000)
    finally:
        hotline.cli("block", "remove", "13900000106", "--by", "supervisor1")
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000106")
    assert call["emergency_line"] == "119" and call["ivr_result"] == "emergency-119"
    assert "INVITE sip:119@" in phone_on(ivr.parent, 5090)


def test_reload_while_a_call_is_in_the_old_menu(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    from tests.helpers.sipp import CallInProgress

    old = ivr.read_text(encoding="utf-8")
    first = CallInProgress(lambda: walk(tmp_path, "13900000107", [(4000, "3")]))
    try:
        time.sleep(1.5)  # the first call is in the menu
        ivr.write_text(old.replace('"3": complaint', '"3": consultation'), encoding="utf-8")
        out = hotline.cli("reload")
        assert "IVR reloaded" in out
        second = walk(tmp_path, "13900000108", [(1500, "3")], port=5063, media_port=16200)
        assert second.ok, second.stdout[-2000:]
    finally:
        ivr.write_text(old, encoding="utf-8")
        hotline.cli("reload")
    assert first.wait(120).ok
    assert hotline.wait_call("13900000107")["queue"] == "complaint"  # the old tree
    assert hotline.wait_call("13900000108")["queue"] == "consultation"  # the new one


def test_reload_refuses_a_broken_menu_and_keeps_the_running_one(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    import subprocess

    from tests.helpers.session_hotline import HOTLINE, REPO

    old = ivr.read_text(encoding="utf-8")
    try:
        ivr.write_text(old.replace('"3": complaint', '"3": complant'), encoding="utf-8")
        out = subprocess.run(
            [*HOTLINE, "reload"], env=hotline.env, cwd=REPO, capture_output=True, text=True
        )
    finally:
        ivr.write_text(old, encoding="utf-8")
    assert out.returncode == 2
    assert "trees.main.nodes.main_menu.keys.\"3\": unknown node 'complant'" in out.stderr
    result = walk(tmp_path, "13900000113", [(1500, "3")])  # the running menu still works
    assert result.ok, result.stdout[-2000:]
    assert hotline.wait_call("13900000113")["queue"] == "complaint"


def test_progress_self_service_reads_the_order_then_an_agent(
    hotline: Hotline, ivr: Path, db: Engine, tmp_path: Path
) -> None:
    from hotline.workorders.models import WorkOrder

    with Session(db) as s:
        s.add(
            WorkOrder(
                number="20261124-000777",
                status="dispatched",
                request_type="complaint",
                caller_number="13900000109",
                linkedid="test-progress-1",
                accepted_at=datetime.now(UTC),
                due_at=datetime.now(UTC) + timedelta(days=10),
            )
        )
        s.commit()
    keys = [(350, d) for d in "20261124000777"] + [(350, "#")]
    # the order is read out about 11 s after the # (lookup, then the fragments), then the
    # menu after it waits 5 s for a key: 0 comes in the middle of that wait
    steps = [(1500, "7"), *keys, (13000, "0")]
    result = walk(tmp_path, "13900000109", steps, timeout_s=180)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000109")
    assert call["ivr_choice"] == "70" and call["ivr_result"] == "chosen"
    assert call["queue"] == "general" and call["disposition"] == "answered"


def test_progress_three_wrong_numbers_go_to_an_agent(
    hotline: Hotline, ivr: Path, tmp_path: Path
) -> None:
    steps = [(1500, "7")] + [(1200, "1"), (300, "#")] * 3
    result = walk(tmp_path, "13900000110", steps, talk_ms=4000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000110")
    assert call["ivr_result"] == "progress-failed" and call["queue"] == "general"


@pytest.fixture
def zhuang_agent(hotline: Hotline, tmp_path: Path) -> Iterator[Phone]:
    """Agent 1003 with the Zhuang skill, whose phone hangs up first after 3 s."""
    phone = Phone(tmp_path, 5074, 17400, "agent_hangs_up.xml", talk_ms="3000").start()
    hotline.cli(
        "agent", "add", "1003", "--contact", "sip:1003@127.0.0.1:5074",
        "--skills", "zhuang,enterprise", "--name", "壮语坐席",
    )  # fmt: skip
    hotline.cli("agent", "login", "1003")
    try:
        yield phone
    finally:
        hotline.cli("agent", "logout", "1003")
        phone.stop()
        # 1003 is a report agent of the ACD tests again, whatever order the modules run in
        report = ACD_AGENTS[0]
        skills = report["skills"]
        assert report["id"] == "1003" and isinstance(skills, list)
        hotline.cli(
            "agent", "add", "1003", "--contact", f"sip:1003@127.0.0.1:{report['port']}",
            "--skills", ",".join(skills), "--name", str(report["name"]),
        )  # fmt: skip


def test_zhuang_agent_hangs_up_first_and_the_citizen_is_dissatisfied(
    hotline: Hotline, ivr: Path, db: Engine, zhuang_agent: Phone, tmp_path: Path
) -> None:
    from hotline.agi.models import SurveyResult
    from hotline.workorders.models import RevisitTask

    result = walk(
        tmp_path, "13900000111", [(1500, "9"), (6500, "3")], hotline_hangs_up=True, wait_ms=30_000
    )
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000111")
    assert call["queue"] == "zhuang" and call["agent"] == "1003"
    assert call["ivr_result"] == "chosen" and call["survey"] == "dissatisfied"
    assert [r.answer for r in rows(db, SurveyResult, linkedid=call["linkedid"])] == ["dissatisfied"]
    tasks = rows(db, RevisitTask, linkedid=call["linkedid"])
    assert len(tasks) == 1 and tasks[0].caller_number == "13900000111"


def test_survey_with_no_answer(
    hotline: Hotline, ivr: Path, db: Engine, zhuang_agent: Phone, tmp_path: Path
) -> None:
    from hotline.workorders.models import RevisitTask

    result = walk(tmp_path, "13900000112", [(1500, "9")], hotline_hangs_up=True, wait_ms=40_000)
    assert result.ok, result.stdout[-2000:]
    call = hotline.wait_call("13900000112")
    assert call["agent"] == "1003" and call["survey"] == "none"
    assert rows(db, RevisitTask, linkedid=call["linkedid"]) == []
