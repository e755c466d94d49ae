"""The agent page in headless Chromium: a real SIP call rings a session agent's SIPp phone,
and the page, connected as that agent, pops the caller's earlier work order at once."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers.chromium import Browser
from tests.helpers.session_hotline import Hotline, user_password
from tests.helpers.sipp import Caller
from tests.helpers.waiting import eventually

NUMBER = "13900005501"
AGENT = "1001"  # the complaint skill at proficiency 5: key 3 rings this phone first


def test_the_agent_page_pops_the_callers_previous_order(
    hotline: Hotline, caller: Caller, tmp_path: Path
) -> None:
    hotline.user("pop1001", "agent", AGENT)
    earlier = hotline.post(
        "/api/workorders",
        {"request_type": "complaint", "contact": NUMBER, "content": "小区夜间施工噪音"},
    )
    assert earlier.status_code == 201, earlier.text
    order = earlier.json()["number"]
    # without a login the page sends the browser to the login page
    anon = httpx.get(f"{hotline.api}/agent", timeout=10)
    assert (anon.status_code, anon.headers["location"]) == (303, "/login?next=/agent")

    page = """JSON.stringify({
      link: document.getElementById('link').textContent,
      state: document.getElementById('state').dataset.state,
      caller: document.getElementById('caller').textContent,
      orders: document.querySelector('#orders tbody').textContent,
      form_number: document.querySelector('#order [name=caller_number]').value,
      form_type: document.querySelector('#order [name=request_type]').value,
      text: document.body.innerText})"""
    with Browser(tmp_path) as browser:
        browser.login(hotline.api, "pop1001", user_password("pop1001"), "/agent")

        def shown() -> dict[str, str]:
            return dict(json.loads(browser.evaluate(page)))

        eventually(lambda: shown()["link"] == "实时" and shown()["state"], "page live")
        assert "坐席工作台" in shown()["text"] and "工号 1001" in shown()["text"]

        def popped_up() -> dict[str, str] | None:
            p = shown()
            return p if p["caller"] == NUMBER and order in p["orders"] else None

        call = caller.start(NUMBER, "3", before_key_ms=1500, talk_ms=6000)
        try:
            popped = eventually(popped_up, "the screen pop with the earlier order", timeout=30)
            shot = browser.screenshot(tmp_path / "agent-page.png")
            print(f"agent page screenshot: {shot}")
        finally:
            result = call.wait(60)
    assert result.ok, result.stdout[-2000:]
    assert "小区夜间施工噪音" in popped["orders"]
    assert (popped["form_number"], popped["form_type"]) == (NUMBER, "complaint")
    assert "投诉" in popped["text"] and "按 3" in popped["text"]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert hotline.wait_call(NUMBER)["agent"] == AGENT
