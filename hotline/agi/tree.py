"""The IVR as data (hotline/config/ivr.yaml): trees of nodes, sub-centres, checked at load.

Node kinds: play, menu (keys -> nodes), collect (digits), queue, transfer,
hangup (after a message) and subflow (a Python flow of agi/, e.g. progress).
A mistake is refused with the file, the path in the tree and what is allowed.
The older flat menu format (one menu, keys -> queues; bench/ uses it) still loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hotline.agi.menu import Menu as FlatMenu
from hotline.agi.menu import PhoneKey, QueueName, _UniqueKeyLoader, load_menu
from hotline.kernel.errors import ConfigError
from hotline.workorders.deadlines import RequestType

NODE_RE = r"^[a-z][a-z0-9_]{0,39}$"
PROMPT_RE = r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$"
SOUND_EXTENSIONS = ("wav", "gsm", "ulaw", "alaw", "sln", "g722")
# The Python flows a subflow node may name, with the prompt fragments each needs.
FLOW_PROMPTS: dict[str, tuple[str, ...]] = {
    "progress": (
        "progress-enter",
        "progress-code",
        "progress-not-found",
        "progress-order",
        "progress-status",
        "progress-unit",
        "progress-due",
        "progress-end",
        "year",
        "month",
        "day",
        "num-10",
        *(f"digit-{d}" for d in range(10)),
        *(
            f"status-{s}"
            for s in (
                "draft",
                "accepted",
                "dispatched",
                "signed",
                "returned",
                "coordinating",
                "replied",
                "closed",
            )
        ),
    ),
    "returning_caller": (
        "returning-before",
        "returning-after",
        "num-10",
        *(f"digit-{d}" for d in range(10)),
    ),
}

# The emergency lines a spotted keyword offers (prompt speech-offer-<line>).
SPEECH_OFFER_LINES = ("110", "119", "120", "122")

NodeName = Annotated[str, Field(pattern=NODE_RE)]
PromptName = Annotated[str, Field(pattern=PROMPT_RE)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlayNode(_Node):
    """Play a message, then go on; a key pressed during it goes to the next menu."""

    kind: Literal["play"]
    prompt: PromptName
    next: NodeName


Phrase = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\[\],\n|]+$")]


class SpeechMenu(_Node):
    """Speech navigation at a menu (agi/speech.py): the prompt asks the caller to say what
    they need; a phrase heard with enough confidence acts as its key; keys work meanwhile;
    the key menu follows on silence, a low confidence or no recogniser. Phrases are words
    of the speech model (Mandarin: the model's words, spaced where it splits them)."""

    prompt: PromptName = "speech-menu"
    phrases: dict[PhoneKey, list[Phrase]] = Field(min_length=1)
    # None: settings.speech.listen_seconds
    listen_seconds: float | None = Field(default=None, gt=0, le=30)
    # spot the emergency lines' keywords (emergency.lines.*.keywords) here too
    keywords: bool = True

    @model_validator(mode="after")
    def _each_phrase_once(self) -> SpeechMenu:
        seen: dict[str, str] = {}
        for key, phrases in self.phrases.items():
            if not phrases:
                raise ValueError(f"phrases for key {key!r} is empty")
            for phrase in phrases:
                squashed = "".join(phrase.split())
                if squashed in seen:
                    raise ValueError(
                        f"phrase {phrase!r} given for key {seen[squashed]!r} and {key!r}"
                    )
                seen[squashed] = key
        return self


class MenuNode(_Node):
    """Play the menu and wait for one key; invalid or no key repeats, then on_failure."""

    kind: Literal["menu"]
    prompt: PromptName
    keys: dict[PhoneKey, NodeName] = Field(min_length=1)
    repeat_key: PhoneKey | None = None
    invalid_prompt: PromptName = "invalid"
    timeout_seconds: float = Field(default=5, gt=0, le=60)
    max_attempts: int = Field(default=3, ge=1, le=10)
    # None: the tree's fallback queue (an agent) after the last failed attempt
    on_failure: NodeName | None = None
    speech: SpeechMenu | None = None  # speech navigation before the key menu

    @model_validator(mode="before")
    @classmethod
    def _keys_once(cls, data: Any) -> Any:
        # YAML keeps 1 and "1" apart; they are the same phone key.
        if isinstance(data, dict) and isinstance(data.get("keys"), dict):
            seen: set[str] = set()
            for key in data["keys"]:
                text = str(key)
                if text in seen:
                    raise ValueError(f"key {text!r} used twice in keys")
                seen.add(text)
            repeat = data.get("repeat_key")
            if repeat is not None and str(repeat) in seen:
                raise ValueError(f"key {str(repeat)!r} used twice: in keys and as repeat_key")
            speech = data.get("speech")
            if isinstance(speech, dict) and isinstance(speech.get("phrases"), dict):
                unknown = [str(k) for k in speech["phrases"] if str(k) not in seen]
                if unknown:
                    raise ValueError(
                        f"speech.phrases for keys {unknown} that are not in keys; "
                        f"allowed: {', '.join(sorted(seen))}"
                    )
        return data

    @property
    def timeout_ms(self) -> int:
        return round(self.timeout_seconds * 1000)

    @property
    def escape_digits(self) -> str:
        return "".join(self.keys) + (self.repeat_key or "")


class CollectNode(_Node):
    """Collect digits (ended by #) into the channel variable HOTLINE_COLLECT_<variable>."""

    kind: Literal["collect"]
    prompt: PromptName
    variable: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,30}$")
    max_digits: int = Field(default=20, ge=1, le=40)
    timeout_seconds: float = Field(default=8, gt=0, le=60)
    next: NodeName


