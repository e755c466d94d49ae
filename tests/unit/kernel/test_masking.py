"""One mask for citizens' numbers (kernel/masking.py), in logs, answers and listings."""

from __future__ import annotations

import pytest

from hotline.kernel.masking import mask_number, mask_numbers_in


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13800138000", "138******00"),
        ("+8613800138000", "+86*********00"),
        ("07712345678", "077******78"),
        ("123456", "123*56"),  # the shortest with anything shown
        ("12345", "*****"),  # 5 characters or fewer: nothing shown
        ("110", "***"),
        ("", ""),
        # no digit: nothing to hide, kept as it is
        ("unknown", "unknown"),
        ("anonymous", "anonymous"),
        ("<unknown>", "<unknown>"),
        # spaces around are dropped (Asterisk and forms leave them)
        (" 13800138000\n", "138******00"),
        ("   ", ""),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_mask_numbers_in_text_masks_long_digit_runs_only() -> None:
    text = 'HTTP 422: {"contact": "13800138000", "order": "NN202611250001", "code": 123456}'
    assert mask_numbers_in(text) == (
        'HTTP 422: {"contact": "138******00", "order": "NN202*******01", "code": 123456}'
    )
    assert mask_numbers_in("no numbers here") == "no numbers here"
