"""The IVR config a running server uses, swapped whole on `hotline reload` (SIGHUP).

A call takes the current config when it starts and keeps it to the end, so a
reload never changes a menu under a caller. A config with mistakes is refused
and the old one stays; the outcome is written to var/run/agi.reload for the CLI.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hotline.agi.tree import IvrConfig
from hotline.kernel.errors import ConfigError

log = logging.getLogger(__name__)

PID_FILE = "agi.pid"
STATUS_FILE = "agi.reload"


class ConfigStore:
    def __init__(self, load: Callable[[], IvrConfig], run_dir: Path | None = None) -> None:
        self._load = load
        self.run_dir = run_dir
        self.current = load()
        self.generation = 1

    def reload(self) -> str | None:
        """Load again; None when done, else the error (and the old config stays)."""
        try:
            config = self._load()
        except ConfigError as exc:
            log.error("IVR reload refused, the running menu stays:\n%s", exc)
            self._status(str(exc))
            return str(exc)
        self.current = config
        self.generation += 1
        log.info("IVR reloaded (generation %d)", self.generation)
        self._status(None)
        return None

    def _status(self, error: str | None) -> None:
        if self.run_dir is None:
            return
        status = {
            "ok": error is None,
            "error": error or "",
            "generation": self.generation,
            "at": datetime.now(UTC).isoformat(),
            "pid": os.getpid(),
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.run_dir / (STATUS_FILE + ".tmp")
        tmp.write_text(json.dumps(status))
        tmp.replace(self.run_dir / STATUS_FILE)
