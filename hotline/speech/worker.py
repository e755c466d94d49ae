"""Speech's long-running services (`hotline up`, or alone `hotline serve speech|transcripts`):

- `SpeechService`, the `speech` service (speech/server.py): the AudioSocket recognition
  server the IVR asks while a caller speaks in the voice menu;
- `TranscriptionWorker`, the `transcripts` service (speech/transcribe.py): archived
  messages (and, when enabled, call recordings) into text on their work order.

Each lives in its module with what is its alone (the AudioSocket sessions; free-form
recognition, which `hotline speech transcribe` also uses); this module names them, for
the supervisor.
"""

from __future__ import annotations

from hotline.speech.server import SpeechService
from hotline.speech.transcribe import TranscriptionWorker

__all__ = ["SpeechService", "TranscriptionWorker"]
