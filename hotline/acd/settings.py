"""The ACD's sections of the config: queues, agents, widening, overflow, the emergency lines,
waiting (callbacks, messages) and the live numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from hotline.kernel.names import (
    asterisk_queue,
)
from hotline.kernel.settings import (
    AGENT_ID_RE,
    EMERGENCY_LINES,
    HOST_RE,
    NAME_RE,
    SKILL_RE,
    Section,
)
from hotline.speech.settings import SpeechConfig

# Emergency keyword spotting in the voice menu (speech/): a word heard offers the line.
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "110": ("抢劫", "打人"),
    "119": ("着火", "火灾", "冒烟", "煤气"),
    "120": ("晕倒", "救命", "受伤"),
    "122": ("车祸", "撞车"),
}
CallerIdPolicy = Literal["citizen", "hotline"]


class WideningSettings(Section):
    """Keeping the 20-second promise (art. 25): who may answer widens as the wait grows.

    Seconds from the caller's first queue join. First only the agents most proficient in
    the request type (penalty 0), then every agent with the skill (secondary: proficiency
    1-4), then the general pool (every agent), then, when acd.overflow is configured, the
    overflow trunk to another centre.
    """

    secondary_after_seconds: int = Field(
        default=5,
        ge=0,
        le=600,
        description="Every agent with the skill (proficiency 1-4) may answer from this "
        "second on; 0: from the start.",
    )
    general_after_seconds: int = Field(
        default=15,
        ge=1,
        le=3600,
        description="The caller moves to the general queue (every agent), keeping their "
        "place; not before secondary_after_seconds.",
    )
    trunk_after_seconds: int | None = Field(
        default=None,
        ge=1,
        le=3600,
        description="The call is offered once to another centre over acd.overflow (after "
        "general_after_seconds); none: never.",
    )
    behind_factor: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="While the queue's live service level (last live.window_minutes, the "
        "regulation's threshold) is below live.target_percent, every step comes this much "
        "sooner (times this factor).",
    )

    @model_validator(mode="after")
    def _in_order(self) -> WideningSettings:
        if self.secondary_after_seconds > self.general_after_seconds:
            raise ValueError(
                "secondary_after_seconds must not be after general_after_seconds "
                f"({self.secondary_after_seconds} > {self.general_after_seconds})"
            )
        if self.trunk_after_seconds is not None and (
            self.trunk_after_seconds <= self.general_after_seconds
        ):
            raise ValueError(
                "trunk_after_seconds must come after general_after_seconds "
                f"({self.trunk_after_seconds} <= {self.general_after_seconds})"
            )
        return self


class OverflowTrunkSettings(Section):
    """Another centre that takes calls waiting too long: sip:<number>@<address>."""

    endpoint: str = Field(
        default="carrier",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PJSIP endpoint (trunk) the other centre is dialled through.",
    )
    address: str = Field(
        pattern=r"^[A-Za-z0-9_.:\[\]-]+$",
        description="host:port of the other centre (sip:<number>@<address>).",
    )
    number: str = Field(
        default="12345",
        pattern=r"^[0-9+*#]{1,20}$",
        description="The number dialled at the other centre.",
    )
    ring_seconds: int = Field(
        default=20,
        ge=5,
        le=120,
        description="How long the other centre may ring; no answer: back in the general "
        "queue at the same place.",
    )


class QueueSettings(Section):
    name: str = Field(
        pattern=NAME_RE,
        description="The queue's name (a request type, or general); app_queue's name is "
        "hotline-<name>.",
    )
    title: str = Field(
        default="", description="The Chinese title shown on the wallboard and agent page."
    )
    widening: WideningSettings | None = Field(
        default=None, description="This queue's own widening steps; none: acd.widening."
    )
    wrapup_seconds: int | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="After-call work (wrap-up) before this queue offers the agent another "
        "call; none: acd.wrapup_seconds.",
    )

    @property
    def asterisk_name(self) -> str:
        """app_queue's name ("general" is reserved in queues.conf)."""
        return asterisk_queue(self.name)


