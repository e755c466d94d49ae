"""The flat main-menu format (one menu, keys -> queues; bench/ivr-bench.yaml uses it) and the
shared key and queue checks. The tree format of hotline/config/ivr.yaml is agi/tree.py."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import CONFIG_DIR
from hotline.workorders.deadlines import RequestType  # the one list of 12345 request types

DEFAULT_MENU_FILE = CONFIG_DIR / "ivr.yaml"

PHONE_KEYS = "0123456789*#"
# A sound name relative to Asterisk's sounds directory, without extension.
SOUND_RE = r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$"


def _known_queue(value: str, info: ValidationInfo) -> str:
    names = (info.context or {}).get("queue_names")
    if names is not None and value not in names:
        none = "(no queues configured in hotline/config/hotline.yaml)"
        allowed = ", ".join(sorted(names)) or none
        raise ValueError(f"unknown queue {value!r}; allowed: {allowed}")
    return value


def _key_as_text(value: Any) -> Any:
    # YAML reads an unquoted 1: as the number 1.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _phone_key(value: str) -> str:
    if len(value) != 1 or value not in PHONE_KEYS:
        raise ValueError(f"{value!r} is not a phone key; allowed: 0-9, *, #")
    return value


QueueName = Annotated[str, AfterValidator(_known_queue)]
PhoneKey = Annotated[str, BeforeValidator(_key_as_text), AfterValidator(_phone_key)]
SoundName = Annotated[str, Field(pattern=SOUND_RE)]


class MenuKey(BaseModel):
    """What one key of the main menu does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: QueueName
    request_type: RequestType | None = None
    emergency: bool = False


class Menu(BaseModel):
    """The main menu: prompts, timing and what each key does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    welcome_prompt: SoundName
    menu_prompt: SoundName
    invalid_prompt: SoundName
    transfer_prompt: SoundName
    menu_timeout_seconds: float = Field(default=5, gt=0, le=60)
    max_attempts: int = Field(default=3, ge=1, le=10)
    fallback_queue: QueueName = "general"
    keys: dict[PhoneKey, MenuKey] = Field(min_length=1)

    @property
    def escape_digits(self) -> str:
        """Every menu key, for barge-in during the welcome prompt."""
        return "".join(self.keys)

    @property
    def menu_timeout_ms(self) -> int:
        return round(self.menu_timeout_seconds * 1000)


def menu_file() -> Path:
    """hotline/config/ivr.yaml, or the file named by HOTLINE_IVR_FILE."""
    return Path(os.environ.get("HOTLINE_IVR_FILE", DEFAULT_MENU_FILE))


def load_menu(path: Path, queue_names: Iterable[str]) -> Menu:
    """Read and check the menu; ConfigError names the file, the place and what is allowed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = " (named by HOTLINE_IVR_FILE)" if "HOTLINE_IVR_FILE" in os.environ else ""
        raise ConfigError(f"{path}: the IVR menu file does not exist{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the IVR menu: {exc}") from exc
    loader = _UniqueKeyLoader(text)
    loader.name = str(path)  # YAML error marks then name the file
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping (welcome_prompt:, keys:, …)")
    try:
        return Menu.model_validate(data, context={"queue_names": frozenset(queue_names)})
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc


# Errors ---------------------------------------------------------------------
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _where(loc: Sequence[int | str]) -> str:
    """`keys."3".queue` from ("keys", "3", "queue")."""
    out = ""
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        # The menu has no lists: a number here is a key YAML read as a number.
        text = str(part)
        is_menu_key = i == 1 and loc[0] == "keys"
        out += ("." if out else "") + (
            text if _IDENT_RE.match(text) and not is_menu_key else f'"{text}"'
        )
    return out or "(top level)"


def _message(error: Any) -> str:
    loc = error["loc"]
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] == "extra_forbidden":
        model = MenuKey if loc and loc[0] == "keys" else Menu
        return f"unknown field; allowed: {', '.join(model.model_fields)}"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid IVR menu"]
    lines += [f"  {_where(e['loc'])}: {_message(e)}" for e in err.errors()]
    return "\n".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (YAML would keep the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"key {key!r} given twice",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
