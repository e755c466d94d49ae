"""The settings kernel: the base of every section, the checks they share, the paths of the
default config files, and what every service may read of the site (Site)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

# The checkout (var/ lives here by default); the default config files in hotline/config/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

# Who may hear recordings
RecordingRole = Literal["agent", "supervisor", "auditor"]
# Who logs in to the API and pages (auth/roles.py says what each may do)
Role = Literal["agent", "supervisor", "unit_staff", "auditor", "admin"]


NAME_RE = r"^[a-z][a-z0-9_]{0,31}$"


AGENT_ID_RE = r"^[A-Za-z0-9_.-]{1,32}$"


class Section(BaseModel):
    """A block of the config file: an unknown key is a typo, refused."""

    model_config = ConfigDict(extra="forbid")


class ApiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the HTTP API and pages bind to.")
    port: int = Field(default=8345, ge=1, le=65535, description="HTTP port of the API and pages.")


class RuntimeSettings(Section):
    """How `hotline up` keeps the services running, and how `hotline down` stops them."""

    drain_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="`hotline down` refuses new calls, then waits this long at most for the "
        "calls in progress to end before it stops Asterisk (`--now` does not wait).",
    )
    restart_max_seconds: float = Field(
        default=30,
        ge=1,
        le=600,
        description="A failed service is started again after 1 s, then 2, 4, … up to this; "
        "the delay starts over once it has run for a minute.",
    )
    watchdog_seconds: float = Field(
        default=30,
        ge=2,
        le=3600,
        description="A service whose event loop has not said it is alive for this long is "
        "killed and started again (stalled, not only dead).",
    )
    agi_watchdog_seconds: float = Field(
        default=5,
        ge=2,
        le=3600,
        description="The same for the FastAGI server, shorter: while it stalls, callers in "
        "the menu wait; once it is killed they go on to the general queue.",
    )
    start_timeout_seconds: float = Field(
        default=120,
        ge=5,
        le=3600,
        description="A service that has not said it is ready this long after it started is "
        "killed and started again.",
    )


class DatabaseSettings(Section):
    """How long the services wait on the database (the URL is `database_url`)."""

    connect_timeout_seconds: int = Field(
        default=3,
        ge=2,
        le=60,
        description="PostgreSQL: longest a new connection may take (libpq's connect_timeout, "
        "whole seconds, at least 2); a server that drops packets fails in this time instead "
        "of the system's two minutes.",
    )
    statement_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="PostgreSQL: the server cancels a statement of the services and the CLI's "
        "commands running longer (statement_timeout); 0: no limit. Migrations have none.",
    )
    dead_connection_seconds: int = Field(
        default=15,
        ge=5,
        le=600,
        description="PostgreSQL: an open connection whose server stopped answering (a "
        "network that drops packets) is given up after about this long (TCP keepalives and "
        "tcp_user_timeout), so that a thread waiting on it is freed.",
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="SQLite: how long a writer waits for another's lock before failing.",
    )


class ServiceUrl(Section):
    host: str = Field(default="127.0.0.1", description="The server's address.")
    port: int = Field(ge=1, le=65535, description="The server's port.")
    start_if_absent: bool = Field(
        default=True,
        description="`hotline up` starts a server of its own on this address when none "
        "answers (and `hotline down` stops only that one).",
    )


# A skill is a queue name, optionally with a proficiency 1-5 (5 best, the default):
# "complaint" or "complaint:3". app_queue offers a call to lower penalties first, and
# the penalty is 5 - proficiency, so among free agents the most proficient answers.
SKILL_RE = r"^[a-z][a-z0-9_]{0,31}(:[1-5])?$"


BEST_PROFICIENCY = 5


def skill_parts(skill: str) -> tuple[str, int]:
    """("complaint", 3) from "complaint:3"; a bare name is the best proficiency."""
    name, _, level = skill.partition(":")
    return name, int(level) if level else BEST_PROFICIENCY


EMERGENCY_LINES = ("110", "119", "120", "122")  # police, fire, ambulance, traffic (art. 14)


HOST_RE = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$"


PHONE_RE = r"^\+?[0-9][0-9 -]{1,30}[0-9]$"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Site(Protocol):
    """What every package may read of the settings: where this hotline runs and its shared
    services. Each package's settings.py names, on top of this, the sections it reads (its
    own, and those of the packages it calls); the root Settings (config/) satisfies all."""

    @property
    def tenant(self) -> str: ...
    @property
    def city_name(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def var_dir(self) -> Path: ...
    @property
    def run_dir(self) -> Path: ...
    @property
    def log_dir(self) -> Path: ...
    @property
    def root(self) -> Path: ...
    @property
    def db_url(self) -> str: ...
    @property
    def live_namespace(self) -> str: ...
    @property
    def redis(self) -> ServiceUrl: ...
    @property
    def mqtt(self) -> ServiceUrl: ...
    @property
    def api(self) -> ApiSettings: ...
