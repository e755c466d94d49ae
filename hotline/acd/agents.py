"""Agents from hotline/config/hotline.yaml plus those added at run time (var/agents.yaml).

Passwords are never stored: a registering softphone is kept as its digest HA1
(md5 of id:realm:password), which is what PJSIP needs to authenticate it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hotline.acd.settings import AcdConfig, AgentSettings
from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import BEST_PROFICIENCY, skill_parts


@dataclass(frozen=True)
class Agent:
    id: str
    name: str = ""
    skills: tuple[str, ...] = ()
    ha1: str | None = None
    contact: str | None = None
    source: str = "config"
    qualify_seconds: int | None = None  # None: sip.agent_qualify_seconds
    queues: tuple[str, ...] = field(default=())

    def penalty(self, queue: str) -> int:
        """app_queue's penalty in `queue`: 5 - proficiency (0 for the best, and in general)."""
        for skill in self.skills:
            name, proficiency = skill_parts(skill)
            if name == queue:
                return BEST_PROFICIENCY - proficiency
        return 0


def ha1(agent_id: str, realm: str, password: str) -> str:
    # md5 is what SIP digest (RFC 2617) and PJSIP's md5_cred use; not our choice.
    return hashlib.md5(f"{agent_id}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def _store(settings: AcdConfig) -> Path:
    return settings.var_dir / "agents.yaml"


def _queues_for(skills: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*(skill_parts(s)[0] for s in skills), "general"]))


def _from_settings(a: AgentSettings, settings: AcdConfig, source: str) -> Agent:
    skills = tuple(a.skills)
    return Agent(
        id=a.id,
        name=a.name,
        skills=skills,
        ha1=ha1(a.id, settings.sip.realm, a.password) if a.password else None,
        contact=a.contact,
        source=source,
        queues=_queues_for(skills),
        qualify_seconds=a.qualify_seconds,
    )


def load_added(settings: AcdConfig) -> list[Agent]:
    path = _store(settings)
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of agents")
    out = []
    names = set(settings.queue_names())
    for i, row in enumerate(data):
        if not isinstance(row, dict) or "id" not in row:
            raise ConfigError(f"{path}: entry {i} must be a mapping with an 'id'")
        skills = tuple(row.get("skills") or ())
        unknown = [s for s in skills if skill_parts(s)[0] not in names]
        if unknown:
            raise ConfigError(f"{path}: agent {row['id']}: unknown skills {unknown}")
        out.append(
            Agent(
                id=str(row["id"]),
                name=str(row.get("name", "")),
                skills=skills,
                ha1=row.get("ha1"),
                contact=row.get("contact"),
                source="added",
                queues=_queues_for(skills),
                qualify_seconds=_qualify(row.get("qualify_seconds"), path, i),
            )
        )
    return out


def _qualify(value: object, path: Path, i: int) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3600:
        raise ConfigError(f"{path}: entry {i}: qualify_seconds must be 0-3600, not {value!r}")
    return value


def all_agents(settings: AcdConfig) -> list[Agent]:
    agents = {a.id: _from_settings(a, settings, "config") for a in settings.agents}
    for a in load_added(settings):
        agents[a.id] = a
    return list(agents.values())


def find(settings: AcdConfig, agent_id: str) -> Agent:
    for a in all_agents(settings):
        if a.id == agent_id:
            return a
    raise KeyError(agent_id)


def add(
    settings: AcdConfig,
    agent_id: str,
    *,
    name: str = "",
    password: str | None = None,
    contact: str | None = None,
    skills: list[str] | None = None,
    qualify_seconds: int | None = None,
) -> Agent:
    """Validate like a config entry, then keep it in var/agents.yaml (0600)."""
    a = AgentSettings(
        id=agent_id,
        name=name,
        password=password,
        contact=contact,
        skills=skills or [],
        qualify_seconds=qualify_seconds,
    )
    unknown = [s for s in a.skills if skill_parts(s)[0] not in settings.queue_names()]
    if unknown:
        raise ConfigError(
            f"agent {agent_id}: unknown skills {unknown}; allowed: {settings.queue_names()}"
        )
    rows = [r for r in _raw(settings) if str(r.get("id")) != agent_id]
    row: dict[str, object] = {"id": a.id, "name": a.name, "skills": list(a.skills)}
    if a.password:
        row["ha1"] = ha1(a.id, settings.sip.realm, a.password)
    else:
        row["contact"] = a.contact
    if a.qualify_seconds is not None:
        row["qualify_seconds"] = a.qualify_seconds
    rows.append(row)
    path = _store(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return find(settings, agent_id)


def _raw(settings: AcdConfig) -> list[dict[str, object]]:
    path = _store(settings)
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [r for r in data if isinstance(r, dict)]
