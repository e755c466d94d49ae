"""The upstream format's pure parts: signature, idempotency key, body, back-off, what an
answer means, and the settings' refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.config.settings import load_settings
from hotline.crm_bridge.upstream import wire
from hotline.crm_bridge.upstream.backoff import Outcome, backoff, classify
from hotline.kernel.errors import ConfigError


def test_the_signature_is_hmac_sha256_of_the_raw_body() -> None:
    # RFC 4231 test case 2
    sig = wire.sign("Jefe", b"what do ya want for nothing?")
    assert sig == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert wire.verify("Jefe", b"what do ya want for nothing?", sig)
    assert not wire.verify("Jefe", b"what do ya want for nothing!", sig)
    assert not wire.verify("jefe", b"what do ya want for nothing?", sig)
    assert not wire.verify("", b"", wire.sign("", b""))  # no secret: nothing verifies


def body(version: int = 7) -> bytes:
    return wire.body(
        tenant="nanning",
        kind="work_order",
        ref="20261124-000001",
        version=version,
        changed_at="2026-11-24T08:00:00Z",
        data={"status": "dispatched", "content": "噪音扰民"},
    )


def test_one_change_has_one_key_and_the_same_bytes_on_every_attempt() -> None:
    assert body() == body()
    envelope = json.loads(body())
    assert envelope["idempotency_key"] == "nanning:work_order:20261124-000001:7"
    assert envelope["idempotency_key"] == wire.idempotency_key(
        "nanning", "work_order", "20261124-000001", 7
    )
    assert json.loads(body(8))["idempotency_key"] != envelope["idempotency_key"]
    assert "噪音扰民".encode() in body()  # UTF-8, not \u escapes
    headers = wire.headers(
        secret="s", raw=body(), tenant="nanning", kind="work_order", key=envelope["idempotency_key"]
    )
    assert headers["Idempotency-Key"] == envelope["idempotency_key"]
    assert wire.verify("s", body(), headers["X-Hotline-Signature"])


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (409, Outcome.DUPLICATE),
        (400, Outcome.DEAD),
        (401, Outcome.DEAD),
        (422, Outcome.DEAD),
        (301, Outcome.DEAD),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_what_an_answer_means(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    def low() -> float:
        return 0.0

    def high() -> float:
        return 1.0

    assert [backoff(n, 1.0, 30.0, high) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert [backoff(n, 1.0, 30.0, low) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 15, 15]
    assert backoff(100, 1.0, 30.0) <= 30.0  # no overflow far out
    draws = {backoff(3, 1.0, 30.0) for _ in range(50)}
    assert len(draws) > 1 and all(2.0 <= d <= 4.0 for d in draws)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hotline.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("upstream: {url: 'http://platform.example/in'}\n", "plain http is allowed only to"),
        ("upstream: {url: 'ftp://platform.example/in'}\n", "https:// URL"),
        ("upstream: {url: 'https://x', ca_file: /nonexistent/ca.pem}\n", "does not exist"),
        ("upstream: {url: 'https://x', retry_cap_seconds: 0.1}\n", "retry_cap_seconds"),
        ("upstream: {urls: 'https://x'}\n", "upstream.urls"),
        ("upstream: {url: 'https://x', secret: abc}\n", "upstream.secret: never in the file"),
    ],
)
def test_a_bad_upstream_setting_names_file_field_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG_FILE", raising=False)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and "upstream" in str(err.value)
    assert message in str(err.value)


def test_https_and_loopback_http_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_UPSTREAM__SECRET", raising=False)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    s = load_settings(write(tmp_path, "upstream: {url: 'https://12345.example.gov.cn/in'}\n"))
    assert s.upstream.url.startswith("https://") and s.upstream.secret == ""
    (tmp_path / "secrets.env").write_text("HOTLINE_UPSTREAM__SECRET=from-var\n")
    s = load_settings(write(tmp_path, "upstream: {url: 'http://127.0.0.1:8390/upstream'}\n"))
    assert s.upstream.secret == "from-var"
