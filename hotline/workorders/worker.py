"""The duty-call service: phones the unit when an emergency (突发) order is dispatched.

Every pass (duty_calls.poll_seconds) it picks up emergency orders dispatched since
the last, follows each duty call whose order is still unsigned and, when the next
attempt is due, writes it and rings the next phone of the plan (the unit's duty
phone, its liaison, the supervisors) with AMI Originate into [hotline-duty-call].
Outcomes come from OriginateResponse (no answer, busy) and UserEvent HotlineDutyCall
(what happened once answered); key 1 itself is stored by the FastAGI route.
The tables are the queue: a restart of this service or of Asterisk loses nothing;
while AMI is down no step of the plan is spent; while the database is down the
service logs once and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hotline.asterisk.ami import AmiClient
from hotline.kernel.alarms import Alarm, publish
from hotline.kernel.masking import mask_number
from hotline.workorders import duty_calls
from hotline.workorders.duty_calls import Pending
from hotline.workorders.models import (
    DutyCall,
    DutyCallAttempt,
    DutyStatus,
    OrgUnit,
    Outcome,
    WorkOrder,
)
from hotline.workorders.rules import load_rules
from hotline.workorders.settings import WorkordersConfig

log = logging.getLogger(__name__)

CONTEXT = "hotline-duty-call"
ACTION_PREFIX = "duty-"
# OriginateResponse Reason (Asterisk's control frame): 3 rang out, 5 busy
ORIGINATE_REASONS = {"3": Outcome.NO_ANSWER, "5": Outcome.BUSY}
# Key 1 is stored by the FastAGI route itself; "signed" and "acknowledged" only confirm it.
STORED_BY_AGI = ("signed", "acknowledged")
RESULTS = {
    "no_key": Outcome.NO_KEY,
    "sign_failed": Outcome.SIGN_FAILED,
    "agi-HANGUP": Outcome.HUNG_UP,
}
# Beyond ringing and the message rounds: an attempt without any outcome is lost
# (this service or Asterisk restarted mid-call); the plan goes on.
LOST_MARGIN_SECONDS = 120


def _now() -> datetime:
    return datetime.now(UTC)


class DutyCallService:
    def __init__(
        self,
        settings: WorkordersConfig,
        engine: Engine,
        ami: AmiClient,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.rules = settings.duty_calls
        self.engine = engine
        self.ami = ami
        self.clock = clock
        self.sign_minutes = load_rules().emergency.sign_within_minutes
        self._db_down = False

    @property
    def lost_after(self) -> timedelta:
        per_round = self.rules.key_wait_seconds + 60  # the message is under a minute
        return timedelta(
            seconds=self.rules.ring_seconds
            + self.rules.key_rounds * per_round
            + LOST_MARGIN_SECONDS
        )

    async def run(self) -> None:
        events = asyncio.create_task(self._events(), name="duty-call-events")
        try:
            while True:
                try:
                    await self.run_once()
                    if self._db_down:
                        log.info("duty calls: database reachable again")
                        self._db_down = False
                except SQLAlchemyError as exc:
                    if not self._db_down:
                        log.warning("duty calls: database unreachable (%s); retrying", exc)
                        self._db_down = True
                except Exception:  # a bad row: log it, keep serving the others
                    log.exception("duty calls: pass failed")
                await asyncio.sleep(self.rules.poll_seconds)
        finally:
            events.cancel()

    def status(self) -> dict[str, object]:
        """The AMI session (no step of the plan is spent without it) and the database."""
        return {
            "ami_logged_in": self.ami.logged_in.is_set(),
            "database_down": self._db_down,
        }

    # One pass ------------------------------------------------------------------
    async def run_once(self) -> None:
        now = self.clock()
        alarms: list[Alarm] = []
        due: list[Pending] = []
        with Session(self.engine) as s:
            for call in duty_calls.pick_up(s, now, self.rules):
                log.info(
                    "duty call %s: emergency order %s picked up", call.id, self._number(s, call)
                )
            for call in duty_calls.active(s):
                if not duty_calls.follow_order(s, call, now):
                    log.info("duty call %s: %s without a call", call.id, call.status)
                    if call.minutes_late:
                        alarms.append(self._late_alarm(s, call))
                    continue
                if call.status == DutyStatus.RINGING:
                    self._check_lost(s, call, now)
                elif call.next_attempt_at <= now and self.ami.logged_in.is_set():
                    pending = duty_calls.next_step(s, call, now, self.rules)
                    if pending is not None:
                        due.append(pending)
                    else:
                        alarms.append(self._unreached_alarm(s, call))
            for call in duty_calls.overdue_unsigned(s, now):
                if not duty_calls.follow_order(s, call, now):  # signed or moved on meanwhile
                    continue
                call.overdue_alarm_at = now
                s.add(call)
                alarms.append(self._overdue_alarm(s, call))
            s.commit()
        for pending in due:
            await self._originate(pending)
        for alarm in alarms:
            await publish(self.settings, alarm)

    def _check_lost(self, s: Session, call: DutyCall, now: datetime) -> None:
        attempt = duty_calls.open_attempt(s, call)
        if attempt is None:  # a ringing call without an open attempt: go on
            call.status = DutyStatus.WAITING
            s.add(call)
        elif attempt.started_at + self.lost_after < now:
            log.warning("duty call %s: attempt %s never reported; going on", call.id, attempt.id)
            duty_calls.ended(s, attempt.id or 0, Outcome.LOST, now, self.rules, "no outcome")

    async def _originate(self, p: Pending) -> None:
        rules = self.rules
        variables = {
            "HOTLINE_DUTY_CALL": str(p.attempt_id),
            "HOTLINE_DUTY_ORDER": "".join(c for c in p.order_number if c.isdigit()),
            "HOTLINE_DUTY_ROLE": p.step.role.value,
        }
        number = self.settings.sip.hotline_number
        try:
            reply = await self.ami.action(
                {
                    "Action": "Originate",
                    "ActionID": f"{ACTION_PREFIX}{p.attempt_id}",
                    "Channel": f"PJSIP/{rules.endpoint}/sip:{p.step.number}@{rules.address}",
                    "Context": CONTEXT,
                    "Exten": "s",
                    "Priority": "1",
                    "Timeout": str(rules.ring_seconds * 1000),
                    "CallerID": f'"{number}" <{number}>',
                    "Variable": ",".join(f"{k}={v}" for k, v in variables.items()),
                    "Async": "true",
                }
            )
        except (ConnectionError, TimeoutError) as exc:
            # Asterisk unreachable: the step is not spent, it is tried again
            self._end(p.attempt_id, Outcome.FAILED, f"AMI: {exc or 'timeout'}", respend=True)
            log.warning("duty call attempt %d: AMI unreachable (%s)", p.attempt_id, exc)
            return
        if reply.get("Response") != "Success":
            self._end(p.attempt_id, Outcome.FAILED, f"Originate refused: {reply.get('Message')}")
            log.warning("duty call attempt %d: Originate refused: %s", p.attempt_id, reply)
            return
        log.info(
            "duty call attempt %d: ringing %s %s (try %d) for order %s",
            p.attempt_id,
            p.step.role,
            mask_number(p.step.number),
            p.step.try_no,
            p.order_number,
        )

    def _end(self, attempt_id: int, outcome: Outcome, detail: str, respend: bool = False) -> None:
        with Session(self.engine) as s:
            attempt = duty_calls.ended(s, attempt_id, outcome, self.clock(), self.rules, detail)
            if attempt is not None and respend:
                call = s.get(DutyCall, attempt.duty_call_id)
                if call is not None:
                    call.step = max(call.step - 1, 0)
                    call.next_attempt_at = self.clock()
                    s.add(call)
            s.commit()

    # Events ----------------------------------------------------------------------
    async def _events(self) -> None:
        while True:
            event = await self.ami.events.get()
            try:
                await self.handle(event)
            except SQLAlchemyError as exc:
                log.warning("duty calls: event %s not stored: %s", event.get("Event"), exc)
            except Exception:
                log.exception("duty calls: event %s not handled", event.get("Event"))

    async def handle(self, event: dict[str, str]) -> None:
        name = event.get("Event", "")
        if name == "OriginateResponse" and event.get("ActionID", "").startswith(ACTION_PREFIX):
            self._on_originate(event)
        elif name == "UserEvent" and event.get("UserEvent") == "HotlineDutyCall":
            await self._on_result(event)

    def _on_originate(self, event: dict[str, str]) -> None:
        raw_id = event["ActionID"].removeprefix(ACTION_PREFIX)
        if not raw_id.isdigit():
            return
        if event.get("Response") == "Success":
            with Session(self.engine) as s:
                duty_calls.answered(s, int(raw_id), self.clock())
                s.commit()
            return
        reason = event.get("Reason", "")
        outcome = ORIGINATE_REASONS.get(reason, Outcome.FAILED)
        self._end(int(raw_id), outcome, f"OriginateResponse reason {reason or '-'}")
        log.info("duty call attempt %s: %s", raw_id, outcome)

    async def _on_result(self, event: dict[str, str]) -> None:
        raw_id = event.get("Id", "")
        if not raw_id.isdigit():
            log.warning("HotlineDutyCall event without an attempt id")
            return
        result = event.get("Result", "")
        if result in STORED_BY_AGI:
            # a no-op when the route stored it, as it must have
            self._end(int(raw_id), Outcome.FAILED, f"reported {result}, not stored")
        else:
            self._end(
                int(raw_id), RESULTS.get(result, Outcome.FAILED), f"answered: {result or '-'}"
            )
        log.info("duty call attempt %s: %s", raw_id, result)
        if result == "signed":
            with Session(self.engine) as s:
                attempt = s.get(DutyCallAttempt, int(raw_id))
                call = s.get(DutyCall, attempt.duty_call_id) if attempt else None
                if call is not None and call.minutes_late:
                    alarm = self._late_alarm(s, call)
                else:
                    return
            await publish(self.settings, alarm)

    # Alarms (to supervisors: MQTT hotline/<tenant>/alarm and the log) ----------------
    def _number(self, s: Session, call: DutyCall) -> str:
        order = s.get(WorkOrder, call.order_id)
        return order.number if order else f"#{call.order_id}"

    def _unit(self, s: Session, call: DutyCall) -> str:
        unit = s.get(OrgUnit, call.unit_id)
        return f"{unit.name} ({unit.code})" if unit else f"unit #{call.unit_id}"

    def _unreached_alarm(self, s: Session, call: DutyCall) -> Alarm:
        tried = len(duty_calls.attempts(s, call))
        return Alarm(
            kind="duty_call_unreached",
            message=(
                f"emergency order {self._number(s, call)}: {self._unit(s, call)} not reached "
                f"after {tried} calls (duty phone, liaison, supervisors); phone them"
            ),
            severity="critical",
        )

    def _overdue_alarm(self, s: Session, call: DutyCall) -> Alarm:
        return Alarm(
            kind="emergency_sign_overdue",
            message=(
                f"emergency order {self._number(s, call)}: {self._unit(s, call)} has not signed "
                f"within {self.sign_minutes} minutes of dispatch (art. 26.2.7)"
            ),
            severity="critical",
        )

    def _late_alarm(self, s: Session, call: DutyCall) -> Alarm:
        return Alarm(
            kind="emergency_signed_late",
            message=(
                f"emergency order {self._number(s, call)}: {self._unit(s, call)} signed "
                f"{call.minutes_late} min after the {self.sign_minutes}-minute limit"
            ),
        )
