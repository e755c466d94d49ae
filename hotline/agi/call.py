"""One call's walk through the IVR (Call) and how it leaves (Exit): the types that the walk,
the flows and the speech menus share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from hotline.agi.channel import AGIChannel
from hotline.agi.services import IvrServices
from hotline.agi.speech import SpeechClient
from hotline.agi.tree import IvrConfig, Tree
from hotline.asterisk.variables import RESULT_CHOSEN
from hotline.speech.grammar import Outcome


@dataclass(frozen=True)
class Exit:
    """How the call leaves the IVR."""

    kind: Literal["queue", "transfer", "hangup"]
    result: str = RESULT_CHOSEN
    queue: str = ""
    request_type: str = ""
    number: str = ""  # transfer
    emergency: bool = False


@dataclass
class Call:
    """One call's walk: the config it started on (a reload does not change it)."""

    agi: AGIChannel
    config: IvrConfig
    tree: Tree
    services: IvrServices
    keys: list[str] = field(default_factory=list)  # menu choices, in order
    failed: bool = False  # a menu ran out of attempts
    matter: str = ""  # the work order the caller looked up: their call is about it
    speech: SpeechClient | None = None  # None: no speech navigation (key menus only)
    heard: Outcome | None = None  # what speech navigation heard last
    open_orders: asyncio.Task[int] | None = None  # asked while the welcome plays (returning.py)

    def sound(self, prompt: str) -> str:
        return self.config.sound(prompt)

    async def play(self, prompt: str, escape: str = "") -> str | None:
        return await self.agi.stream_file(self.sound(prompt), escape)

    async def play_all(self, prompts: list[str], escape: str = "") -> str | None:
        """Fragments one after another; a key stops them and is returned."""
        for prompt in prompts:
            key = await self.play(prompt, escape)
            if key:
                return key
        return None

    @property
    def choice(self) -> str:
        return "".join(self.keys)[:8] if self.keys else "none"
