"""The callback service: puts kept places in line and follows each callback to its end.

A due request becomes a placeholder call (AMI Originate of Local/cb<id>@hotline-
callback-place/n) waiting in the queue at the caller's old position. When an
agent answers it, the dialplan rings the citizen and reports the outcome with
UserEvent HotlineCallback (State: dialling, then DialStatus). Every change is
written to the `callback` table first, so a restart of this service or of
Asterisk loses nothing: placeholders that are gone are put back in line.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from hotline.acd import callbacks
from hotline.acd.models import Callback, CallbackStatus
from hotline.acd.settings import AcdConfig
from hotline.asterisk.ami import AmiClient
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.masking import mask_number
from hotline.kernel.names import asterisk_queue

log = logging.getLogger(__name__)

PLACE_CONTEXT = "hotline-callback-place"
DIAL_CONTEXT = "hotline-callback-dial"
CALLBACK_NAME = "12345回拨"


def placeholder_channel(cb_id: int) -> str:
    # /n: no Local optimisation, so the placeholder keeps its name for the whole call
    return f"Local/cb{cb_id}@{PLACE_CONTEXT}/n"


def _now() -> datetime:
    return datetime.now(UTC)


class CallbackService:
    def __init__(
        self, settings: AcdConfig, engine: Engine, ami: AmiClient, poll_seconds: float = 1.0
    ) -> None:
        self.settings = settings
        self.rules = settings.waiting.callback
        self.engine = engine
        self.ami = ami
        self.poll_seconds = poll_seconds
        self._reconcile = True  # after every (re)connection to Asterisk

    async def run(self) -> None:
        events = asyncio.create_task(self._events(), name="callback-events")
        try:
            while True:
                try:
                    await self.ami.logged_in.wait()
                    if self._reconcile:
                        self._reconcile = False
                        await self.reconcile()
                    await self.place_due()
                except (ConnectionError, TimeoutError) as exc:
                    log.warning("callbacks: Asterisk not reachable (%s); retrying", exc)
                except Exception:  # the database, a bad row: log, keep serving the others
                    log.exception("callbacks: pass failed")
                await asyncio.sleep(self.poll_seconds)
        finally:
            events.cancel()

    def status(self) -> dict[str, object]:
        """The AMI session; whether the placeholders are still to be checked after a login."""
        return {
            "ami_logged_in": self.ami.logged_in.is_set(),
            "reconcile_pending": self._reconcile,
        }

    # Putting places in line ---------------------------------------------
    async def place_due(self) -> None:
        with Session(self.engine) as s:
            for cb in callbacks.due(s, _now()):
                await self._originate(s, cb)

    async def _originate(self, s: Session, cb: Callback) -> None:
        assert cb.id is not None
        variables = {
            "HOTLINE_CALLBACK": str(cb.id),
            "HOTLINE_CALLBACK_QUEUE": asterisk_queue(cb.queue),
            "HOTLINE_CALLBACK_POSITION": str(cb.position),
            "HOTLINE_CALLBACK_NUMBER": cb.caller_number,
        }
        # Written first: if Asterisk takes it and we die now, reconcile finds the placeholder.
        callbacks.placed(cb, _now())
        s.add(cb)
        s.commit()
        reply = await self.ami.action(
            {
                "Action": "Originate",
                "ActionID": f"callback-{cb.id}",
                "Channel": placeholder_channel(cb.id),
                "Context": DIAL_CONTEXT,
                "Exten": "s",
                "Priority": "1",
                "Timeout": str(self.rules.hold_minutes * 60_000),
                "CallerID": f'"{CALLBACK_NAME}" <{cb.caller_number}>',
                "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
                "Async": "true",
            }
        )
        if reply.get("Response") != "Success":
            callbacks.lost(cb, f"originate: {reply.get('Message', '')}", _now())
            s.add(cb)
            s.commit()
            log.warning("callback %d: Originate refused: %s", cb.id, reply.get("Message"))
            return
        log.info(
            "callback %d: place %d in %s kept for %s (attempt %d)",
            cb.id,
            cb.position,
            cb.queue,
            mask_number(cb.caller_number),
            cb.attempts + 1,
        )

    async def reconcile(self) -> None:
        """Put back in line the callbacks whose placeholder Asterisk no longer has."""
        with Session(self.engine) as s:
            active = callbacks.in_line(s)
            if not active:
                return
            listing = await self.ami.action({"Action": "CoreShowChannels"}, as_list=True)
            names = [str(e.get("Channel", "")) for e in listing if isinstance(e, dict)]
            for cb in active:
                prefix = f"Local/cb{cb.id}@{PLACE_CONTEXT}"
                if not any(n.startswith(prefix) for n in names):
                    log.warning("callback %s: its place was lost (restart); back in line", cb.id)
                    callbacks.lost(cb, "placeholder gone", _now())
                    s.add(cb)
            s.commit()

    # Following each callback ---------------------------------------------
    async def _events(self) -> None:
        while True:
            event = await self.ami.events.get()
            try:
                await self.handle(event)
            except Exception:
                log.exception("callbacks: event %s not handled", event.get("Event"))

    async def handle(self, event: dict[str, str]) -> None:
        name = event.get("Event", "")
        if name == "FullyBooted":
            self._reconcile = True
        elif name == "UserEvent" and event.get("UserEvent") == "HotlineCallback":
            await self._on_callback_event(event)
        elif (
            name == "OriginateResponse"
            and event.get("ActionID", "").startswith("callback-")
            and event.get("Response") != "Success"
        ):
            self._on_originate_failed(event)
        elif name == "AgentConnect" and event.get("Channel", "").startswith("Local/cb"):
            self._on_agent(event)

    def _on_agent(self, event: dict[str, str]) -> None:
        """The agent who took the kept place (the placeholder's queue leg)."""
        raw_id = event["Channel"].removeprefix("Local/cb").split("@", 1)[0]
        with Session(self.engine) as s:
            cb = s.get(Callback, int(raw_id)) if raw_id.isdigit() else None
            if cb is None:
                return
            cb.agent = event.get("MemberName", "") or event.get("Interface", "")
            s.add(cb)
            s.commit()

    async def _on_callback_event(self, event: dict[str, str]) -> None:
        raw_id = event.get("Id", "")
        if not raw_id.isdigit():
            log.warning("HotlineCallback event without a callback id: %s", event.get("Uniqueid"))
            return
        failed: Callback | None = None
        with Session(self.engine) as s:
            cb = s.get(Callback, int(raw_id))
            if cb is None:
                log.warning("HotlineCallback event for unknown callback %s", raw_id)
                return
            if event.get("State") == "dialling":
                callbacks.dialling(cb, event.get("Linkedid", ""), _now())
            elif "DialStatus" in event and cb.status in (
                CallbackStatus.WAITING,
                CallbackStatus.DIALLING,
            ):
                callbacks.dialled(cb, event.get("DialStatus", ""), _now(), self.rules)
                if cb.status == CallbackStatus.FAILED:
                    failed = cb
            else:
                return
            s.add(cb)
            s.commit()
            s.refresh(cb)
            log.info(
                "callback %d: %s (%s, attempt %d)", cb.id, cb.status, cb.last_result, cb.attempts
            )
        if failed is not None:
            await publish(
                self.settings,
                Alarm(
                    kind="callback_failed",
                    message=(
                        f"callback {failed.id} to {mask_number(failed.caller_number)} failed "
                        f"{failed.attempts} times ({failed.last_result}); call the citizen"
                    ),
                    linkedid=failed.linkedid,
                ),
            )

    def _on_originate_failed(self, event: dict[str, str]) -> None:
        raw_id = event["ActionID"].removeprefix("callback-")
        with Session(self.engine) as s:
            cb = s.get(Callback, int(raw_id)) if raw_id.isdigit() else None
            if cb is None or cb.status != CallbackStatus.WAITING:
                return
            # the placeholder ended before any agent took it (hold_minutes passed)
            callbacks.lost(cb, f"placeholder ended ({event.get('Reason', '')})", _now())
            s.add(cb)
            s.commit()
            log.warning("callback %d: its placeholder ended unanswered; back in line", cb.id)
