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
from typing import Annotated, Any, ClassVar, Literal
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
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
    host: str = "127.0.0.1"
    port: int = Field(default=5060, ge=1, le=65535)
    hotline_number: str = Field(default="12345", pattern=r"^[0-9]{3,15}$")
    # Addresses the carrier's INVITEs come from (PJSIP identify match).
    trunk_match: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    rtp_start: int = Field(default=10000, ge=1024, le=65535)
    rtp_end: int = Field(default=20000, ge=1024, le=65535)
    realm: str = "hotline"


class AmiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "hotline"
    # Generated at install into var/secrets.env; never a default in git.
    secret: str = ""
    # Keep-alive: a Ping this often, and a connection that leaves it (or the login)
    # unanswered this long is dropped and opened again. A dead link, even one cut
    # without a close, is so noticed within ping_every + ping_timeout (10 s by default).
    ping_every_seconds: float = Field(default=5.0, gt=0, le=300)
    ping_timeout_seconds: float = Field(default=5.0, gt=0, le=300)


class BridgeSettings(Section):
    """The CRM bridge's backstop: Asterisk's own CDR compared with our call records."""

    reconcile_every_seconds: float = Field(default=300.0, gt=0, le=86400)
    # A CDR younger than this is left to the events (its call record may be on its way).
    reconcile_grace_seconds: float = Field(default=120.0, ge=0, le=86400)
    # How far back each scheduled comparison looks (`hotline bridge reconcile --since`
    # looks further).
    reconcile_lookback_hours: float = Field(default=24.0, gt=0, le=24 * 90)


class AgiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=1, le=65535)
    # Peers allowed to connect (Asterisk's address). Loopback by default.
    allowed_peers: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    call_timeout_seconds: float = Field(default=120.0, gt=0)
    header_timeout_seconds: float = Field(default=5.0, gt=0)


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8345, ge=1, le=65535)


class ServiceUrl(Section):
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    start_if_absent: bool = True


class WideningSettings(Section):
    """Keeping the 20-second promise (art. 25): who may answer widens as the wait grows.

    Seconds from the caller's first queue join. First only the agents most proficient in
    the request type (penalty 0), then every agent with the skill (secondary: proficiency
    1-4), then the general pool (every agent), then, when acd.overflow is configured, the
    overflow trunk to another centre.
    """

    secondary_after_seconds: int = Field(default=5, ge=0, le=600)
    general_after_seconds: int = Field(default=15, ge=1, le=3600)
    trunk_after_seconds: int | None = Field(default=None, ge=1, le=3600)
    # While the queue's live service level (last live.window_minutes, the regulation's
    # threshold) is below live.target_percent, every step comes this much sooner.
    behind_factor: float = Field(default=0.5, gt=0, le=1)

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

    endpoint: str = Field(default="carrier", pattern=r"^[A-Za-z0-9_.-]+$")  # PJSIP endpoint
    address: str = Field(pattern=r"^[A-Za-z0-9_.:\[\]-]+$")
    number: str = Field(default="12345", pattern=r"^[0-9+*#]{1,20}$")
    ring_seconds: int = Field(default=20, ge=5, le=120)


class QueueSettings(Section):
    name: str = Field(pattern=NAME_RE)
    title: str = ""
    # This queue's own widening steps; none: acd.widening.
    widening: WideningSettings | None = None
    # After-call work (wrap-up) before this queue offers the agent another call;
    # none: acd.wrapup_seconds.
    wrapup_seconds: int | None = Field(default=None, ge=0, le=3600)

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
    id: str = Field(pattern=AGENT_ID_RE)
    name: str = ""
    skills: list[str] = Field(default_factory=list)
    password: str | None = None
    contact: str | None = None

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

    # After-call work (话后处理) in seconds before an agent is offered the next call.
    wrapup_seconds: int = Field(default=15, ge=0, le=3600)
    widening: WideningSettings = Field(default_factory=WideningSettings)
    # Another centre for calls that wait too long (a queue's trunk_after_seconds).
    overflow: OverflowTrunkSettings | None = None


RecordingRole = Literal["agent", "supervisor", "auditor"]
# Who logs in to the API and pages (auth/roles.py says what each may do)
Role = Literal["agent", "supervisor", "unit_staff", "auditor", "admin"]