class AgentSettings(Section):
    id: str = Field(
        pattern=AGENT_ID_RE, description="The agent's id: also the SIP user of their phone."
    )
    name: str = Field(default="", description="The agent's name.")
    skills: list[str] = Field(
        default_factory=list,
        description="Queue names, each optionally with :1-5 for the proficiency (5 best, the "
        "default), e.g. complaint or complaint:3; every agent also serves general.",
    )
    password: str | None = Field(
        default=None,
        description="A softphone's password (it registers); only its digest HA1 is stored. "
        "Give this or contact.",
    )
    contact: str | None = Field(
        default=None,
        description="SIP URI of a desk phone at a fixed address (sip:1001@192.0.2.10:5060). "
        "Give this or password.",
    )
    qualify_seconds: int | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="How often this agent's phone is asked whether it is there (0: never); "
        "none: sip.agent_qualify_seconds.",
    )

    @field_validator("skills")
    @classmethod
    def _skill_syntax(cls, v: list[str]) -> list[str]:
        for skill in v:
            if not re.match(SKILL_RE, skill):
                raise ValueError(
                    f"skill {skill!r}: a queue name, optionally with :1-5 for the proficiency "
                    "(5 best, the default), e.g. complaint or complaint:3"
                )
        return v

    @model_validator(mode="after")
    def _one_way_to_reach(self) -> AgentSettings:
        if bool(self.password) == bool(self.contact):
            raise ValueError("give exactly one of 'password' (softphone) or 'contact' (desk phone)")
        if self.contact and not re.match(r"^sips?:[^\s]+$", self.contact):
            raise ValueError("contact must be a SIP URI such as sip:1001@192.0.2.10:5060")
        return self


class AcdSettings(Section):
    """Agents' states (the ACD issue): wrap-up after each call."""

    wrapup_seconds: int = Field(
        default=15,
        ge=0,
        le=3600,
        description="After-call work (话后处理) in seconds before an agent is offered the next "
        "call (queues.conf wrapuptime).",
    )
    ring_seconds: int = Field(
        default=15,
        ge=5,
        le=120,
        description="How long a queue call rings one agent before it is offered to the next "
        "(queues.conf timeout).",
    )
    no_answer_pause: bool = Field(
        default=True,
        description="An agent whose phone rang a queue call for ring_seconds without an answer "
        "is paused in every queue with the reason no_answer (未接), the supervisor gets an "
        "alarm (agent_no_answer), and the agent resumes with one action (RONA: queues.conf "
        "autopause). So a phone left logged in but unattended costs a caller one ring, once.",
    )
    widening: WideningSettings = Field(
        default_factory=WideningSettings,
        description="Every queue's widening steps, unless the queue has its own.",
    )
    overflow: OverflowTrunkSettings | None = Field(
        default=None,
        description="Another centre for calls that wait too long (a queue's "
        "trunk_after_seconds); none: no overflow trunk.",
    )


class EmergencyTarget(Section):
    """One SIP destination of an emergency line: sip:<prefix><line>@<host>:<port>."""

    host: str = Field(pattern=HOST_RE, description="The destination's SIP host.")
    port: int = Field(default=5060, ge=1, le=65535, description="The destination's SIP port.")
    prefix: str = Field(
        default="", pattern=r"^[0-9*#+]{0,16}$", description="Digits dialled before the line."
    )
    caller_id: CallerIdPolicy | None = Field(
        default=None,
        description="citizen: the citizen's number goes to the operator (a call back reaches "
        "them); hotline: the hotline number (carriers that refuse a foreign caller ID); "
        "none: emergency.caller_id.",
    )
    endpoint: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_.-]*$",
        description="PJSIP endpoint (trunk) to dial through; empty: emergency.endpoint.",
    )


class EmergencyLine(Section):
    """One of 110/119/120/122; what is not given comes from the flat emergency settings."""

    destination: EmergencyTarget | None = Field(
        default=None,
        description="Where the line is dialled; none: emergency.address.",
    )
    backup: EmergencyTarget | None = Field(
        default=None, description="Tried when the destination fails; none: no backup."
    )
    ring_seconds: int | None = Field(
        default=None,
        ge=5,
        le=600,
        description="How long each destination may ring; none: emergency.ring_seconds.",
    )
    feature_code: str | None = Field(
        default=None,
        pattern=r"^[0-9*#]{2,8}$",
        description="DTMF an agent presses during a call to bring the line in (features.conf); "
        "none: * and the line (*119).",
    )
    keywords: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None,
        description="Words that, heard during the voice menu, offer this line at once "
        "(speech/); none: the defaults (110: 抢劫 打人, 119: 着火 火灾 冒烟 煤气, 120: 晕倒 救命 "
        "受伤, 122: 车祸 撞车); []: no spotting for this line. Mandarin words are the model's "
        "words, spaced where it splits them.",
    )


