"""Typed settings: YAML file, then HOTLINE_* environment variables (which win).

A nested field is set from the environment with a double underscore, e.g.
HOTLINE_AMI__PORT=5039 or HOTLINE_API__HOST=0.0.0.0.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Light names (config/names.py), re-exported: `from config.settings import ConfigError` works
from hotline.config.names import QUEUE_PREFIX as QUEUE_PREFIX
from hotline.config.names import RECORDING_ROLES as RECORDING_ROLES
from hotline.config.names import ROLES as ROLES
from hotline.config.names import ConfigError as ConfigError
from hotline.config.names import asterisk_queue as asterisk_queue
from hotline.config.names import queue_from_asterisk as queue_from_asterisk

# The checkout (var/ lives here by default); the default config files sit beside this module.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = CONFIG_DIR / "hotline.yaml"

NAME_RE = r"^[a-z][a-z0-9_]{0,31}$"
AGENT_ID_RE = r"^[A-Za-z0-9_.-]{1,32}$"


class Section(BaseModel):
    """A block of the config file: an unknown key is a typo, refused."""

    model_config = ConfigDict(extra="forbid")


class SipSettings(Section):
    host: str = Field(
        default="127.0.0.1",
        description="Address Asterisk's PJSIP transports (UDP and TCP) bind to; 0.0.0.0 to "
        "take calls and softphones from the LAN.",
    )
    port: int = Field(default=5060, ge=1, le=65535, description="SIP port (UDP and TCP).")
    hotline_number: str = Field(
        default="12345",
        pattern=r"^[0-9]{3,15}$",
        description="The number citizens dial; `hotline call` calls it.",
    )
    trunk_match: list[str] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Addresses the carrier's INVITEs come from (PJSIP identify match).",
    )
    rtp_start: int = Field(
        default=10000, ge=1024, le=65535, description="First RTP (audio) port (rtp.conf)."
    )
    rtp_end: int = Field(
        default=20000, ge=1024, le=65535, description="Last RTP (audio) port (rtp.conf)."
    )
    realm: str = Field(
        default="hotline",
        description="SIP digest realm of the softphones' registrations; the stored HA1 of "
        "each agent's password is computed with it.",
    )


class AmiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Where Asterisk's AMI listens.")
    port: int = Field(default=5038, ge=1, le=65535, description="AMI port.")
    username: str = Field(
        default="hotline",
        description="The services' least-privilege AMI user (manager.conf).",
    )
    secret: str = Field(
        default="",
        description="The AMI user's secret: generated at install into var/secrets.env "
        "(HOTLINE_AMI__SECRET); never a default in git.",
    )
    ping_every_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Keep-alive: each AMI connection sends its own Ping this often.",
    )
    ping_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="A connection that leaves a Ping (or the login) unanswered this long is "
        "dropped and opened again: a dead link, even one cut without a close, is noticed "
        "within ping_every_seconds + ping_timeout_seconds (10 s by default).",
    )


class BridgeSettings(Section):
    """The CRM bridge's backstop: Asterisk's own CDR compared with our call records."""

    reconcile_every_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How often the bridge compares Asterisk's CDR with the call records.",
    )
    reconcile_grace_seconds: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="A CDR younger than this is left to the events (its call record may be "
        "on its way).",
    )
    reconcile_lookback_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 90,
        description="How far back each scheduled comparison looks (never before the bridge's "
        "journal first ran; `hotline bridge reconcile --since` looks further).",
    )


class AgiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the FastAGI server binds to.")
    port: int = Field(default=4573, ge=1, le=65535, description="FastAGI port.")
    allowed_peers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Peers allowed to connect (Asterisk's address); any other is refused. "
        "Loopback by default.",
    )
    call_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Longest a route may run for one call; then it is cut off and the "
        "dialplan sees AGISTATUS=FAILURE (the call goes on to the general queue).",
    )
    header_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Time a new connection has to send its whole AGI header block; a peer "
        "that sends half a header or nothing is dropped.",
    )


class ApiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the HTTP API and pages bind to.")
    port: int = Field(default=8345, ge=1, le=65535, description="HTTP port of the API and pages.")


class ServiceUrl(Section):
    host: str = Field(default="127.0.0.1", description="The server's address.")
    port: int = Field(ge=1, le=65535, description="The server's port.")
    start_if_absent: bool = Field(
        default=True,
        description="`hotline up` starts a server of its own on this address when none "
        "answers (and `hotline down` stops only that one).",
    )


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


# A skill is a queue name, optionally with a proficiency 1-5 (5 best, the default):
# "complaint" or "complaint:3". app_queue offers a call to lower penalties first, and
# the penalty is 5 - proficiency, so among free agents the most proficient answers.
SKILL_RE = r"^[a-z][a-z0-9_]{0,31}(:[1-5])?$"
BEST_PROFICIENCY = 5


def skill_parts(skill: str) -> tuple[str, int]:
    """("complaint", 3) from "complaint:3"; a bare name is the best proficiency."""
    name, _, level = skill.partition(":")
    return name, int(level) if level else BEST_PROFICIENCY


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
    widening: WideningSettings = Field(
        default_factory=WideningSettings,
        description="Every queue's widening steps, unless the queue has its own.",
    )
    overflow: OverflowTrunkSettings | None = Field(
        default=None,
        description="Another centre for calls that wait too long (a queue's "
        "trunk_after_seconds); none: no overflow trunk.",
    )


RecordingRole = Literal["agent", "supervisor", "auditor"]
# Who logs in to the API and pages (auth/roles.py says what each may do)
Role = Literal["agent", "supervisor", "unit_staff", "auditor", "admin"]


class AuthSettings(Section):
    """Logins, tokens and masking (auth/)."""

    token_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 31,
        description="How long a login's token lasts: a shift and a bit.",
    )
    max_failed_logins: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row that lock a user."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, le=24 * 60, description="How long such a lock lasts."
    )
    full_number_roles: list[Role] = Field(
        default_factory=lambda: ["supervisor"],  # type: ignore[arg-type]
        description="Who sees citizens' full phone numbers in API answers (others: "
        "139******01); unit_staff only ever sees its own unit's orders.",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Set the Secure flag of the login page's session cookie; true behind HTTPS.",
    )


EMERGENCY_LINES = ("110", "119", "120", "122")  # police, fire, ambulance, traffic (art. 14)
# Emergency keyword spotting in the voice menu (speech/): a word heard offers the line.
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "110": ("抢劫", "打人"),
    "119": ("着火", "火灾", "冒烟", "煤气"),
    "120": ("晕倒", "救命", "受伤"),
    "122": ("车祸", "撞车"),
}
CallerIdPolicy = Literal["citizen", "hotline"]
HOST_RE = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$"


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


PHONE_RE = r"^\+?[0-9][0-9 -]{1,30}[0-9]$"


class DutyCallSettings(Section):
    """Calls to a unit's duty phone when an emergency (突发) order is dispatched (art. 25.2).

    The duty phone is tried `duty_attempts` times, then the unit's liaison, then each of
    `supervisors` (the hotline's supervisors on duty, 值班长); a unit's phones are on the
    unit (`hotline orders unit-phones`).
    """

    endpoint: str = Field(
        default="carrier",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PJSIP endpoint (the carrier) the phones are rung through.",
    )
    address: str = Field(
        default="127.0.0.1:5090",
        pattern=r"^[A-Za-z0-9_.:\[\]-]+$",
        description="A phone is rung as sip:<number>@<address>.",
    )
    ring_seconds: int = Field(default=30, ge=3, le=120, description="How long each attempt rings.")
    duty_attempts: int = Field(
        default=2, ge=1, le=10, description="Attempts on the unit's duty phone (值班电话)."
    )
    liaison_attempts: int = Field(
        default=2, ge=0, le=10, description="Then attempts on the unit's liaison (联络员)."
    )
    supervisor_attempts: int = Field(
        default=1, ge=0, le=10, description="Then attempts on each of supervisors."
    )
    supervisors: list[str] = Field(
        default_factory=list,
        description="Phones of the hotline's supervisors on duty (值班长), called last; they "
        "acknowledge, they cannot sign for the unit.",
    )
    retry_after_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="After an attempt that did not sign, the next one (same person or the "
        "next) this much later.",
    )
    key_rounds: int = Field(
        default=3,
        ge=1,
        le=10,
        description='The message and "press 1" are said this many times before the call '
        "counts as no key.",
    )
    key_wait_seconds: int = Field(
        default=5, ge=1, le=30, description="Wait for the key after each round."
    )
    poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How often the duty service looks for newly dispatched emergency orders.",
    )
    pick_up_within_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="Emergency orders dispatched longer ago than this are not called (past "
        "their 24 h).",
    )

    @field_validator("supervisors")
    @classmethod
    def _numbers(cls, v: list[str]) -> list[str]:
        for number in v:
            if not re.match(PHONE_RE, number):
                raise ValueError(
                    f"supervisors: {number!r} is not a phone number (digits, - and spaces)"
                )
        return v


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


class RecordingSettings(Section):
    format: Literal["wav", "wav49", "gsm", "raw"] = Field(
        default="wav",
        description='What MixMonitor writes (the spool); "raw" is set by stereo (MixMonitor D '
        "needs it).",
    )
    stereo: bool = Field(
        default=False,
        description="Citizen and agent on separate channels (quality review); needs a stereo "
        "archive format (wav, mp3 or opus).",
    )
    archive_format: Literal["wav", "gsm", "mp3", "opus"] = Field(
        default="gsm",
        description="What the worker archives: gsm ~100 kB/min, wav ~960 kB/min, mp3/opus "
        "16 kbit/s.",
    )
    archive_dir: Path | None = Field(
        default=None, description="Where archives are kept; none: var/recordings."
    )
    retention_years: int = Field(
        default=3,
        description="Years a recording is kept, counted from the call; less than 3 is "
        "refused (regulation art. 28).",
    )
    truncation_tolerance_seconds: float = Field(
        default=2.0,
        ge=0,
        description="A recording shorter than its call by more than this is flagged "
        "truncated; raise it for carriers that suppress silence on both sides.",
    )
    min_free_mb: int = Field(
        default=500,
        ge=1,
        description="Free space below this where recordings are written or kept raises "
        "disk_low and marks recordings down in `hotline status`.",
    )
    secondary_dir: str = Field(
        default="",
        description="Absolute path inside the Asterisk root; recording moves there while the "
        "spool is short of space. Empty: none.",
    )
    poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the worker looks for pending recordings."
    )
    disk_check_seconds: float = Field(
        default=5.0, gt=0, description="How often the worker checks free space."
    )
    keep_spool: bool = Field(default=False, description="Keep Asterisk's original after archiving.")
    full_number_roles: list[RecordingRole] = Field(
        default_factory=list,
        description="Deprecated: auth.full_number_roles (roles listed here are added to it).",
    )

    @field_validator("retention_years")
    @classmethod
    def _three_years_at_least(cls, v: int) -> int:
        if v < 3:
            raise ValueError(
                f"recordings must be kept at least 3 years (regulation art. 28); got {v}"
            )
        return v

    @model_validator(mode="after")
    def _stereo_capture(self) -> RecordingSettings:
        if self.stereo:
            if self.archive_format == "gsm":
                raise ValueError("stereo needs archive_format wav, mp3 or opus (GSM is mono)")
            self.format = "raw"
        elif self.format == "raw":
            raise ValueError("format 'raw' is only for stereo: set stereo: true instead")
        if self.secondary_dir and not self.secondary_dir.startswith("/"):
            raise ValueError("secondary_dir must be an absolute path inside the Asterisk root")
        return self


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


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class UpstreamSettings(Section):
    """Pushing call records and work orders to the regional platform (art. 5, 16)."""

    url: str = Field(
        default="",
        description="POST endpoint of the platform, e.g. "
        "https://12345.gxzf.gov.cn/api/hotline/changes (plain http only to loopback); empty: "
        "nothing is recorded for pushing and the upstream service stays idle.",
    )
    secret: str = Field(
        default="",
        description="The shared HMAC secret. Never in the config file: "
        "HOTLINE_UPSTREAM__SECRET, or generated into var/secrets.env on first start (give it "
        "to the platform).",
    )
    ca_file: Path | None = Field(
        default=None,
        description="A CA bundle (PEM) to verify the platform's certificate; none: the system's.",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Per request to the platform."
    )
    retry_first_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Back-off after a failed attempt (5xx, timeout, no connection): doubles "
        "from this up to retry_cap_seconds, with jitter.",
    )
    retry_cap_seconds: float = Field(
        default=300.0,
        gt=0,
        description="The longest back-off; at least retry_first_seconds.",
    )
    max_attempts: int = Field(
        default=0,
        ge=0,
        description="After this many failed attempts a change goes to the dead-letter list; "
        "0: never.",
    )
    batch: int = Field(
        default=100, ge=1, le=10_000, description="Changes sent per pass over the outbox."
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the outbox is read."
    )
    keep_delivered_days: int = Field(
        default=7,
        ge=0,
        description="Delivered changes are kept this long (to look into), then deleted.",
    )

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v:
            return v
        parts = urlsplit(v)
        host = parts.hostname or ""
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(f"give the platform's https:// URL, e.g. https://host/path; got {v!r}")
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"plain http is allowed only to loopback (a test receiver); use https for {host}"
            )
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"CA file {v} does not exist (a PEM bundle to verify the platform)")
        return v

    @model_validator(mode="after")
    def _cap_over_first(self) -> UpstreamSettings:
        if self.retry_cap_seconds < self.retry_first_seconds:
            raise ValueError("retry_cap_seconds must be at least retry_first_seconds")
        return self


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


class SpeechSettings(Section):
    """Speech recognition with Vosk, offline on the hotline's own machines (speech/)."""

    model_dir: Path | None = Field(
        default=None,
        description="Model directory (a Vosk model: am/, conf/, graph/, ivector/); none: "
        "var/speech/model, where `hotline speech install-model` puts it. Missing: speech off.",
    )
    language: str = Field(
        default="zh",
        pattern=r"^[a-z]{2}$",
        description="Language of the model's phrase lists: zh for the Mandarin model, ko for "
        "the Korean test model (tests only).",
    )
    host: str = Field(
        default="127.0.0.1",
        description="The recognition service Asterisk streams caller audio to (AudioSocket "
        "over TCP).",
    )
    port: int = Field(default=4575, ge=1, le=65535, description="The recognition service's port.")
    pool_size: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Recognisers running at once; 0: one per CPU core. Full pool: the key menu.",
    )
    min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A result below this confidence (0-1) falls back to the key menu.",
    )
    model_url: str = Field(
        default="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        description="Where `hotline speech install-model` downloads the model from (a local "
        "mirror is fine: every large file's SHA-256 is checked all the same).",
    )
    transcribe_messages: bool = Field(
        default=True,
        description="The transcripts service (speech/transcribe.py) turns left messages into "
        "text on their work order.",
    )
    transcribe_recordings: bool = Field(
        default=False,
        description="Also whole call recordings, at low priority (each takes a recogniser for "
        "as long as the call).",
    )
    transcribe_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the transcripts service looks for new recordings.",
    )
    listen_seconds: float = Field(
        default=4,
        gt=0,
        le=30,
        description="Speech navigation (agi/speech.py, speech/server.py): after its prompt, "
        "how long the menu listens for a phrase before the key menu.",
    )
    connect_seconds: float = Field(
        default=3,
        gt=0,
        le=30,
        description="How long the service waits for Asterisk's AudioSocket connection after "
        "the IVR asked.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid"
    )

    tenant: str = Field(
        default="nanning",
        pattern=NAME_RE,
        description="This hotline's name: on every call record, in the upstream idempotency "
        "keys, and the start of the default namespace.",
    )
    namespace: str = Field(
        default="",
        pattern=r"^([a-z][a-z0-9_-]{0,47})?$",
        description="This install's name in Redis keys (hotline:<namespace>:…) and MQTT topics "
        "(hotline/<namespace>/…); empty: <tenant>-<6 hex digits of the var directory's path>, "
        "so two installs on one machine (two hotlines, a test run beside a hotline) never "
        "share state.",
    )
    city_name: str = Field(
        default="南宁市",
        description="The city the welcome prompt names (art. 4); also on the wallboard and "
        "agent page.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Local time zone: working days and deadlines, today's figures (reset at "
        "local midnight), recording folders, times shown.",
    )
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Runtime state: database, logs, pids, secrets, the Asterisk root link "
        "(HOTLINE_VAR_DIR).",
    )
    database_url: str = Field(
        default="",
        description="e.g. postgresql://user@host/db; empty: SQLite <var_dir>/hotline.db.",
    )
    asterisk_root: Path | None = Field(
        default=None,
        description="Use an existing Asterisk root (or / for the host's Asterisk); none: "
        "<var_dir>/asterisk-root, linked to the cached root `hotline asterisk install` builds.",
    )
    asterisk_suite: str = Field(
        default="forky",
        description="The Debian suite debootstrap builds the Asterisk root from (sid is the "
        "fallback).",
    )
    bench_reference: bool = Field(
        default=False,
        description="bench/ only: also render the pure-dialplan reference flows "
        "(HOTLINE_BENCH_REFERENCE=true).",
    )
    bench_reference_number: str = Field(
        default="12399",
        pattern=r"^[0-9]{3,15}$",
        description="bench/ only: the number of the pure-dialplan reference flow.",
    )
    debian_mirror: str = Field(
        default="",
        description="Debian mirror for debootstrap; empty: the mirror apt already uses.",
    )

    sip: SipSettings = Field(
        default_factory=SipSettings,
        description="Asterisk's SIP side: where it listens, the hotline number, the carrier.",
    )
    ami: AmiSettings = Field(
        default_factory=AmiSettings, description="Asterisk's manager interface (AMI)."
    )
    bridge: BridgeSettings = Field(
        default_factory=BridgeSettings,
        description="The CRM bridge's backstop against Asterisk's CDR.",
    )
    agi: AgiSettings = Field(default_factory=AgiSettings, description="The FastAGI server.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The HTTP API and pages.")
    redis: ServiceUrl = Field(
        default_factory=lambda: ServiceUrl(port=6379),
        description="Redis (agents' states, live numbers).",
    )
    mqtt: ServiceUrl = Field(
        default_factory=lambda: ServiceUrl(port=1883),
        description="The MQTT broker (Mosquitto): live numbers, agents' states, alarms.",
    )
    recordings: RecordingSettings = Field(
        default_factory=RecordingSettings,
        description="Recording, archiving, retention and the disk guard.",
    )
    emergency: EmergencySettings = Field(
        default_factory=EmergencySettings,
        description="The emergency lines 110/119/120/122.",
    )
    live: LiveSettings = Field(
        default_factory=LiveSettings, description="Live numbers and the wallboard."
    )
    waiting: WaitingSettings = Field(
        default_factory=WaitingSettings,
        description="Waiting in a queue: announcements, the callback and message offer.",
    )
    duty_calls: DutyCallSettings = Field(
        default_factory=DutyCallSettings,
        description="Emergency orders phoned to their unit.",
    )
    acd: AcdSettings = Field(
        default_factory=AcdSettings, description="Agents: wrap-up, widening, overflow."
    )
    upstream: UpstreamSettings = Field(
        default_factory=UpstreamSettings,
        description="The push to the regional platform.",
    )
    speech: SpeechSettings = Field(
        default_factory=SpeechSettings,
        description="Speech navigation and transcripts (Vosk).",
    )
    auth: AuthSettings = Field(
        default_factory=AuthSettings, description="Logins, tokens and masking."
    )
    queues: list[QueueSettings] = Field(
        default_factory=lambda: list(DEFAULT_QUEUES),
        description="The queues, one per request type, and general (required: the fallback "
        "of every call).",
    )
    agents: list[AgentSettings] = Field(
        default_factory=list,
        description="Agents of the config file (`hotline agent add` adds others into "
        "var/agents.yaml).",
    )

    @field_validator("queues")
    @classmethod
    def _general_queue_exists(cls, v: list[QueueSettings]) -> list[QueueSettings]:
        names = [q.name for q in v]
        if v and "general" not in names:
            raise ValueError("a queue named 'general' is required (the fallback of every call)")
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"queue names must be unique; repeated: {sorted(dup)}")
        return v

    @model_validator(mode="after")
    def _skills_are_queues(self) -> Settings:
        names = {q.name for q in self.queues}
        for agent in self.agents:
            unknown = [s for s in agent.skills if skill_parts(s)[0] not in names]
            if unknown:
                raise ValueError(
                    f"agent {agent.id}: unknown skills {unknown}; allowed: {sorted(names)}"
                )
        return self

    @model_validator(mode="after")
    def _trunk_needs_overflow(self) -> Settings:
        if self.acd.overflow is None:
            for name, steps in self.widening_steps().items():
                if steps.trunk_after_seconds is not None:
                    where = "acd.widening" if steps is self.acd.widening else f"queue {name}"
                    raise ValueError(
                        f"{where}: trunk_after_seconds needs acd.overflow (endpoint, address)"
                    )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings reads the file and the environment itself (the environment wins)
        return (init_settings, env_settings)

    @property
    def live_namespace(self) -> str:
        """`namespace`, else `<tenant>-<6 hex digits of the var directory's absolute path>`."""
        if self.namespace:
            return self.namespace
        digest = hashlib.sha256(str(self.var_dir.resolve()).encode()).hexdigest()[:6]
        return f"{self.tenant}-{digest}"

    # Derived paths -------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def root(self) -> Path:
        """The Asterisk root (a debootstrapped Debian, or / for a host Asterisk)."""
        return self.asterisk_root or (self.var_dir / "asterisk-root")

    @property
    def recordings_dir(self) -> Path:
        """Where Asterisk writes recordings, as seen from inside its root."""
        return Path("/var/spool/asterisk/monitor/hotline")

    @property
    def recordings_archive_dir(self) -> Path:
        """Where the worker keeps archived recordings (3 years at least)."""
        return self.recordings.archive_dir or (self.var_dir / "recordings")

    @property
    def speech_model_dir(self) -> Path:
        return self.speech.model_dir or (self.var_dir / "speech" / "model")

    @property
    def cdr_file(self) -> Path:
        """Asterisk's own CDR (cdr_sqlite3_custom.conf), as seen from outside its root."""
        return self.root / "var/log/asterisk/hotline-cdr.db"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'hotline.db'}"

    def queue_names(self) -> list[str]:
        return [q.name for q in self.queues]

    def widening_steps(self) -> dict[str, WideningSettings]:
        """Each queue's widening steps (its own, else acd.widening)."""
        return {q.name: q.widening or self.acd.widening for q in self.queues}

    def wrapup_seconds(self, queue: str) -> int:
        """The wrap-up of a queue (its own, else acd.wrapup_seconds); 0 for an unknown one."""
        for q in self.queues:
            if q.name == queue:
                return self.acd.wrapup_seconds if q.wrapup_seconds is None else q.wrapup_seconds
        return 0


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, mapping by mapping (an environment variable for one option
    of a section leaves the file's other options of that section as they are)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def config_file() -> Path:
    return Path(os.environ.get("HOTLINE_CONFIG_FILE", DEFAULT_CONFIG_FILE))


def _secrets(var_dir: Path) -> dict[str, str]:
    """var/secrets.env holds generated secrets (AMI, agents) outside git."""
    path = var_dir / "secrets.env"
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The settings block a location points into (for the fields it allows)."""
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:  # a list index or a mapping's key (an emergency line)
            continue
        found = [
            t
            for t in (field.annotation, *getattr(field.annotation, "__args__", ()))
            for t in (t, *getattr(t, "__args__", ()))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not found:
            return None
        model = found[0]
    return model


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden" and (model := _model_at(e["loc"][:-1])) is not None:
            msg += f"; allowed: {', '.join(model.model_fields)}"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_file()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings")
        data = loaded or {}
    elif "HOTLINE_CONFIG_FILE" in os.environ:
        raise ConfigError(f"{path}: HOTLINE_CONFIG_FILE names a file that does not exist")
    upstream = data.get("upstream")
    if isinstance(upstream, dict) and upstream.get("secret"):
        raise ConfigError(
            f"{path}: invalid configuration\n  upstream.secret: never in the file (it may be "
            "in git); set HOTLINE_UPSTREAM__SECRET or let the hotline generate it into "
            "var/secrets.env"
        )
    # this load's own sources: the file, then the environment on top (nothing kept between
    # loads); model_validate, since Settings() would read the environment a second time
    values = _merged(data, EnvSettingsSource(Settings)())
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc
    if not settings.ami.secret:
        secret = os.environ.get("HOTLINE_AMI__SECRET") or _secrets(settings.var_dir).get(
            "HOTLINE_AMI__SECRET", ""
        )
        settings.ami.secret = secret
    if not settings.upstream.secret:
        settings.upstream.secret = os.environ.get("HOTLINE_UPSTREAM__SECRET") or _secrets(
            settings.var_dir
        ).get("HOTLINE_UPSTREAM__SECRET", "")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