class AuthSettings(Section):
    """Logins, tokens and masking (auth/)."""

    # how long a login's token lasts: a shift and a bit
    token_hours: float = Field(default=12.0, gt=0, le=24 * 31)
    # failed logins in a row that lock a user, and for how long
    max_failed_logins: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # who sees citizens' full phone numbers in API answers (others: 139******01);
    # unit_staff only ever sees its own unit's orders
    full_number_roles: list[Role] = Field(
        default_factory=lambda: ["supervisor"]  # type: ignore[arg-type]
    )
    # the session cookie of the login page; true behind HTTPS
    cookie_secure: bool = False


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

    host: str = Field(pattern=HOST_RE)
    port: int = Field(default=5060, ge=1, le=65535)
    prefix: str = Field(default="", pattern=r"^[0-9*#+]{0,16}$")  # dialled before the line
    # citizen: the citizen's number goes to the operator (a call back reaches them);
    # hotline: the hotline number (carriers that refuse a foreign caller ID)
    caller_id: CallerIdPolicy | None = None  # none: emergency.caller_id
    endpoint: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]*$")  # none: emergency.endpoint


class EmergencyLine(Section):
    """One of 110/119/120/122; what is not given comes from the flat emergency settings."""

    destination: EmergencyTarget | None = None
    backup: EmergencyTarget | None = None  # tried when the destination fails
    ring_seconds: int | None = Field(default=None, ge=5, le=600)
    # DTMF an agent presses during a call to bring the line in (features.conf)
    feature_code: str | None = Field(default=None, pattern=r"^[0-9*#]{2,8}$")
    # Words that, heard during the voice menu, offer this line at once (speech/); none:
    # DEFAULT_KEYWORDS. Mandarin words are the model's words, spaced where it splits them.
    keywords: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = None


@dataclass(frozen=True)
class Dialling:
    """A destination resolved for the dialplan (asterisk/templates/extensions.conf.j2)."""

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

    endpoint: str = Field(default="carrier", pattern=r"^[A-Za-z0-9_.-]+$")  # PJSIP endpoint
    address: str = Field(default="127.0.0.1:5090", pattern=r"^[A-Za-z0-9_.:\[\]-]+$")
    ring_seconds: int = Field(default=60, ge=5, le=600)
    caller_id: CallerIdPolicy = "citizen"
    lines: dict[str, EmergencyLine] = Field(default_factory=dict)

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

    # The citizen is rung as sip:<number>@<address> through this PJSIP endpoint (the carrier).
    endpoint: str = Field(default="carrier", pattern=r"^[A-Za-z0-9_.-]+$")
    address: str = Field(default="127.0.0.1:5090", pattern=r"^[A-Za-z0-9_.:\[\]-]+$")
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_after_seconds: int = Field(default=300, ge=1, le=86400)
    ring_seconds: int = Field(default=30, ge=5, le=120)  # how long the citizen's phone rings
    # How long the kept place may wait for an agent before it is put back in line.
    hold_minutes: int = Field(default=240, ge=1, le=1440)


PHONE_RE = r"^\+?[0-9][0-9 -]{1,30}[0-9]$"


