"""A fake `asterisk -rx` for the recordings' spool choice (hotline/recordings/spool.py)."""

from __future__ import annotations

import shlex
import subprocess


class FakeAsteriskCli:
    """`asterisk -rx` as spool.py uses it, answering as Asterisk 22 does (main/db.c).

    `db` is AstDB ("/family/key": value).
    `down` answers as `asterisk -rx` does when no Asterisk runs (stderr, exit 1).
    """

    def __init__(self) -> None:
        self.db: dict[str, str] = {}
        self.commands: list[str] = []
        self.down = False

    def __call__(self, cmd: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        command = cmd[cmd.index("-rx") + 1]
        self.commands.append(command)
        if self.down:
            no = "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)"
            return subprocess.CompletedProcess(cmd, 1, "", no + "\n")
        return subprocess.CompletedProcess(cmd, 0, self.answer(shlex.split(command)), "")

    def answer(self, words: list[str]) -> str:
        match words:
            case ["database", "get", family, key]:
                value = self.db.get(f"/{family}/{key}")
                return "Database entry not found.\n" if value is None else f"Value: {value}\n"
            case ["database", "put", family, key, value]:
                self.db[f"/{family}/{key}"] = value
                return "Updated database successfully\n"
            case ["database", "del", family, key]:
                gone = self.db.pop(f"/{family}/{key}", None)
                return "Database entry removed.\n" if gone else "Database entry does not exist.\n"
        raise AssertionError(f"the fake Asterisk does not know {' '.join(words)!r}")

    def writes(self) -> list[str]:
        return [c for c in self.commands if not c.startswith("database get")]
