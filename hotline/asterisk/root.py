"""Get a real Asterisk: a host binary, or a cached debootstrapped Debian root.

Debian 12 has no asterisk package; testing (forky) and sid do. The root is built
once into a cache outside the work tree (~/.cache/hotline/asterisk-<suite>) and
`var/asterisk-root` points at it, so fresh clones and CI reuse it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.asterisk.errors import InstallError

if TYPE_CHECKING:
    from hotline.asterisk.settings import AsteriskConfig

log = logging.getLogger(__name__)

READY_MARKER = ".hotline-ready"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
FALLBACK_SUITES = ("forky", "sid")


def cache_dir() -> Path:
    base = os.environ.get("HOTLINE_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hotline"


def host_asterisk() -> Path | None:
    for candidate in ("/usr/sbin/asterisk", "/usr/local/sbin/asterisk"):
        if Path(candidate).exists():
            return Path(candidate)
    return None


def apt_mirror() -> str:
    """The Debian mirror apt already uses (deb822 or one-line sources)."""
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for m in re.finditer(r"(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.M):
            uri = m.group(1)
            if "debian" in uri and "security" not in uri:
                return uri.rstrip("/")
    return "http://deb.debian.org/debian"


def is_ready(root: Path) -> bool:
    return (root / READY_MARKER).exists() and (root / "usr/sbin/asterisk").exists()


def asterisk_version(root: Path) -> str:
    marker = root / READY_MARKER
    return marker.read_text().strip() if marker.exists() else ""


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _network_namespace() -> str:
    """The network namespace we run in (its inode): each has its own loopback and ports."""
    try:
        return str(os.stat("/proc/self/ns/net").st_ino)
    except OSError:
        return "unknown"


@contextmanager
def exclusive_use(who: str, timeout: float = 3600, poll: float = 1.0) -> Iterator[None]:
    """Hold this network namespace's test ports and Asterisk (fixed ports) for a test session
    or a benchmark; a second user waits here instead of colliding on ports and config. A
    session in a network namespace of its own has its own loopback, so its own lock."""
    path = cache_dir() / f"in-use-net{_network_namespace()}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another user"
            print(f"waiting for the Asterisk root, in use by {holder} ({path})", flush=True)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise InstallError(
                            f"the Asterisk root stayed in use by {holder} for {timeout:.0f}s"
                        ) from None
                    time.sleep(poll)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{who} (pid {os.getpid()})\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _debootstrap(suite: str, target: Path, mirror: str) -> None:
    if not shutil.which("debootstrap"):
        raise InstallError("debootstrap is missing: run `apt-get install -y debootstrap`")
    cmd = ["debootstrap", "--variant=minbase", "--include=asterisk", suite, str(target), mirror]
    if not (DEBOOTSTRAP_SCRIPTS / suite).exists():
        # bookworm's debootstrap predates forky; sid's script builds any newer suite
        cmd.append(str(DEBOOTSTRAP_SCRIPTS / "sid"))
    log.info("building the Asterisk root: %s", " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _prepare_root(root: Path) -> None:
    # Without /etc/hosts PJSIP resolves the host name through DNS on every call
    # and stalls 5 s (DESIGN.md).
    name = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost {name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
    etc = root / "etc/asterisk"
    samples = root / "etc/asterisk-samples"
    if not samples.exists():
        # Debian's sample configs open ports (IAX2, MGCP, DUNDi) and define demo
        # contexts; keep them aside and render our own complete set.
        shutil.copytree(etc, samples)
        for f in etc.iterdir():
            if f.is_file() and f.name not in KEEP_SAMPLES:
                f.unlink()


# Sample configs kept as they are: harmless, and Asterisk wants them.
KEEP_SAMPLES = {
    "indications.conf",
    "codecs.conf",
    "features.conf",
    "ccss.conf",
    "pjproject.conf",
    "sorcery.conf",
    "stasis.conf",
    "udptl.conf",
    "acl.conf",
    "dsp.conf",
    "cli.conf",
    "res_parking.conf",
    "say.conf",
    "confbridge.conf",
    "pjsip_notify.conf",
    "amd.conf",
    "cli_aliases.conf",
    "queuerules.conf",
}


def restore_kept_samples(root: Path) -> None:
    """Put back any kept sample config missing from etc/asterisk (older roots)."""
    samples = root / "etc/asterisk-samples"
    for name in KEEP_SAMPLES:
        src, dst = samples / name, root / "etc/asterisk" / name
        if src.exists() and not dst.exists():
            shutil.copy2(src, dst)


def install(settings: AsteriskConfig, *, suite: str | None = None) -> Path:
    """Return a ready Asterisk root, building it if needed. Safe to re-run."""
    link = settings.root
    if settings.asterisk_root is not None:
        if is_ready(link) or (link / "usr/sbin/asterisk").exists():
            return link
        raise InstallError(f"asterisk_root {link} has no usr/sbin/asterisk")
    if host_asterisk() is not None and not link.exists():
        log.info("using the host's Asterisk at %s", host_asterisk())
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/")
        return link
    if link.exists() and is_ready(link):
        return link
    suites = [suite or settings.asterisk_suite] + [s for s in FALLBACK_SUITES if s != suite]
    mirror = settings.debian_mirror or apt_mirror()
    errors: list[str] = []
    root: Path | None = None
    with _lock(cache_dir() / "install.lock"):
        for s in dict.fromkeys(suites):
            target = cache_dir() / f"asterisk-{s}"
            if is_ready(target):
                root = target
                break
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            try:
                _debootstrap(s, partial, mirror)
            except (subprocess.CalledProcessError, InstallError) as exc:
                errors.append(f"{s}: {exc}")
                shutil.rmtree(partial, ignore_errors=True)
                continue
            _prepare_root(partial)
            version = subprocess.run(
                ["chroot", str(partial), "asterisk", "-V"], capture_output=True, text=True
            ).stdout.strip()
            (partial / READY_MARKER).write_text(version + "\n")
            shutil.rmtree(target, ignore_errors=True)
            partial.rename(target)
            root = target
            break
    if root is None:
        raise InstallError("could not build an Asterisk root: " + "; ".join(errors))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(root)
    log.info("Asterisk root ready: %s (%s)", root, asterisk_version(root))
    return link


def ensure_packages(root: Path, packages: list[str]) -> None:
    """Install Debian packages into the cached root when missing (bench/ needs python3)."""
    with _lock(cache_dir() / "install.lock"):
        missing = [
            p
            for p in packages
            if subprocess.run(
                ["chroot", str(root.resolve()), "dpkg-query", "-W", "-f=${Status}", p],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            != "install ok installed"
        ]
        if missing:
            log.info("installing %s into the Asterisk root", " ".join(missing))
            subprocess.run(
                ["chroot", str(root.resolve()), "apt-get", "install", "-y", "-q",
                 "--no-install-recommends", *missing],
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip


def in_chroot(root: Path) -> bool:
    return root.resolve() != Path("/")


def ensure_proc(root: Path) -> None:
    if not in_chroot(root):
        return
    proc = (root / "proc").resolve()
    mounted = Path("/proc/mounts").read_text()
    if f" {proc} proc " not in mounted:
        subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)


def asterisk_cmd(root: Path, *args: str) -> list[str]:
    if in_chroot(root):
        return ["chroot", str(root.resolve()), "/usr/sbin/asterisk", *args]
    return ["/usr/sbin/asterisk", *args]


def asterisk_ids(root: Path) -> tuple[int, int]:
    """uid and gid of the asterisk user inside the root."""
    uid = gid = 0
    for line in (root / "etc/passwd").read_text().splitlines():
        parts = line.split(":")
        if parts[0] == "asterisk":
            uid, gid = int(parts[2]), int(parts[3])
    return uid, gid