class DutyCallSettings(Section):
    """Calls to a unit's duty phone when an emergency (突发) order is dispatched (art. 25.2).

    The duty phone is tried `duty_attempts` times, then the unit's liaison, then each of
    `supervisors` (the hotline's supervisors on duty, 值班长); a unit's phones are on the
    unit (`hotline orders unit-phones`).
    """

    # A phone is rung as sip:<number>@<address> through this PJSIP endpoint (the carrier).
    endpoint: str = Field(default="carrier", pattern=r"^[A-Za-z0-9_.-]+$")
    address: str = Field(default="127.0.0.1:5090", pattern=r"^[A-Za-z0-9_.:\[\]-]+$")
    ring_seconds: int = Field(default=30, ge=3, le=120)
    duty_attempts: int = Field(default=2, ge=1, le=10)
    liaison_attempts: int = Field(default=2, ge=0, le=10)
    supervisor_attempts: int = Field(default=1, ge=0, le=10)
    supervisors: list[str] = Field(default_factory=list)
    # After an attempt that did not sign, the next one (same person or the next) this later.
    retry_after_seconds: int = Field(default=60, ge=1, le=3600)
    # The message and "press 1" are said this many times before the call counts as no key.
    key_rounds: int = Field(default=3, ge=1, le=10)
    key_wait_seconds: int = Field(default=5, ge=1, le=30)
    poll_seconds: float = Field(default=2.0, gt=0, le=60)
    # Emergency orders dispatched longer ago than this are not called (past their 24 h).
    pick_up_within_hours: int = Field(default=24, ge=1, le=168)

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

    # Position and estimated wait: on joining and then this often.
    announce_every_seconds: int = Field(default=30, ge=5, le=600)
    # Over this estimated wait, the caller is offered a callback (1) or a message (2).
    offer_over_seconds: int = Field(default=20, ge=0, le=3600)
    # Once the caller has waited offer_over_seconds, the offer is repeated this often.
    offer_every_seconds: int = Field(default=60, ge=10, le=3600)
    # Talk plus wrap-up time of a call, for the estimate until measured figures exist.
    average_handle_seconds: int = Field(default=300, ge=10, le=7200)
    message_max_seconds: int = Field(default=120, ge=10, le=600)
    callback: CallbackSettings = Field(default_factory=CallbackSettings)


