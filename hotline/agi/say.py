"""Numbers, digits and dates in Mandarin, as lists of prompt fragments (digit-3, num-10, …)."""

from __future__ import annotations

from datetime import date


def digits(text: str) -> list[str]:
    """Read digit by digit (order numbers, years): 2026 -> 二零二六."""
    return [f"digit-{c}" for c in text if c.isdigit()]


def number(n: int) -> list[str]:
    """A count or day as said: 3 三, 11 十一, 28 二十八; 100 and up digit by digit."""
    if n < 0:
        raise ValueError("only counts and dates are read out")
    if n < 10:
        return [f"digit-{n}"]
    if n < 100:
        tens, ones = divmod(n, 10)
        out = [] if tens == 1 else [f"digit-{tens}"]
        out.append("num-10")
        if ones:
            out.append(f"digit-{ones}")
        return out
    return digits(str(n))


def day(d: date) -> list[str]:
    """2026年11月28日."""
    return [*digits(str(d.year)), "year", *number(d.month), "month", *number(d.day), "day"]