class QueueNode(_Node):
    """Leave the IVR for an agents' queue. require_skill: only when someone is logged in."""

    kind: Literal["queue"]
    queue: QueueName
    request_type: RequestType | None = None
    require_skill: bool = False
    unavailable_prompt: PromptName | None = None
    emergency: bool = False  # the flat format's "*" key


class TransferNode(_Node):
    """Transfer to an outside number (the emergency lines) over the emergency trunk."""

    kind: Literal["transfer"]
    number: str = Field(pattern=r"^[0-9]{3,15}$")
    emergency: bool = True
    prompt: PromptName | None = None


class HangupNode(_Node):
    """Play a message, then hang up (result: what the call record says)."""

    kind: Literal["hangup"]
    prompt: PromptName
    result: str = Field(default="message", pattern=r"^[a-z][a-z0-9-]{0,31}$")


class SubflowNode(_Node):
    """Run a Python flow of agi/ (e.g. progress); then go on to next."""

    kind: Literal["subflow"]
    flow: Literal["progress", "returning_caller"]
    next: NodeName


Node = Annotated[
    PlayNode | MenuNode | CollectNode | QueueNode | TransferNode | HangupNode | SubflowNode,
    Field(discriminator="kind"),
]
EXITS = (QueueNode, TransferNode, HangupNode)


class Tree(BaseModel):
    """One caller-facing tree: the main hotline or a sub-centre."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: NodeName
    nodes: dict[NodeName, Node] = Field(min_length=1)
    fallback_queue: QueueName = "general"
    transfer_prompt: PromptName = "transfer"
    # where a blocked caller who presses * goes (emergency lines are never blocked)
    emergency_node: NodeName | None = None

    def node(self, name: str) -> Node:
        return self.nodes[name]

    def next_menu(self, name: str) -> MenuNode | None:
        """The menu reached from `name` through plays and subflows (for barge-in)."""
        seen: set[str] = set()
        while name not in seen and name in self.nodes:
            seen.add(name)
            node = self.nodes[name]
            if isinstance(node, MenuNode):
                return node
            if isinstance(node, PlayNode | SubflowNode):
                name = node.next
            else:
                return None
        return None

    def next_menu_name(self, name: str) -> str | None:
        seen: set[str] = set()
        while name not in seen and name in self.nodes:
            seen.add(name)
            node = self.nodes[name]
            if isinstance(node, MenuNode):
                return name
            if isinstance(node, PlayNode | SubflowNode):
                name = node.next
            else:
                return None
        return None


class Centre(BaseModel):
    """A number the carrier delivers and the tree that answers it (art. 4 sub-centres)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(pattern=r"^[0-9]{3,15}$")
    tree: NodeName
    name: str = ""


class IvrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # prompts are sound names under <sounds>/<prompt_dir>/ ("" for full names)
    prompt_dir: str = Field(default="hotline", pattern=r"^$|" + PROMPT_RE)
    blocked_prompt: PromptName = "blocked"
    # asked when the agent hangs up first (None: no survey)
    survey_prompt: PromptName | None = "survey"
    survey_thanks_prompt: PromptName | None = "survey-thanks"
    survey_attempts: int = Field(default=2, ge=1, le=5)  # the prompt, then a key's wait
    survey_timeout_seconds: float = Field(default=6.0, gt=0, le=30)  # each attempt's wait
    default_tree: NodeName = "main"
    centres: list[Centre] = Field(default_factory=list)
    trees: dict[NodeName, Tree] = Field(min_length=1)

    def sound(self, prompt: str) -> str:
        return f"{self.prompt_dir}/{prompt}" if self.prompt_dir else prompt

    def tree_for(self, dialled: str) -> tuple[str, Tree]:
        """The tree of a sub-centre's number; any other number gets the default tree."""
        for centre in self.centres:
            if centre.number == dialled:
                return centre.tree, self.trees[centre.tree]
        return self.default_tree, self.trees[self.default_tree]

    def prompts(self) -> Iterator[tuple[str, str]]:
        """Every prompt the config uses: (path in the file, prompt name)."""
        yield "blocked_prompt", self.blocked_prompt
        if self.survey_prompt:
            yield "survey_prompt", self.survey_prompt
        if self.survey_thanks_prompt:
            yield "survey_thanks_prompt", self.survey_thanks_prompt
        for tname, tree in self.trees.items():
            yield f"trees.{tname}.transfer_prompt", tree.transfer_prompt
            for nname, node in tree.nodes.items():
                where = f"trees.{tname}.nodes.{nname}"
                for field in ("prompt", "invalid_prompt", "unavailable_prompt"):
                    value = getattr(node, field, None)
                    if value:
                        yield f"{where}.{field}", value
                if isinstance(node, MenuNode) and node.speech is not None:
                    yield f"{where}.speech.prompt", node.speech.prompt
                    if node.speech.keywords:
                        for line in SPEECH_OFFER_LINES:
                            yield f"{where}.speech (keyword offers)", f"speech-offer-{line}"
                if isinstance(node, SubflowNode):
                    for fragment in FLOW_PROMPTS[node.flow]:
                        yield f"{where}.flow ({node.flow} needs it)", fragment


# Loading ---------------------------------------------------------------------
def load_ivr(path: Path, queue_names: Iterable[str], sounds_dir: Path | None = None) -> IvrConfig:
    """Read and check the IVR file. sounds_dir: Asterisk's sounds directory, to check
    that every prompt has a sound file (None skips that check)."""
    data = _read_yaml(path)
    queues = frozenset(queue_names)
    if "trees" not in data:
        return _from_flat(path, data, queues, sounds_dir)
    try:
        config = IvrConfig.model_validate(data, context={"queue_names": queues})
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc
    problems = list(check(config, sounds_dir))
    if problems:
        raise ConfigError("\n".join([f"{path}: invalid IVR", *(f"  {p}" for p in problems)]))
    return config


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: the IVR menu file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the IVR menu: {exc}") from exc
    loader = _UniqueKeyLoader(text)
    loader.name = str(path)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping (prompt_dir:, trees:, …)")
    return data


