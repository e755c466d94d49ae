"""Speech: Vosk recognition in the voice menu and on recorded messages (issue 10)."""