class RecordingSettings(Section):
    # What MixMonitor writes (the spool); "raw" is set by stereo (MixMonitor D needs it).
    format: Literal["wav", "wav49", "gsm", "raw"] = "wav"
    # Citizen and agent on separate channels (quality review); needs a stereo archive format.
    stereo: bool = False
    # What the worker archives: gsm ~100 kB/min, wav ~960 kB/min, mp3/opus 16 kbit/s.
    archive_format: Literal["wav", "gsm", "mp3", "opus"] = "gsm"
    archive_dir: Path | None = None  # default var/recordings
    retention_years: int = 3
    # A recording shorter than its call by more than this is flagged truncated.
    truncation_tolerance_seconds: float = Field(default=2.0, ge=0)
    min_free_mb: int = Field(default=500, ge=1)
    # Inside the Asterisk root; recording moves there while the spool is short of space.
    secondary_dir: str = ""
    poll_seconds: float = Field(default=2.0, gt=0)
    disk_check_seconds: float = Field(default=5.0, gt=0)
    keep_spool: bool = False  # keep Asterisk's original after archiving
    # deprecated: auth.full_number_roles (roles listed here are added to it)
    full_number_roles: list[RecordingRole] = Field(default_factory=list)

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

    # Service level is reported at each threshold, seconds from queue join:
    # 15 s is GB/T 33358's, 20 s is the regulation's (art. 25).
    service_level_seconds: list[int] = Field(default_factory=lambda: [15, 20])
    # Below this share (%) of calls answered in time a queue shows an alarm.
    target_percent: float = Field(default=95.0, gt=0, le=100)
    window_minutes: int = Field(default=15, ge=1, le=240)
    publish_seconds: float = Field(default=1.0, gt=0, le=60)

    @field_validator("service_level_seconds")
    @classmethod
    def _thresholds(cls, v: list[int]) -> list[int]:
        if not 1 <= len(v) <= 4 or any(t < 1 for t in v) or len(set(v)) != len(v):
            raise ValueError("give 1 to 4 different thresholds in seconds, e.g. [15, 20]")
        return sorted(v)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class UpstreamSettings(Section):
    """Pushing call records and work orders to the regional platform (art. 5, 16)."""

    # POST endpoint of the platform, e.g. https://12345.gxzf.gov.cn/api/hotline/changes;
    # empty: nothing is recorded for pushing and the upstream service stays idle.
    url: str = ""
    # The shared HMAC secret. Never in this file: HOTLINE_UPSTREAM__SECRET, or generated
    # into var/secrets.env on first start (give it to the platform).
    secret: str = ""
    # A CA bundle (PEM) to verify the platform's certificate; none: the system's.
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Back-off after a failed attempt (5xx, timeout, no connection): doubles from
    # retry_first_seconds up to retry_cap_seconds, with jitter.
    retry_first_seconds: float = Field(default=1.0, gt=0)
    retry_cap_seconds: float = Field(default=300.0, gt=0)
    # After this many failed attempts a change goes to the dead-letter list; 0: never.
    max_attempts: int = Field(default=0, ge=0)
    batch: int = Field(default=100, ge=1, le=10_000)
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Delivered changes are kept this long (to look into), then deleted.
    keep_delivered_days: int = Field(default=7, ge=0)

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

    # Model directory (a Vosk model: am/, conf/, graph/, ivector/); default
    # var/speech/model, where `hotline speech install-model` puts it. Missing: speech off.
    model_dir: Path | None = None
    # Language of the model's phrase lists: zh for the Mandarin model, ko for the
    # Korean test model (tests only).
    language: str = Field(default="zh", pattern=r"^[a-z]{2}$")
    # The recognition service Asterisk streams caller audio to (AudioSocket over TCP).
    host: str = "127.0.0.1"
    port: int = Field(default=4575, ge=1, le=65535)
    # Recognisers running at once; 0: one per CPU core. Full pool: the key menu.
    pool_size: int = Field(default=0, ge=0, le=256)
    # A result below this confidence (0-1) falls back to the key menu.
    min_confidence: float = Field(default=0.6, ge=0, le=1)
    # Transcription (speech/transcribe.py): where `install-model` downloads the model from
    # (a local mirror is fine: every large file's SHA-256 is checked all the same), and
    # what the background worker turns into text: left messages, and whole call
    # recordings only when asked (they take a recogniser for as long as the call).
    model_url: str = "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip"
    transcribe_messages: bool = True
    transcribe_recordings: bool = False
    transcribe_poll_seconds: float = Field(default=5.0, gt=0)
    # --- speech navigation (agi/speech.py, speech/service.py) ---
    # After its prompt, how long the menu listens for a phrase before the key menu.
    listen_seconds: float = Field(default=4, gt=0, le=30)
    # How long the service waits for Asterisk's AudioSocket connection after the IVR asked.
    connect_seconds: float = Field(default=3, gt=0, le=30)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="forbid"
    )

    tenant: str = Field(default="nanning", pattern=NAME_RE)
    # This install's name in Redis keys (hotline:<namespace>:…) and MQTT topics
    # (hotline/<namespace>/…); empty: derived from the tenant and the var directory, so two
    # installs on one machine (two hotlines, a test run beside a hotline) never share state.
    namespace: str = Field(default="", pattern=r"^([a-z][a-z0-9_-]{0,47})?$")
    city_name: str = "南宁市"
    timezone: str = "Asia/Shanghai"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    asterisk_root: Path | None = None
    asterisk_suite: str = "forky"
    # bench/ only: also render the pure-dialplan reference flow on this number
    bench_reference: bool = False
    bench_reference_number: str = Field(default="12399", pattern=r"^[0-9]{3,15}$")
    debian_mirror: str = ""

    sip: SipSettings = Field(default_factory=SipSettings)
    ami: AmiSettings = Field(default_factory=AmiSettings)
    bridge: BridgeSettings = Field(default_factory=BridgeSettings)
    agi: AgiSettings = Field(default_factory=AgiSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    redis: ServiceUrl = Field(default_factory=lambda: ServiceUrl(port=6379))
    mqtt: ServiceUrl = Field(default_factory=lambda: ServiceUrl(port=1883))
    recordings: RecordingSettings = Field(default_factory=RecordingSettings)
    emergency: EmergencySettings = Field(default_factory=EmergencySettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    waiting: WaitingSettings = Field(default_factory=WaitingSettings)
    duty_calls: DutyCallSettings = Field(default_factory=DutyCallSettings)
    acd: AcdSettings = Field(default_factory=AcdSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    queues: list[QueueSettings] = Field(default_factory=lambda: list(DEFAULT_QUEUES))
    agents: list[AgentSettings] = Field(default_factory=list)

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
        # environment variables win over the file
        return (init_settings, env_settings, _YamlSource(settings_cls))

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


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML file's mapping, read by load_settings (below the environment)."""

    data: ClassVar[dict[str, Any]] = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


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
    _YamlSource.data = data
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc
    finally:
        _YamlSource.data = {}  # one load's file never leaks into a later Settings()
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