def _from_flat(
    path: Path, data: dict[str, Any], queues: frozenset[str], sounds_dir: Path | None
) -> IvrConfig:
    del data  # load_menu reads and checks it again, with its own messages
    menu: FlatMenu = load_menu(path, queues)
    nodes: dict[str, Any] = {
        "welcome": PlayNode(kind="play", prompt=menu.welcome_prompt, next="menu"),
        "menu": MenuNode(
            kind="menu",
            prompt=menu.menu_prompt,
            invalid_prompt=menu.invalid_prompt,
            timeout_seconds=menu.menu_timeout_seconds,
            max_attempts=menu.max_attempts,
            keys={k: f"key_{_key_name(k)}" for k in menu.keys},
        ),
    }
    for k, entry in menu.keys.items():
        nodes[f"key_{_key_name(k)}"] = QueueNode(
            kind="queue",
            queue=entry.queue,
            request_type=entry.request_type,
            emergency=entry.emergency,
        )
    tree = Tree(
        start="welcome",
        nodes=nodes,
        fallback_queue=menu.fallback_queue,
        transfer_prompt=menu.transfer_prompt,
    )
    config = IvrConfig(
        prompt_dir="",
        blocked_prompt=menu.transfer_prompt,
        survey_prompt=None,
        survey_thanks_prompt=None,
        trees={"main": tree},
    )
    problems = [p for p in check(config, sounds_dir)]
    if problems:
        raise ConfigError("\n".join([f"{path}: invalid IVR", *(f"  {p}" for p in problems)]))
    return config


