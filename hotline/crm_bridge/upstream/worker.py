"""The `upstream` service: pushes the outbox to the platform, oldest change first.

A change the platform accepts (2xx) or already has (409) is delivered; one it refuses
(other 4xx) goes to the dead-letter list at once; 5xx, 408/429, a timeout or no
connection leave it pending with a capped, jittered back-off, and pause the whole pass
(the platform is in trouble). The first success after a pause makes every waiting
change due again, so a platform that comes back gets the backlog at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from hotline.crm_bridge.settings import CrmBridgeConfig
from hotline.crm_bridge.upstream import outbox, wire
from hotline.crm_bridge.upstream.backoff import Outcome, backoff, classify
from hotline.crm_bridge.upstream.models import ChangeStatus, UpstreamChange
from hotline.crm_bridge.upstream.secret import ensure_secret

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    http_status: int | None
    error: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def tls_context(settings: CrmBridgeConfig) -> ssl.SSLContext:
    """Certificates are always verified: against `upstream.ca_file`, else the system's."""
    ca = settings.upstream.ca_file
    return ssl.create_default_context(cafile=str(ca) if ca else None)


class UpstreamSender:
    def __init__(
        self,
        settings: CrmBridgeConfig,
        engine: Engine,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.up = settings.upstream
        self.engine = engine
        self.secret = ensure_secret(settings) if self.up.url else self.up.secret
        self.client = httpx.AsyncClient(
            transport=transport,
            verify=tls_context(settings) if transport is None else True,
            timeout=self.up.timeout_seconds,
            follow_redirects=False,
        )
        self.failures = 0  # attempts failed in a row (the platform's trouble)
        self.delivered = 0
        self._pruned_at: datetime | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    def payload(self, change: UpstreamChange) -> tuple[bytes, dict[str, str]]:
        assert change.id is not None
        tenant = self.settings.tenant
        raw = wire.body(
            tenant=tenant,
            kind=change.kind,
            ref=change.ref,
            version=change.id,
            changed_at=change.changed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            data=json.loads(change.data),
        )
        key = wire.idempotency_key(tenant, change.kind, change.ref, change.id)
        return raw, wire.headers(
            secret=self.secret, raw=raw, tenant=tenant, kind=change.kind, key=key
        )

    async def attempt(self, change: UpstreamChange) -> Attempt:
        raw, headers = self.payload(change)
        try:
            response = await self.client.post(self.up.url, content=raw, headers=headers)
        except httpx.HTTPError as exc:  # no connection, timeout, TLS refused
            return Attempt(Outcome.RETRY, None, f"{type(exc).__name__}: {exc}")
        outcome = classify(response.status_code)
        error = "" if outcome is Outcome.DELIVERED else response.text[:500]
        return Attempt(outcome, response.status_code, error)

    def _due(self) -> list[UpstreamChange]:
        with Session(self.engine) as s:
            return outbox.due(s, _utcnow(), self.up.batch)

    def _out_of_attempts(self, change: UpstreamChange) -> bool:
        return bool(self.up.max_attempts) and change.attempts + 1 >= self.up.max_attempts

    def _settle(self, change: UpstreamChange, result: Attempt) -> None:
        assert change.id is not None
        now = _utcnow()
        next_at = None
        if result.outcome in (Outcome.DELIVERED, Outcome.DUPLICATE):
            status = ChangeStatus.DELIVERED
        elif result.outcome is Outcome.DEAD or self._out_of_attempts(change):
            status = ChangeStatus.DEAD
        else:
            status = ChangeStatus.PENDING
            wait = backoff(
                change.attempts + 1, self.up.retry_first_seconds, self.up.retry_cap_seconds
            )
            next_at = now + timedelta(seconds=wait)
        error = result.error
        if result.http_status is not None and result.outcome is not Outcome.DELIVERED:
            error = f"HTTP {result.http_status}: {error}"
        with Session(self.engine) as s:
            outbox.settle(
                s,
                change.id,
                status,
                http_status=result.http_status,
                error=error,
                now=now,
                next_at=next_at,
            )
            if status is ChangeStatus.DELIVERED and self.failures:
                woken = outbox.wake_all(s, now)
                log.info("upstream: the platform answers again; %d waiting changes due now", woken)
            s.commit()
        if status is ChangeStatus.DEAD:
            log.warning(
                "upstream: %s %s v%s dead-lettered (%s); see hotline upstream dead",
                change.kind,
                change.ref,
                change.id,
                error[:200],
            )

    async def pass_once(self) -> tuple[int, bool]:
        """Send what is due; (changes attempted, whether the platform failed)."""
        changes = await asyncio.to_thread(self._due)
        for n, change in enumerate(changes, 1):
            result = await self.attempt(change)
            await asyncio.to_thread(self._settle, change, result)
            if result.outcome is Outcome.RETRY:
                self.failures += 1
                log.warning(
                    "upstream: %s %s v%s not delivered (%s); retrying",
                    change.kind,
                    change.ref,
                    change.id,
                    result.error[:200] or result.http_status,
                )
                return n, True
            self.failures = 0
            if result.outcome is not Outcome.DEAD:
                self.delivered += 1
        return len(changes), False

    def _prune(self) -> None:
        now = _utcnow()
        if self._pruned_at and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        with Session(self.engine) as s:
            n = outbox.prune(s, now - timedelta(days=self.up.keep_delivered_days))
            s.commit()
        if n:
            log.info(
                "upstream: %d delivered changes older than %d days removed",
                n,
                self.up.keep_delivered_days,
            )

    async def run(self) -> None:
        if not self.up.url:
            log.info("upstream: no upstream.url configured; nothing to push")
            await asyncio.Event().wait()
        log.info("upstream: pushing changes to %s", self.up.url)
        try:
            while True:
                try:
                    attempted, failed = await self.pass_once()
                    await asyncio.to_thread(self._prune)
                except Exception:  # the database: the changes wait in it
                    log.exception("upstream: outbox not readable; retrying")
                    attempted, failed = 0, True
                    self.failures += 1
                if failed:
                    await asyncio.sleep(
                        backoff(
                            self.failures, self.up.retry_first_seconds, self.up.retry_cap_seconds
                        )
                    )
                elif attempted == 0:  # else at once: a record's next version is due now
                    await asyncio.sleep(self.up.poll_seconds)
        finally:
            await self.aclose()

    def status(self) -> dict[str, object]:
        """Whether a platform is configured, changes delivered since the start, failures in a
        row (the platform's trouble), the last pruning of delivered changes."""
        return {
            "configured": bool(self.up.url),
            "delivered": self.delivered,
            "failures": self.failures,
            "pruned_at": self._pruned_at.isoformat() if self._pruned_at else None,
        }
