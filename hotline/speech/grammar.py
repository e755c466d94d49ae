"""What the recogniser may hear at one menu, and what a result means.

The grammar is the menu's phrases (each for one key) and the emergency keywords (each for
one line), plus "[unk]" so that anything else is heard as unknown instead of forced onto
the nearest phrase. Words are matched with spaces removed: Mandarin phrases are written
as the model's words separated by spaces (着火 了) and heard back that way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

UNKNOWN = "[unk]"

Kind = Literal["key", "phrase", "keyword", "nothing", "unsure", "unavailable"]


@dataclass(frozen=True)
class Outcome:
    """How one listening ended. kind: a key pressed, a phrase heard (key: its menu key),
    an emergency keyword heard (line, word), nothing heard, a result under the threshold,
    or no recogniser to be had (reason)."""

    kind: Kind
    key: str = ""
    text: str = ""
    confidence: float | None = None
    line: str = ""
    word: str = ""
    reason: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("an outcome is a JSON object")
        return cls(**data)


def squash(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Grammar:
    phrases: dict[str, list[str]] = field(default_factory=dict)  # menu key -> phrases
    keywords: dict[str, list[str]] = field(default_factory=dict)  # line -> keywords

    def words(self) -> list[str]:
        out = [p for ps in self.phrases.values() for p in ps]
        out += [w for ws in self.keywords.values() for w in ws]
        return [*dict.fromkeys(out), UNKNOWN]

    def to_json(self) -> str:
        # Vosk reads the grammar's words literally: \uXXXX escapes are "missing in vocabulary"
        return json.dumps(self.words(), ensure_ascii=False)

    def interpret(self, result: dict[str, Any], min_confidence: float) -> Outcome:
        """A Vosk result ({"text": …, "result": [{"word", "conf"}, …]}) as an Outcome.

        A keyword wins over a phrase: a caller who says 着火 is offered 119 first."""
        words = [w for w in result.get("result", []) if w.get("word") != UNKNOWN]
        text = " ".join(str(w["word"]) for w in words)
        if not words:
            return Outcome("nothing", text=squash(str(result.get("text", ""))).replace(UNKNOWN, ""))
        confidence = round(sum(float(w.get("conf", 0.0)) for w in words) / len(words), 3)
        heard = squash(text)
        hit = self._keyword(heard)
        if hit is not None:
            line, word = hit
            if confidence >= min_confidence:
                return Outcome("keyword", text=text, confidence=confidence, line=line, word=word)
            return Outcome("unsure", text=text, confidence=confidence)
        for key, phrases in self.phrases.items():
            if any(squash(p) in heard for p in phrases):
                if confidence >= min_confidence:
                    return Outcome("phrase", key=key, text=text, confidence=confidence)
                return Outcome("unsure", text=text, confidence=confidence)
        return Outcome("nothing", text=text, confidence=confidence)

    def _keyword(self, heard: str) -> tuple[str, str] | None:
        for line, words in self.keywords.items():
            for word in words:
                if squash(word) in heard:
                    return line, word
        return None
