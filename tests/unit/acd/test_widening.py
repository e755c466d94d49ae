"""Widening the agent pool while a caller waits: the plan from the live service level,
its settings, the dialplan it renders into, and how live numbers and the call record
see a caller who goes back into the same queue after a step."""

from __future__ import annotations

from pathlib import Path

from hotline.acd.live_stats import TOTAL
from hotline.acd.settings import AcdSettings, OverflowTrunkSettings, QueueSettings, WideningSettings
from hotline.acd.widening import BEHIND, ON_TARGET, UNKNOWN, plan
from hotline.app import render
from hotline.calls.models import Disposition
from hotline.config.settings import Settings
from hotline.crm_bridge.assembler import CallAssembler
from tests.helpers.queue_events import T0, answer, feed, join, leave, stats

STEPS = WideningSettings(
    secondary_after_seconds=5, general_after_seconds=15, trunk_after_seconds=40
)


def test_on_target_or_unknown_the_configured_times() -> None:
    assert plan(STEPS, 97.0, 95.0) == (p := plan(STEPS, 97.0, 95.0))
    assert (p.secondary, p.general, p.trunk, p.pace) == (5, 15, 40, ON_TARGET)
    q = plan(STEPS, None, 95.0)
    assert (q.secondary, q.general, q.trunk, q.pace) == (5, 15, 40, UNKNOWN)


def test_below_target_every_step_comes_sooner() -> None:
    p = plan(STEPS, 90.0, 95.0)
    assert (p.secondary, p.general, p.trunk, p.pace) == (2, 8, 20, BEHIND)
    assert p.variables() == {
        "HOTLINE_WIDEN_SECONDARY": "2",
        "HOTLINE_WIDEN_GENERAL": "8",
        "HOTLINE_WIDEN_TRUNK": "20",
        "HOTLINE_WIDEN_PACE": "behind",
    }


def test_steps_stay_in_order_and_the_general_step_is_never_at_zero() -> None:
    steps = WideningSettings(secondary_after_seconds=0, general_after_seconds=1, behind_factor=0.1)
    p = plan(steps, 0.0, 95.0)
    assert (p.secondary, p.general, p.trunk) == (0, 1, None)
    assert "HOTLINE_WIDEN_TRUNK" not in p.variables()


def test_a_queue_may_have_its_own_steps() -> None:
    own = WideningSettings(secondary_after_seconds=0, general_after_seconds=8)
    s = Settings(queues=[QueueSettings(name="help", widening=own), QueueSettings(name="general")])
    assert s.widening_steps() == {"help": own, "general": s.acd.widening}


def test_rendered_steps_and_overflow_trunk(tmp_path: Path, asterisk_root: Path) -> None:
    root = asterisk_root
    settings = Settings(
        var_dir=tmp_path / "var",
        asterisk_root=root,
        acd=AcdSettings(
            widening=STEPS,
            overflow=OverflowTrunkSettings(address="192.0.2.7:5060", number="12345"),
        ),
        queues=[QueueSettings(name="help"), QueueSettings(name="general")],
    )
    render.render_all(settings)
    ext = (root / "etc/asterisk/extensions.conf").read_text()
    help_ = ext[ext.index("exten => help,1") : ext.index("exten => general,1")]
    assert "Set(HOTLINE_WIDEN_SECONDARY=5)" in help_ and "Set(HOTLINE_WIDEN_GENERAL=15)" in help_
    assert "Set(HOTLINE_WIDEN_TRUNK=40)" in help_
    assert help_.index("Set(QUEUE_MAX_PENALTY=0)") < help_.index("Step: secondary")
    assert help_.index("Step: secondary") < help_.index("Step: general")
    general = ext[ext.index("exten => general,1") : ext.index("[hotline-queue-keys]")]
    assert "Dial(PJSIP/carrier/sip:12345@192.0.2.7:5060,20,U(hotline-overflow-answered))" in general
    answered = ext[ext.index("[hotline-overflow-answered]") :]
    assert "exten => s,1,UserEvent(HotlineWiden,Step: trunk-answered" in answered
    assert general.index("Step: trunk,") < general.index("Dial(") < general.index("(wait)")
    # without an overflow trunk, no Dial in the queues at all
    render.render_all(settings.model_copy(update={"acd": AcdSettings()}))
    ext = (root / "etc/asterisk/extensions.conf").read_text()
    queues = ext[ext.index("[hotline-queues]") : ext.index("[hotline-queue-keys]")]
    assert "Dial(" not in queues and "HOTLINE_WIDEN_TRUNK=" not in queues


