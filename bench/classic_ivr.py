#!/usr/bin/python3
"""The engine's IVR menu as a classic AGI script (pyst2): one process per call.

Measurement 4 of bench/ compares FastAGI with this. Asterisk runs it inside its root
as /opt/hotline-bench/classic_ivr.py, with pyst2 and the menu (menu.json, written by
the bench from the same menu file the engine uses) next to it. It does what
agi/ivr.py does, step for step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asterisk.agi import AGI  # type: ignore[import-untyped]


def main() -> None:
    menu = json.loads((Path(__file__).resolve().parent / "menu.json").read_text())
    agi = AGI()
    keys: dict[str, dict[str, str]] = menu["keys"]
    escape = "".join(sorted(keys))
    key = agi.stream_file(menu["welcome_prompt"], escape_digits=escape) or None
    for attempt in range(1, menu["max_attempts"] + 1):
        if key is None:
            key = agi.get_data(menu["menu_prompt"], menu["menu_timeout_ms"], 1) or None
        if key and key in keys:
            entry = keys[key]
            agi.set_variable("HOTLINE_IVR_CHOICE", key)
            agi.set_variable("HOTLINE_REQUEST_TYPE", entry["request_type"])
            agi.set_variable("HOTLINE_QUEUE", entry["queue"])
            agi.set_variable("HOTLINE_IVR_RESULT", "chosen")
            agi.stream_file(menu["transfer_prompt"])
            return
        if attempt < menu["max_attempts"]:
            agi.stream_file(menu["invalid_prompt"])
        key = None
    agi.set_variable("HOTLINE_IVR_CHOICE", "none")
    agi.set_variable("HOTLINE_QUEUE", menu["fallback_queue"])
    agi.set_variable("HOTLINE_IVR_RESULT", "failed")
    agi.stream_file(menu["transfer_prompt"])


if __name__ == "__main__":
    main()
