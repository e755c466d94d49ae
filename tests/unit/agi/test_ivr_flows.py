"""The flows of the voice service through the real FastAGI server and a fake Asterisk:
skills, blocked numbers, emergency, progress self-service, returning caller, survey,
sub-centres, reload."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.agi.menu import DEFAULT_MENU_FILE
from hotline.agi.reload import ConfigStore
from hotline.agi.services import NoServices
from hotline.agi.tree import IvrConfig, load_ivr
from hotline.workorders.deadlines import RequestType
from hotline.workorders.progress import OrderProgress
from tests.helpers.fake_asterisk import CALLER, QUEUES, AgiServerFactory, FakeAsterisk

ORDER = OrderProgress(
    number="20261124-000777",
    status="dispatched",
    status_zh="已派发，正在办理",
    unit_name="南宁市城市管理局",
    due_at=datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
    request_type=RequestType.COMPLAINT,
)


class FakeServices(NoServices):
    def __init__(self, *, blocked: bool = False, orders: int = 0, code: str = "") -> None:
        self.is_blocked = blocked
        self.orders = orders
        self.code = code
        self.refused_calls: list[tuple[str, str]] = []
        self.surveys: list[tuple[str, str, str]] = []
        self.lookups: list[tuple[str, str, str | None]] = []
        self.timezone = ZoneInfo("Asia/Shanghai")

    async def blocked(self, number: str) -> bool:
        return self.is_blocked

    async def refused(self, number: str, linkedid: str) -> None:
        self.refused_calls.append((number, linkedid))

    async def open_orders(self, number: str) -> int:
        return self.orders

    async def find_order(
        self, number: str, caller: str, query_code: str | None
    ) -> OrderProgress | None:
        self.lookups.append((number, caller, query_code))
        if number != ORDER.number:
            return None
        if caller == CALLER or (query_code and query_code == self.code):
            return ORDER
        return None

    async def save_survey(self, linkedid: str, caller: str, answer: str) -> None:
        self.surveys.append((linkedid, caller, answer))

    async def speak(self, text: str) -> str | None:
        return "hotline/tts/unit"


@pytest.fixture(scope="module")
def config() -> IvrConfig:
    return load_ivr(DEFAULT_MENU_FILE, QUEUES)


@pytest.fixture
def start(agi_server: AgiServerFactory) -> AgiServerFactory:
    return agi_server


async def run(port: int, data: list[str], **kw: Any) -> FakeAsterisk:
    import asyncio

    answers = {"GET DATA": [f"200 result={d}" for d in data], **kw.pop("answers", {})}
    return await asyncio.wait_for(FakeAsterisk(port, answers=answers, **kw).run(), timeout=3)


def played(fake: FakeAsterisk) -> list[str]:
    return [a[0] for a in fake.args_of("STREAM FILE")]


# Skills -------------------------------------------------------------------------
async def test_zhuang_with_nobody_logged_in_goes_to_general(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices())
    fake = await run(port, ["9"], answers={"GET FULL VARIABLE": ["200 result=1 (0)"]})
    assert fake.args_of("GET FULL VARIABLE") == [["${QUEUE_MEMBER(hotline-zhuang,logged)}"]]
    assert "hotline/no-zhuang-agent" in played(fake)
    assert fake.variables["HOTLINE_QUEUE"] == "general"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "no-skilled-agent"


async def test_enterprise_with_an_agent_logged_in(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices())
    fake = await run(port, ["6"], answers={"GET FULL VARIABLE": ["200 result=1 (2)"]})
    assert fake.args_of("GET FULL VARIABLE") == [["${QUEUE_MEMBER(hotline-enterprise,logged)}"]]
    assert fake.variables["HOTLINE_QUEUE"] == "enterprise"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "chosen"


# Information key, repeat ------------------------------------------------------------
async def test_key_8_lists_what_12345_does_not_take_then_the_menu(
    start: Any, config: IvrConfig
) -> None:
    port = await start(config, FakeServices())
    fake = await run(port, ["8", "1"])
    assert played(fake)[:2] == ["hotline/welcome", "hotline/not-accepted"]
    assert fake.variables["HOTLINE_QUEUE"] == "consultation"
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "81"


async def test_key_during_the_information_acts_at_once(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices())
    fake = await run(
        port,
        ["8"],
        answers={"STREAM FILE": ["200 result=0 endpos=1", "200 result=51 endpos=100"]},
    )
    assert len(fake.args_of("GET DATA")) == 1
    assert fake.variables["HOTLINE_QUEUE"] == "complaint"


# Blocked numbers ------------------------------------------------------------------
async def test_blocked_number_hears_the_notice_and_the_call_ends(
    start: Any, config: IvrConfig
) -> None:
    services = FakeServices(blocked=True)
    port = await start(config, services)
    fake = await run(port, [])
    # the block list is asked while the welcome plays (no silence before it)
    assert played(fake) == ["hotline/welcome", "hotline/blocked"]
    assert fake.args_of("STREAM FILE")[1][1] == "*"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "blocked"
    assert fake.variables["HOTLINE_HANGUP"] == "1"
    assert "HOTLINE_TRANSFER" not in fake.variables
    assert services.refused_calls == [(CALLER, "1700000000.1")]


async def test_blocked_number_still_reaches_the_emergency_lines(
    start: Any, config: IvrConfig
) -> None:
    services = FakeServices(blocked=True)
    port = await start(config, services)
    # the welcome to its end, * during the notice
    stream = ["200 result=0 endpos=100", "200 result=42 endpos=10"]
    fake = await run(port, ["3"], answers={"STREAM FILE": stream})
    assert fake.args_of("GET DATA")[0][0] == "hotline/emergency-menu"
    assert fake.variables["HOTLINE_TRANSFER"] == "120"
    assert "HOTLINE_HANGUP" not in fake.variables
    assert services.refused_calls == []


async def test_blocked_number_without_an_emergency_key_is_not_served(
    start: Any, config: IvrConfig
) -> None:
    services = FakeServices(blocked=True)
    port = await start(config, services)
    # * then "0" (an agent) in the emergency menu: still refused
    stream = ["200 result=0 endpos=100", "200 result=42 endpos=10"]
    fake = await run(port, ["0"], answers={"STREAM FILE": stream})
    assert fake.variables["HOTLINE_IVR_RESULT"] == "blocked"
    assert fake.variables["HOTLINE_HANGUP"] == "1"


# Returning caller ------------------------------------------------------------------
async def test_returning_caller_hears_how_many_open_orders(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices(orders=12))
    fake = await run(port, ["0"])
    assert played(fake)[:5] == [
        "hotline/welcome",
        "hotline/returning-before",
        "hotline/num-10",
        "hotline/digit-2",
        "hotline/returning-after",
    ]


async def test_caller_without_orders_hears_nothing_more(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices(orders=0))
    fake = await run(port, ["0"])
    assert "hotline/returning-before" not in played(fake)


# Progress self-service -----------------------------------------------------------
async def test_progress_reads_status_unit_and_due_date(start: Any, config: IvrConfig) -> None:
    services = FakeServices()
    port = await start(config, services)
    fake = await run(port, ["7", "20261124000777", "0"])
    prompts = played(fake)
    start_at = prompts.index("hotline/progress-order")
    digits = [f"hotline/digit-{d}" for d in "20261124000777"]
    assert prompts[start_at + 1 : start_at + 15] == digits
    assert prompts[start_at + 15 : start_at + 17] == [
        "hotline/progress-status",
        "hotline/status-dispatched",
    ]
    assert "hotline/progress-unit" in prompts and "hotline/tts/unit" in prompts
    due = prompts.index("hotline/progress-due")
    # 2026年12月8日 (17:30 Beijing time on the 8th)
    assert prompts[due + 1 : due + 11] == [
        "hotline/digit-2", "hotline/digit-0", "hotline/digit-2", "hotline/digit-6",
        "hotline/year", "hotline/num-10", "hotline/digit-2", "hotline/month",
        "hotline/digit-8", "hotline/day",
    ]  # fmt: skip
    assert services.lookups == [("20261124-000777", CALLER, None)]
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "70"
    assert fake.variables["HOTLINE_QUEUE"] == "general"
    # the same matter: ahead of callers who came in earlier (app_queue's QUEUE_PRIO)
    assert fake.variables["HOTLINE_ORDER"] == "20261124-000777"
    assert fake.variables["QUEUE_PRIO"] == "5"


async def test_progress_of_another_number_needs_the_query_code(
    start: Any, config: IvrConfig
) -> None:
    services = FakeServices(code="4321")
    port = await start(config, services)
    fake = FakeAsterisk(
        port,
        callerid="13700000000",
        answers={
            "GET DATA": [
                f"200 result={d}"
                for d in ["7", "20261124000777", "9999", "20261124000777", "4321", "0"]
            ]
        },
    )
    import asyncio

    await asyncio.wait_for(fake.run(), timeout=3)
    prompts = played(fake)
    assert prompts.count("hotline/progress-not-found") == 1  # the wrong code
    assert "hotline/progress-order" in prompts  # the right code
    assert services.lookups[-1] == ("20261124-000777", "13700000000", "4321")


async def test_progress_three_wrong_numbers_go_to_an_agent(start: Any, config: IvrConfig) -> None:
    services = FakeServices()
    port = await start(config, services)
    fake = await run(port, ["7", "123", "20260101000001", "", "", ""])
    assert played(fake).count("hotline/progress-not-found") == 3
    assert fake.variables["HOTLINE_IVR_RESULT"] == "progress-failed"
    assert fake.variables["HOTLINE_QUEUE"] == "general"
    assert "QUEUE_PRIO" not in fake.variables  # no matter found: queue time alone


# Survey ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keys", "answer"),
    [
        (["1"], "satisfied"),
        (["2"], "basically"),
        (["3"], "dissatisfied"),
        (["5", "3"], "dissatisfied"),
    ],
)
async def test_survey_answer_is_stored(
    start: Any, config: IvrConfig, keys: list[str], answer: str
) -> None:
    services = FakeServices()
    port = await start(config, services)
    fake = await run(port, keys, script="survey", args=("1700000000.9",))
    assert fake.variables == {"HOTLINE_SURVEY": answer}
    assert services.surveys == [("1700000000.9", CALLER, answer)]
    assert played(fake) == ["hotline/survey-thanks"]


async def test_survey_with_no_answer(start: Any, config: IvrConfig) -> None:
    services = FakeServices()
    port = await start(config, services)
    fake = await run(port, [], script="survey", args=("1700000000.9",))
    assert fake.args_of("GET DATA") == [["hotline/survey", "6000", "1"]] * 2  # the defaults
    assert fake.variables == {"HOTLINE_SURVEY": "none"}
    assert services.surveys == [("1700000000.9", CALLER, "none")]
    assert played(fake) == []


async def test_survey_asks_as_often_and_waits_as_long_as_configured(
    start: Any, config: IvrConfig
) -> None:
    changed = config.model_copy(update={"survey_attempts": 3, "survey_timeout_seconds": 2.5})
    port = await start(changed, FakeServices())
    fake = await run(port, [], script="survey", args=("1700000000.9",))
    assert fake.args_of("GET DATA") == [["hotline/survey", "2500", "1"]] * 3


# Sub-centres and reload ------------------------------------------------------------------
async def test_sub_centre_number_gets_its_own_tree(start: Any, config: IvrConfig) -> None:
    port = await start(config, FakeServices())
    fake = await run(port, ["2"], args=("12366",))
    assert played(fake)[0] == "hotline/welcome-tax"
    assert fake.args_of("GET DATA")[0][0] == "hotline/menu-tax"
    assert fake.variables["HOTLINE_QUEUE"] == "complaint"


async def test_reload_keeps_a_running_call_on_its_tree(
    start: Any, config: IvrConfig, tmp_path: Path
) -> None:
    import asyncio

    path = tmp_path / "ivr.yaml"
    text = DEFAULT_MENU_FILE.read_text(encoding="utf-8")
    path.write_text(text)
    store = ConfigStore(lambda: load_ivr(path, QUEUES), tmp_path)
    port = await start(store, FakeServices())
    first = FakeAsterisk(port, answers={"GET DATA": ["200 result=3"]}, pause_at="GET DATA")
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(first.reached.wait(), timeout=2)
    path.write_text(text.replace('"3": complaint', '"3": consultation'))
    assert store.reload() is None
    second = await run(port, ["3"])
    first.release.set()
    await asyncio.wait_for(running, timeout=2)
    assert first.variables["HOTLINE_QUEUE"] == "complaint"
    assert second.variables["HOTLINE_QUEUE"] == "consultation"
    assert '"ok": true' in (tmp_path / "agi.reload").read_text()


def test_reload_of_a_broken_file_keeps_the_old_config(tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    text = DEFAULT_MENU_FILE.read_text(encoding="utf-8")
    path.write_text(text)
    store = ConfigStore(lambda: load_ivr(path, QUEUES), tmp_path)
    before = store.current
    path.write_text(text.replace('"3": complaint', '"3": nowhere'))
    error = store.reload()
    assert error is not None and "unknown node 'nowhere'" in error
    assert store.current is before
    assert '"ok": false' in (tmp_path / "agi.reload").read_text()


# Node kinds not in the shipped tree ---------------------------------------------------
CUSTOM = """\
prompt_dir: t
trees:
  main:
    start: ask
    nodes:
      ask: {kind: collect, prompt: ask, variable: ID_CARD, max_digits: 18, next: menu}
      menu:
        kind: menu
        prompt: menu
        max_attempts: 2
        keys: {"1": agent, "2": bye}
        on_failure: bye
      agent: {kind: queue, queue: general}
      bye: {kind: hangup, prompt: goodbye, result: message}
"""


async def test_collect_then_hangup_after_message(start: Any, tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    path.write_text(CUSTOM)
    port = await start(load_ivr(path, QUEUES), FakeServices())
    fake = await run(port, ["45010019900101123X"[:17], "2"])
    assert fake.args_of("GET DATA")[0] == ["t/ask", "8000", "18"]
    assert fake.variables["HOTLINE_COLLECT_ID_CARD"] == "45010019900101123"
    assert played(fake) == ["t/goodbye"]
    assert fake.variables["HOTLINE_HANGUP"] == "1"
    assert fake.variables["HOTLINE_IVR_RESULT"] == "message"


async def test_menu_failure_to_a_hangup_node(start: Any, tmp_path: Path) -> None:
    path = tmp_path / "ivr.yaml"
    path.write_text(CUSTOM)
    port = await start(load_ivr(path, QUEUES), FakeServices())
    fake = await run(port, ["", "9"])  # nothing collected; then a wrong key twice
    assert played(fake) == ["t/invalid", "t/goodbye"]
    assert fake.variables["HOTLINE_HANGUP"] == "1"
    assert fake.variables["HOTLINE_IVR_CHOICE"] == "none"
