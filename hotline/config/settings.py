"""Typed settings: YAML file, then HOTLINE_* environment variables (which win).

A nested field is set from the environment with a double underscore, e.g.
HOTLINE_AMI__PORT=5039 or HOTLINE_API__HOST=0.0.0.0.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
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

from hotline.acd.settings import (
    DEFAULT_QUEUES,
    AcdSettings,
    AgentSettings,
    EmergencySettings,
    LiveSettings,
    QueueSettings,
    WaitingSettings,
    WideningSettings,
)
from hotline.agi.settings import AgiSettings
from hotline.asterisk.settings import AmiSettings, SipSettings
from hotline.auth.settings import AuthSettings
from hotline.crm_bridge.settings import BridgeSettings, UpstreamSettings
from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import (
    CONFIG_DIR,
    NAME_RE,
    PROJECT_ROOT,
    ApiSettings,
    DatabaseSettings,
    RuntimeSettings,
    ServiceUrl,
    skill_parts,
)
from hotline.recordings.settings import RecordingSettings
from hotline.speech.settings import SpeechSettings
from hotline.workorders.settings import DutyCallSettings

DEFAULT_CONFIG_FILE = CONFIG_DIR / "hotline.yaml"


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
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings,
        description="Timeouts of the database connections (`database_url` says which).",
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
    runtime: RuntimeSettings = Field(
        default_factory=RuntimeSettings,
        description="Keeping the services running (`hotline up`) and draining (`hotline down`).",
    )
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
