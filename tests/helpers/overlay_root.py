"""An Asterisk root of the test session's own: an overlay mount over the cached root.

The rendered configuration, prompts, recordings, logs and control socket of the tests' Asterisk
land in the overlay's upper directory inside the session's var/, so the cache stays as built
and a hotline running from the same cache (its Asterisk, its configuration) is not touched.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotline.asterisk.root import install
from hotline.config.settings import Settings


def mounted(path: Path) -> bool:
    target = str(path.resolve())
    return any(line.split()[1] == target for line in Path("/proc/mounts").read_text().splitlines())


@contextmanager
def overlay_root(var: Path) -> Iterator[Path]:
    """var/asterisk-root: the cached root (built here if missing) under an overlay."""
    link = install(Settings(var_dir=var / "cache-link"))  # the cache, built once per machine
    lower = link.resolve()
    if lower == Path("/"):
        raise RuntimeError("a host Asterisk: the tests need the cached root (no overlay of /)")
    upper, work, merged = var / "root-upper", var / "root-work", var / "asterisk-root"
    for d in (upper, work, merged):
        d.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)], check=True)
    try:
        # another Asterisk's control socket and pid file, seen through from the cache
        # (run/, not var/run/: that is a link to /run, the host's own, outside the chroot)
        run = merged / "run/asterisk"
        assert merged.resolve() in run.resolve().parents, run
        for stale in run.iterdir() if run.is_dir() else ():
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        yield merged
    finally:
        for path in (merged / "proc", merged):
            if mounted(path):
                subprocess.run(["umount", "--lazy", str(path)], check=False)
