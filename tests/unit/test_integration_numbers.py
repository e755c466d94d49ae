"""The integration tests' callers: one module each number.

`Hotline.wait_call()` expects one call record per caller in the whole session, so a
number used by two test modules makes one of them fail depending on the order.
"""

from __future__ import annotations

import re
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parent.parent / "integration"


def test_caller_numbers_are_not_shared_between_modules() -> None:
    owners: dict[str, str] = {}
    for path in sorted(INTEGRATION.glob("test_*.py")):
        for number in sorted(set(re.findall(r"1390000\d{4}", path.read_text()))):
            assert number not in owners, f"{number} is used in {owners[number]} and {path.name}"
            owners[number] = path.name
    assert len(owners) > 20  # the files were read
