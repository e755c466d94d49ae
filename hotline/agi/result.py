"""One AGI response line, parsed (protocol.py reads it; errors.py carries it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AGIResult:
    """One response: `200 result=1 (timeout) endpos=1234` gives code 200, result "1",
    data "timeout" and extra {"endpos": "1234"}. For an error code, data is its text."""

    code: int
    result: str
    data: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code == 200
