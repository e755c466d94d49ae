"""The guard on the checkout's own var/: an audit hook (tests/conftest.py installs it) that
fails any test opening, creating, removing or listing anything under it, in this process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHECKOUT_VAR = str(Path(__file__).resolve().parents[2] / "var")
# Audit events whose first argument is a path the call reads, writes or lists.
PATH_EVENTS = frozenset(
    {
        "open",
        "os.mkdir",
        "os.rename",
        "os.replace",
        "os.remove",
        "os.rmdir",
        "os.listdir",
        "os.scandir",
        "os.chmod",
        "os.chown",
        "os.symlink",
        "os.link",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "sqlite3.connect",
    }
)

# Where those events carry a dir_fd (-1 or None when the path is relative to the cwd); os.open's
# "open" event has none, and its mode is None (builtins.open's is a string).
DIR_FD_AT = {
    "os.mkdir": (2,),
    "os.rmdir": (1,),
    "os.remove": (1,),
    "os.rename": (2, 3),
    "os.replace": (2, 3),
    "os.chmod": (2,),
    "os.chown": (3,),
    "os.utime": (3,),
    "os.symlink": (2,),
    "os.link": (2, 3),
}

touched: list[str] = []


class CheckoutVarTouched(RuntimeError):
    """A test reached the checkout's own var/ (not an OSError, so nothing swallows it)."""


def under_checkout_var(arg: Any) -> str | None:
    """The absolute path, when `arg` names something under the checkout's var/."""
    if isinstance(arg, int) or arg is None:
        return None
    try:
        raw = os.fsdecode(os.fspath(arg))
    except TypeError:
        return None
    if raw in ("", ":memory:") or raw.startswith("file:"):
        return None
    path = os.path.normpath(os.path.join(os.getcwd(), raw))
    if path == CHECKOUT_VAR or path.startswith(CHECKOUT_VAR + os.sep):
        return path
    return None


def guard(event: str, args: tuple[Any, ...]) -> None:
    if event not in PATH_EVENTS or not args:
        return
    if any(i < len(args) and args[i] not in (None, -1) for i in DIR_FD_AT.get(event, ())):
        return  # a name relative to a directory descriptor (shutil.rmtree), not to the cwd
    names = args[:1] if event == "open" else args[:2]
    if event == "open" and args[1] is None and not os.path.isabs(os.fsdecode(args[0])):
        return  # os.open of a name that may be relative to a dir_fd
    hits = [p for a in names if (p := under_checkout_var(a)) is not None]
    if hits:
        touched.append(f"{event} {hits[0]}")
        raise CheckoutVarTouched(
            f"a test reached the checkout's own var/ ({event} {hits[0]}): tests use the "
            "var directory and configuration they are given (HOTLINE_VAR_DIR)"
        )