def test_back_in_the_same_queue_after_a_step_is_one_offered_call() -> None:
    s = stats()
    feed(
        s,
        join(T0, "w.1", "help"),
        leave(T0 + 5, "w.1", "help"),  # the secondary step: out and back at the same place
        join(T0 + 5, "w.1", "help"),
        leave(T0 + 15, "w.1", "help"),  # the general step
        join(T0 + 15, "w.1", "general"),
        answer(T0 + 18, "w.1", "general"),
    )
    help_ = s.snapshot("help", T0 + 20)["today"]
    assert (help_["offered"], help_["answered"], help_["left"]) == (1, 0, 1)
    general = s.snapshot("general", T0 + 20)["today"]
    assert (general["offered"], general["answered"], general["asa_seconds"]) == (1, 1, 18.0)
    total = s.snapshot(TOTAL, T0 + 20)["today"]
    assert (total["offered"], total["answered"], total["left"]) == (1, 1, 0)


def test_the_call_record_lists_each_step_taken_and_when() -> None:
    def ev(kind: str, at: float, **fields: str) -> dict[str, str]:
        return {
            "Event": kind,
            "Timestamp": f"{T0 + at:.6f}",
            "Linkedid": "w.2",
            "Uniqueid": "w.2",
            "CallerIDNum": "13800138009",
            **fields,
        }

    widen = "UserEvent"
    events = [
        ev("Newchannel", 0),
        ev("QueueCallerJoin", 10, Queue="hotline-help"),
        ev(widen, 15, UserEvent="HotlineWiden", Step="secondary", Queue="help", Pace="behind"),
        ev("QueueCallerJoin", 15, Queue="hotline-help"),
        ev(widen, 25, UserEvent="HotlineWiden", Step="general", Queue="help", Pace="behind"),
        ev("QueueCallerJoin", 25, Queue="hotline-general"),
        ev("AgentConnect", 27, Queue="hotline-general", MemberName="1002", HoldTime="17"),
        ev("Hangup", 40, Cause="16"),
    ]
    asm = CallAssembler()
    done = [c for c in (asm.feed(e) for e in events) if c is not None]
    assert len(done) == 1
    call = done[0]
    assert call.widening == "secondary@5,general@15"
    assert call.widening_pace == "behind"
    assert call.queues == ("help", "general") and call.agent == "1002"
    assert call.wait_seconds == 17.0


def test_a_call_the_other_centre_answered_is_overflowed_not_abandoned() -> None:
    def ev(kind: str, at: float, uid: str = "w.3", **fields: str) -> dict[str, str]:
        return {
            "Event": kind,
            "Timestamp": f"{T0 + at:.6f}",
            "Linkedid": "w.3",
            "Uniqueid": uid,
        } | fields

    asm = CallAssembler()
    events = [
        ev("Newchannel", 0, CallerIDNum="13800138010"),
        ev("QueueCallerJoin", 5, Queue="hotline-general"),
        ev(
            "UserEvent",
            45,
            UserEvent="HotlineWiden",
            Step="trunk",
            Queue="general",
            Pace="on-target",
        ),
        ev("Newchannel", 45, uid="w.4"),
        ev("UserEvent", 47, uid="w.4", UserEvent="HotlineWiden", Step="trunk-answered"),
        ev("Hangup", 80, uid="w.4", Cause="16"),
        ev("Hangup", 80, Cause="16"),
    ]
    done = [c for c in (asm.feed(e) for e in events) if c is not None]
    assert len(done) == 1
    assert done[0].disposition is Disposition.OVERFLOWED
    assert done[0].widening == "trunk@40,trunk-answered@42"
