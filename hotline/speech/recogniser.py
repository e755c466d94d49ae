"""One caller's recogniser: Vosk restricted to a menu's grammar, fed 8 kHz audio."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hotline.speech.audiosocket import SAMPLE_RATE
from hotline.speech.grammar import UNKNOWN

if TYPE_CHECKING:
    import vosk


class Recogniser:
    def __init__(self, model: vosk.Model, grammar_json: str) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar_json)
        self._rec.SetWords(True)

    def accept(self, pcm: bytes) -> tuple[dict[str, Any] | None, bool]:
        """Feed audio: (a final result when an utterance ended, whether speech is under way)."""
        if self._rec.AcceptWaveform(pcm):
            return json.loads(self._rec.Result()), False
        partial = str(json.loads(self._rec.PartialResult()).get("partial", ""))
        return None, bool(partial.replace(UNKNOWN, "").strip())

    def final(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self._rec.FinalResult())
        return result
