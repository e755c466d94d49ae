"""The rule figures of the work-order lifecycle, from hotline/config/workorders.yaml.

Every figure defaults to the regulation's value; the file only overrides. Mistakes
are refused with a ConfigError naming the file, the field and what is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import CONFIG_DIR
from hotline.workorders.deadlines import RequestType

DEFAULT_RULES_FILE = CONFIG_DIR / "workorders.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HandlingDays(_Section):
    consultation: int = Field(default=2, ge=1)  # 咨询
    help: int = Field(default=3, ge=1)  # 求助
    suggestion: int = Field(default=5, ge=1)  # 建议
    complaint: int = Field(default=10, ge=1)  # 投诉
    report: int = Field(default=10, ge=1)  # 举报

    def for_type(self, request_type: RequestType) -> int | None:
        """None for praise (表扬): no handling deadline."""
        if request_type is RequestType.PRAISE:
            return None
        return int(getattr(self, request_type.value))


class EmergencyRules(_Section):
    sign_within_minutes: int = Field(default=30, ge=1)
    close_within_hours: int = Field(default=24, ge=1)
    return_within_minutes: int = Field(default=30, ge=1)


class SupervisionRules(_Section):
    warning_before_hours: float = Field(default=24, gt=0)
    red_after_overdue_working_days: int = Field(default=3, ge=1)
    red_after_yellow_cards: int = Field(default=3, ge=2)


class Weights(_Section):
    on_time_signing: float = Field(default=15, ge=0)
    on_time_closing: float = Field(default=30, ge=0)
    returns: float = Field(default=10, ge=0)
    extensions: float = Field(default=10, ge=0)
    satisfaction: float = Field(default=30, ge=0)
    knowledge: float = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _hundred(self) -> Weights:
        total = sum(self.model_dump().values())
        if abs(total - 100) > 1e-9:
            raise ValueError(f"the weights must add up to 100 (a 100-point score), not {total:g}")
        return self


class AssessmentRules(_Section):
    year_starts: str = Field(default="12-01", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    appeal_working_days: int = Field(default=7, ge=1)
    weights: Weights = Field(default_factory=Weights)

    @property
    def start_month_day(self) -> tuple[int, int]:
        month, day = self.year_starts.split("-")
        return int(month), int(day)

    @field_validator("year_starts")
    @classmethod
    def _no_leap_day(cls, v: str) -> str:
        if v == "02-29" or int(v[3:]) > 28:
            raise ValueError("the assessment year must start on a day 01..28 of a month")
        return v


class AnalysisRules(_Section):
    rising_ratio: float = Field(default=1.5, gt=1)
    rising_min_count: int = Field(default=3, ge=1)


class SmsRules(_Section):
    sink: Literal["file", "http"] = "file"
    file: str = "sms/outbox.jsonl"
    url: str = ""
    timeout_seconds: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _url_for_http(self) -> SmsRules:
        if self.sink == "http" and not self.url.startswith(("http://", "https://")):
            raise ValueError("sink 'http' needs url: http://host:port/path")
        return self


class RevisitRules(_Section):
    # Dial() target for the citizen through the carrier trunk; {number} is the
    # citizen's number (digits only). Set the carrier's address here.
    citizen_dial: str = "PJSIP/carrier/sip:{number}@127.0.0.1:5080"
    ring_seconds: int = Field(default=30, ge=5)
    agent_answer_seconds: int = Field(default=30, ge=5)
    max_talk_seconds: int = Field(default=0, ge=0)  # 0: no limit
    caller_id_number: str = Field(default="12345", pattern=r"^[0-9]{3,20}$")
    caller_id_name: str = Field(default="12345 回访", pattern=r'^[^"<>\r\n]*$')

    @field_validator("citizen_dial")
    @classmethod
    def _has_number(cls, v: str) -> str:
        if "{number}" not in v or not v.startswith(("PJSIP/", "Local/")):
            raise ValueError("citizen_dial must start with PJSIP/ (or Local/) and contain {number}")
        return v


class WorkOrderRules(_Section):
    handling_days: HandlingDays = Field(default_factory=HandlingDays)
    chairman_mailbox_days: int = Field(default=3, ge=1)
    dispatch_within_hours: float = Field(default=24, gt=0)
    sign_within_working_days: int = Field(default=1, ge=1)
    return_within_working_days: int = Field(default=1, ge=1)
    extension_max_ratio: float = Field(default=1.0, gt=0)
    emergency: EmergencyRules = Field(default_factory=EmergencyRules)
    satisfaction_timeout_hours: float = Field(default=24, gt=0)
    knowledge_answer_working_days: int = Field(default=3, ge=1)
    supervision: SupervisionRules = Field(default_factory=SupervisionRules)
    assessment: AssessmentRules = Field(default_factory=AssessmentRules)
    analysis: AnalysisRules = Field(default_factory=AnalysisRules)
    sms: SmsRules = Field(default_factory=SmsRules)
    revisit: RevisitRules = Field(default_factory=RevisitRules)


def rules_file() -> Path:
    return Path(os.environ.get("HOTLINE_WORKORDERS_FILE", DEFAULT_RULES_FILE))


def load_rules(path: Path | None = None) -> WorkOrderRules:
    """Read the rule figures; a missing default file means all defaults."""
    explicit = path is not None or "HOTLINE_WORKORDERS_FILE" in os.environ
    path = path or rules_file()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: work-order rules file does not exist")
        return WorkOrderRules()
    try:
        loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if loaded is None:
        return WorkOrderRules()
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of rule figures")
    try:
        return WorkOrderRules.model_validate(loaded)
    except ValidationError as exc:
        lines = [f"{path}: invalid work-order rules"]
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                msg = f"unknown field; allowed: {_allowed(e['loc'])}"
            lines.append(f"  {where}: {msg}")
        raise ConfigError("\n".join(lines)) from exc


def _allowed(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = WorkOrderRules
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return ", ".join(model.model_fields)
