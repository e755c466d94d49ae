"""Phone numbers are personal data (art. 22): masked wherever they are shown or logged."""

from __future__ import annotations

import re

_LONG_DIGITS = re.compile(r"\d{7,}")


def mask_number(number: str) -> str:
    """The first 3 and last 2 characters kept: 13800138000 -> 138******00.

    Surrounding spaces are dropped; a value without a digit ("anonymous", "unknown", "")
    hides nothing and is kept as it is; 5 characters or fewer are all masked.
    """
    s = number.strip()
    if not any(c.isdigit() for c in s):
        return s
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def mask_numbers_in(text: str) -> str:
    """Free text (a platform's error may echo a request body) with every run of 7 or more
    digits masked as a phone number."""
    return _LONG_DIGITS.sub(lambda m: mask_number(m.group(0)), text)