@dataclass(frozen=True)
class Dialling:
    """A destination resolved for the dialplan (hotline/asterisk/templates/extensions.conf.j2)."""

    endpoint: str
    uri: str  # sip:<prefix><line>@<host>:<port>
    caller_id: CallerIdPolicy


@dataclass(frozen=True)
class ResolvedLine:
    line: str
    primary: Dialling
    backup: Dialling | None
    ring_seconds: int
    feature_code: str


class EmergencySettings(Section):
    """The emergency lines 110/119/120/122 (art. 14): where each is dialled, for the IVR's
    transfer and an agent's three-way call. The flat fields are every line's default."""

    endpoint: str = Field(
        default="carrier",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PJSIP endpoint (trunk) the lines are dialled through.",
    )
    address: str = Field(
        default="127.0.0.1:5090",
        pattern=r"^[A-Za-z0-9_.:\[\]-]+$",
        description="host:port of every line without a destination of its own "
        "(sip:<line>@<address>).",
    )
    ring_seconds: int = Field(
        default=60, ge=5, le=600, description="How long each destination may ring."
    )
    caller_id: CallerIdPolicy = Field(
        default="citizen",
        description="citizen: the operator sees the citizen's number; hotline: 12345.",
    )
    lines: dict[str, EmergencyLine] = Field(
        default_factory=dict,
        description='Per-line overrides, keyed by "110", "119", "120" or "122" (quote them '
        "in YAML).",
    )

    @field_validator("lines", mode="before")
    @classmethod
    def _known_lines(cls, v: Any) -> Any:
        if isinstance(v, dict):
            unknown = [str(k) for k in v if str(k) not in EMERGENCY_LINES]
            if unknown:
                raise ValueError(
                    f"unknown emergency lines {unknown}; allowed: {', '.join(EMERGENCY_LINES)}"
                    ' (quote them in YAML: "119":)'
                )
            return {str(k): val for k, val in v.items()}
        return v

    @model_validator(mode="after")
    def _codes_differ(self) -> EmergencySettings:
        codes = [self.resolve(line).feature_code for line in EMERGENCY_LINES]
        for a in codes:
            for b in codes:
                if a != b and b.startswith(a):
                    raise ValueError(
                        f"feature code {a!r} is the start of {b!r}: an agent could never "
                        "press the longer one; give codes where none begins another"
                    )
        if len(set(codes)) != len(codes):
            raise ValueError(f"two lines have the same feature code: {codes}")
        return self

    def _default_target(self) -> EmergencyTarget:
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit():
            return EmergencyTarget(host=self.address)
        return EmergencyTarget(host=host, port=int(port))

    def _dialling(self, line: str, t: EmergencyTarget) -> Dialling:
        return Dialling(
            endpoint=t.endpoint or self.endpoint,
            uri=f"sip:{t.prefix}{line}@{t.host}:{t.port}",
            caller_id=t.caller_id or self.caller_id,
        )

    def resolve(self, line: str) -> ResolvedLine:
        """Where and how one line is dialled, defaults filled in."""
        cfg = self.lines.get(line) or EmergencyLine()
        return ResolvedLine(
            line=line,
            primary=self._dialling(line, cfg.destination or self._default_target()),
            backup=self._dialling(line, cfg.backup) if cfg.backup else None,
            ring_seconds=cfg.ring_seconds or self.ring_seconds,
            feature_code=cfg.feature_code or f"*{line}",
        )

    def resolved(self) -> list[ResolvedLine]:
        return [self.resolve(line) for line in EMERGENCY_LINES]

    def keywords(self) -> dict[str, list[str]]:
        """Each line's spotting words, defaults filled in (an empty list turns a line off)."""
        out = {}
        for line in EMERGENCY_LINES:
            cfg = self.lines.get(line)
            words = cfg.keywords if cfg and cfg.keywords is not None else DEFAULT_KEYWORDS[line]
            out[line] = list(words)
        return out