def _key_name(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


# Checks beyond the types -----------------------------------------------------------
def check(config: IvrConfig, sounds_dir: Path | None) -> Iterator[str]:
    """Unknown nodes, loops without exit, missing prompt files: one line each."""
    trees = sorted(config.trees)
    if config.default_tree not in config.trees:
        yield f"default_tree: unknown tree {config.default_tree!r}; allowed: {', '.join(trees)}"
    numbers: set[str] = set()
    for i, centre in enumerate(config.centres):
        if centre.tree not in config.trees:
            yield f"centres[{i}].tree: unknown tree {centre.tree!r}; allowed: {', '.join(trees)}"
        if centre.number in numbers:
            yield f"centres[{i}].number: {centre.number} used twice"
        numbers.add(centre.number)
    for tname, tree in config.trees.items():
        yield from _check_tree(f"trees.{tname}", tree)
    if sounds_dir is not None:
        yield from _check_prompts(config, sounds_dir)


def _refs(name: str, node: Any) -> Iterator[tuple[str, str]]:
    """(path below the node, node name) for every reference a node makes."""
    if isinstance(node, PlayNode | CollectNode | SubflowNode):
        yield "next", node.next
    if isinstance(node, MenuNode):
        for key, target in node.keys.items():
            yield f'keys."{key}"', target
        if node.on_failure:
            yield "on_failure", node.on_failure


def _check_tree(where: str, tree: Tree) -> Iterator[str]:
    names = sorted(tree.nodes)
    allowed = f"allowed: {', '.join(names)}"
    if tree.start not in tree.nodes:
        yield f"{where}.start: unknown node {tree.start!r}; {allowed}"
    if tree.emergency_node and tree.emergency_node not in tree.nodes:
        yield f"{where}.emergency_node: unknown node {tree.emergency_node!r}; {allowed}"
    broken = False
    for nname, node in tree.nodes.items():
        for sub, target in _refs(nname, node):
            if target not in tree.nodes:
                broken = True
                yield f"{where}.nodes.{nname}.{sub}: unknown node {target!r}; {allowed}"
        if isinstance(node, MenuNode) and node.on_failure:
            failure = tree.nodes.get(node.on_failure)
            if failure is not None and not isinstance(failure, QueueNode | HangupNode):
                yield (
                    f"{where}.nodes.{nname}.on_failure: {node.on_failure!r} is a "
                    f"{failure.kind} node; allowed: a queue or hangup node"
                )
    if broken:
        return
    yield from _loops(where, tree)


def _loops(where: str, tree: Tree) -> Iterator[str]:
    """A loop of plays/collects that never reaches a menu, queue, transfer or hangup."""
    # A menu always has an exit (its failure goes to an agent); so has a subflow.
    good = {n for n, node in tree.nodes.items() if not isinstance(node, PlayNode | CollectNode)}
    changed = True
    while changed:
        changed = False
        for n, node in tree.nodes.items():
            if n not in good and isinstance(node, PlayNode | CollectNode) and node.next in good:
                good.add(n)
                changed = True
    reported: set[str] = set()
    for n in sorted(tree.nodes):
        if n in good or n in reported:
            continue
        path, cur = [n], tree.nodes[n]
        while isinstance(cur, PlayNode | CollectNode) and cur.next not in path:
            path.append(cur.next)
            cur = tree.nodes[cur.next]
        loop = path[path.index(cur.next) :] if isinstance(cur, PlayNode | CollectNode) else path
        reported.update(loop)
        yield (
            f"{where}.nodes.{loop[0]}: loop without exit: {' -> '.join([*loop, loop[0]])}; "
            "a loop must pass through a menu or subflow, or end in a queue, transfer or hangup"
        )


def _check_prompts(config: IvrConfig, sounds_dir: Path) -> Iterator[str]:
    missing: dict[str, list[str]] = {}
    for where, prompt in config.prompts():
        sound = config.sound(prompt)
        if not any((sounds_dir / f"{sound}.{ext}").exists() for ext in SOUND_EXTENSIONS):
            missing.setdefault(prompt, []).append(where)
    for prompt, places in missing.items():
        yield (
            f"{places[0]}: missing prompt file {sounds_dir / config.sound(prompt)}.wav "
            f"(add '{prompt}' to hotline/config/prompts.yaml and run `hotline prompts`, "
            "or record it)"
            + (f"; also used by {len(places) - 1} other place(s)" if len(places) > 1 else "")
        )


_KINDS = {"play", "menu", "collect", "queue", "transfer", "hangup", "subflow"}
_MODELS: dict[str, type[BaseModel]] = {
    "play": PlayNode,
    "menu": MenuNode,
    "collect": CollectNode,
    "queue": QueueNode,
    "transfer": TransferNode,
    "hangup": HangupNode,
    "subflow": SubflowNode,
}


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid IVR"]
    for e in err.errors():
        loc = list(e["loc"])
        model: type[BaseModel] = IvrConfig
        if len(loc) >= 2 and loc[0] == "trees":
            model = Tree
        if len(loc) >= 5 and loc[2] == "nodes" and loc[4] in _KINDS:
            model = _MODELS[str(loc.pop(4))]  # the kind pydantic adds to the place
        elif len(loc) >= 2 and loc[0] == "centres":
            model = Centre
        where = ""
        for i, part in enumerate(loc):
            if part == "[key]":
                continue
            if isinstance(part, int) and not (i > 0 and loc[i - 1] == "keys"):
                where += f"[{part}]"
            elif i > 0 and loc[i - 1] == "keys":
                where += f'."{part}"'
            else:
                where += ("." if where else "") + str(part)
        if e["type"] == "value_error":
            message = str(e["ctx"]["error"])
        elif e["type"] == "extra_forbidden":
            message = f"unknown field; allowed: {', '.join(model.model_fields)}"
        elif e["type"] == "missing":
            message = "required field is missing"
        elif e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            message = f"unknown or missing node kind; allowed kinds: {', '.join(sorted(_KINDS))}"
        else:
            message = str(e["msg"])
        lines.append(f"  {where or '(top level)'}: {message}")
    return "\n".join(lines)
