"""Which spool Asterisk records new calls into, kept in Asterisk's own database (AstDB).

The dialplan (extensions.conf.j2) records under DB(hotline/recdir) when the key is set, else
under the rendered HOTLINE_RECDIR. A dialplan global would not do: `dialplan reload` and
`core reload` reset every global (clearglobalvars=yes) and a restart forgets it, while AstDB
(var/lib/asterisk/astdb.sqlite3) keeps the key through all three. Only the disk guard of the
recordings worker writes the key; it reads it back at every check.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hotline.asterisk.root import asterisk_cmd
from hotline.recordings.errors import SpoolError

# the dialplan reads DB(hotline/recdir) (extensions.conf.j2): keep both in step
FAMILY = "hotline"
KEY = "recdir"


def _rx(root: Path, command: str) -> str:
    try:
        out = subprocess.run(
            asterisk_cmd(root, "-rx", command),
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpoolError(f"asterisk -rx '{command}': {exc}") from exc
    if out.returncode != 0:
        said = (out.stderr.strip() or out.stdout.strip())[:300]
        raise SpoolError(f"asterisk -rx '{command}' exited {out.returncode}: {said}")
    return out.stdout


def _quoted(text: str) -> str:
    """One argument of an Asterisk CLI command (its parser honours quotes and backslashes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def chosen_spool(root: Path) -> str | None:
    """The directory AstDB names for new recordings; None: the key is absent (the default)."""
    command = f"database get {FAMILY} {KEY}"
    out = _rx(root, command)
    for line in out.splitlines():
        if line.startswith("Value: "):
            return line.removeprefix("Value: ").strip()
    if "not found" in out:
        return None
    raise SpoolError(f"asterisk -rx '{command}': unexpected answer {out.strip()[:300]!r}")


def choose_spool(root: Path, directory: str | None) -> str | None:
    """Set the key (None: delete it, back to the default), and return what AstDB then says."""
    if directory is None:
        _rx(root, f"database del {FAMILY} {KEY}")
    else:
        _rx(root, f"database put {FAMILY} {KEY} {_quoted(directory)}")
    return chosen_spool(root)