class CallbackSettings(Section):
    """A caller who pressed 1 while waiting keeps their place and is called back."""

    endpoint: str = Field(
        default="carrier",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PJSIP endpoint (the carrier) the citizen is rung through.",
    )
    address: str = Field(
        default="127.0.0.1:5090",
        pattern=r"^[A-Za-z0-9_.:\[\]-]+$",
        description="The citizen is rung as sip:<number>@<address>.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts to reach the citizen before the callback is failed (and the "
        "callback_failed alarm is raised).",
    )
    retry_after_seconds: int = Field(
        default=300,
        ge=1,
        le=86400,
        description="After busy, no answer or the agent hanging up, the next attempt (at the "
        "head of the queue) this much later.",
    )
    ring_seconds: int = Field(
        default=30, ge=5, le=120, description="How long the citizen's phone rings."
    )
    hold_minutes: int = Field(
        default=240,
        ge=1,
        le=1440,
        description="How long the kept place may wait for an agent before it is put back in line.",
    )


class WaitingSettings(Section):
    """What a caller hears and may do while waiting for an agent (app_queue announcements)."""

    announce_every_seconds: int = Field(
        default=30,
        ge=5,
        le=600,
        description="The caller's place and estimated wait are said on joining and then this "
        "often.",
    )
    offer_over_seconds: int = Field(
        default=20,
        ge=0,
        le=3600,
        description="Over this estimated wait, the caller is offered a callback (1) or a "
        "message (2).",
    )
    offer_every_seconds: int = Field(
        default=60,
        ge=10,
        le=3600,
        description="Once the caller has waited offer_over_seconds, the offer is repeated "
        "this often.",
    )
    average_handle_seconds: int = Field(
        default=300,
        ge=10,
        le=7200,
        description="Talk plus wrap-up time of a call, for the wait estimate until measured "
        "figures exist.",
    )
    message_max_seconds: int = Field(
        default=120,
        ge=10,
        le=600,
        description="Longest message a caller may leave (key 2); # ends it sooner.",
    )
    callback: CallbackSettings = Field(
        default_factory=CallbackSettings,
        description="The callback that keeps the caller's place (key 1).",
    )


class LiveSettings(Section):
    """Live numbers and the wallboard (acd/live_stats.py)."""

    service_level_seconds: list[int] = Field(
        default_factory=lambda: [15, 20],
        description="Service level is reported at each threshold, seconds from the first "
        "queue join: 15 s is GB/T 33358's, 20 s is the regulation's (art. 25); 1 to 4 "
        "different values.",
    )
    target_percent: float = Field(
        default=95.0,
        gt=0,
        le=100,
        description="Below this share (%) of calls answered in time a queue shows an alarm "
        "(service_level_low) and widening comes sooner.",
    )
    window_minutes: int = Field(
        default=15,
        ge=1,
        le=240,
        description="The window of the window figures (today's run from local midnight).",
    )
    publish_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often the numbers are written to Redis, published on MQTT and sent "
        "to the wallboard's WebSocket.",
    )

    @field_validator("service_level_seconds")
    @classmethod
    def _thresholds(cls, v: list[int]) -> list[int]:
        if not 1 <= len(v) <= 4 or any(t < 1 for t in v) or len(set(v)) != len(v):
            raise ValueError("give 1 to 4 different thresholds in seconds, e.g. [15, 20]")
        return sorted(v)


DEFAULT_QUEUES = [
    QueueSettings(name="consultation", title="咨询"),
    QueueSettings(name="help", title="求助"),
    QueueSettings(name="complaint", title="投诉"),
    QueueSettings(name="report", title="举报"),
    QueueSettings(name="suggestion", title="建议/表扬"),
    QueueSettings(name="enterprise", title="企业诉求"),
    QueueSettings(name="zhuang", title="壮语服务"),
    QueueSettings(name="general", title="综合"),
]


class AcdConfig(SpeechConfig, Protocol):
    """What the ACD reads of the settings."""

    @property
    def acd(self) -> AcdSettings: ...
    @property
    def queues(self) -> Sequence[QueueSettings]: ...
    @property
    def agents(self) -> Sequence[AgentSettings]: ...
    @property
    def emergency(self) -> EmergencySettings: ...
    @property
    def waiting(self) -> WaitingSettings: ...
    @property
    def live(self) -> LiveSettings: ...
    def queue_names(self) -> list[str]: ...
    def widening_steps(self) -> dict[str, WideningSettings]: ...
    def wrapup_seconds(self, queue: str) -> int: ...
