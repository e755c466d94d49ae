"""The SMS gateway adapter (短信网关): satisfaction requests, warnings to units.

Sinks: `file` appends one JSON line per message (the default; a real gateway or a
person picks them up), `http` POSTs {"to", "text", "kind", "ref"} as JSON to a URL.
Numbers are masked in logs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx

from hotline.kernel.masking import mask_number
from hotline.workorders.errors import SmsError
from hotline.workorders.rules import SmsRules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    kind: str  # satisfaction | warning | yellow | red | knowledge
    ref: str  # the order number (or question id)
    at: datetime


class SmsGateway(Protocol):
    def send(self, message: SmsMessage) -> None: ...


class FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: SmsMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**asdict(message), "at": message.at.isoformat()}, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        log.info("SMS %s to %s queued in %s", message.kind, mask_number(message.to), self.path)

    def sent(self) -> list[dict[str, str]]:
        """What was written so far (for tests and `hotline orders sms`)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class HttpSink:
    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, message: SmsMessage) -> None:
        body = {**asdict(message), "at": message.at.isoformat()}
        try:
            r = httpx.post(self.url, json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SmsError(f"SMS gateway {self.url} unreachable: {exc}") from exc
        if r.status_code >= 300:
            raise SmsError(f"SMS gateway {self.url} answered {r.status_code}: {r.text[:200]}")
        log.info("SMS %s to %s sent via %s", message.kind, mask_number(message.to), self.url)


def make_gateway(rules: SmsRules, var_dir: Path) -> FileSink | HttpSink:
    if rules.sink == "http":
        return HttpSink(rules.url, rules.timeout_seconds)
    path = Path(rules.file)
    return FileSink(path if path.is_absolute() else var_dir / path)
