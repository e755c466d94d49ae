"""`hotline status --versions`: what this machine runs against what the project was proven with.

Debian packages (scripts/debian-packages.txt), the Asterisk in its root, Python, and the
Python packages (requirements/lock.txt). Informational: reads files and asks dpkg-query once,
needs no service, never fails the command.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

from hotline.asterisk import root as asterisk_root
from hotline.kernel.settings import PROJECT_ROOT

DEBIAN_PACKAGES = PROJECT_ROOT / "scripts" / "debian-packages.txt"
LOCK = PROJECT_ROOT / "requirements" / "lock.txt"
# shown one a line; every other locked package only when it differs
KEY_PACKAGES = (
    "panoramisk",
    "redis",
    "aiomqtt",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "httpx",
    "vosk",
    "pytest",
    "mypy",
    "ruff",
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")


@dataclass(frozen=True)
class Row:
    """One thing, the version the project was proven with, and the one installed (None: none)."""

    name: str
    proven: str
    installed: str | None

    @property
    def verdict(self) -> str:
        if self.installed is None:
            return "missing"
        return "ok" if self.installed == self.proven else f"installed {self.installed}"


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares them (`PyYAML` and `pyyaml` are one)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_debian_packages(text: str) -> dict[str, str]:
    """`package version` lines (comments and blank lines skipped) to {package: version}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            out[fields[0]] = fields[1] if len(fields) > 1 else "?"
    return out


def parse_lock(text: str, *, markers: bool = True) -> dict[str, str]:
    """The pins of a hashed requirements file, {normalized name: version}. A pin whose
    environment marker does not hold for this interpreter is left out (the lock is universal:
    numpy for Python 3.11 and numpy for 3.12+ are two lines)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _PIN.match(line)
        if m is None:
            continue
        name, version, marker = m.groups()
        if marker and markers and not Marker(marker).evaluate():
            continue
        out[normalize(name)] = version
    return out


def installed_debian(names: list[str]) -> dict[str, str | None]:
    """Installed version of each Debian package, None where not installed (one dpkg-query)."""
    found: dict[str, str | None] = dict.fromkeys(names)
    try:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${Status}\n", *names],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,  # 1 when one of them is unknown; the others are still listed
        )
    except (OSError, subprocess.TimeoutExpired):
        return found
    for line in result.stdout.splitlines():
        package, version, status = [*line.split("\t"), "", ""][:3]
        if package in found and status == "install ok installed":
            found[package] = version
    return found


def installed_python() -> dict[str, str]:
    """{normalized name: version} of every distribution this interpreter sees."""
    return {normalize(d.metadata["Name"]): d.version for d in metadata.distributions()}


def compare(proven: dict[str, str], installed: dict[str, str | None]) -> list[Row]:
    return [Row(name, version, installed.get(name)) for name, version in proven.items()]


def asterisk_line(root: Path) -> str:
    """`asterisk -V` inside the root (its build-time record when that cannot run, e.g. not
    root for chroot); a word when there is no root."""
    if not root.exists():
        return f"no Asterisk root at {root} (hotline asterisk install)"
    try:
        out = subprocess.run(
            asterisk_root.asterisk_cmd(root, "-V"),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    version = out if out.startswith("Asterisk") else asterisk_root.asterisk_version(root)
    return f"{version or 'unknown version'} (root {root.resolve()})"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def report(root: Path) -> list[str]:
    """The lines `hotline status --versions` prints."""
    lines: list[str] = []
    debs_text = _read(DEBIAN_PACKAGES)
    if debs_text is None:
        lines.append(f"Debian packages: no list at {DEBIAN_PACKAGES}")
    else:
        debs = parse_debian_packages(debs_text)
        lines.append("Debian packages (proven version, then on this machine)")
        for row in compare(debs, installed_debian(list(debs))):
            lines.append(f"  {row.name:20} {row.proven:28} {row.verdict}")
    lines.append(f"Asterisk   {asterisk_line(root)}")
    lines.append(f"Python     {platform.python_version()} ({sys.executable})")
    lock_text = _read(LOCK)
    if lock_text is None:
        lines.append(f"Python packages: no lock at {LOCK}")
        return lines
    locked = parse_lock(lock_text)
    installed = installed_python()
    rows = compare(locked, dict(installed))
    lines.append(f"Python packages (locked in {LOCK.relative_to(PROJECT_ROOT)}, then installed)")
    for row in rows:
        if row.name in KEY_PACKAGES:
            lines.append(f"  {row.name:20} {row.proven:28} {row.verdict}")
    others = [row for row in rows if row.name not in KEY_PACKAGES]
    differing = [f"{row.name} {row.proven}: {row.verdict}" for row in others if row.verdict != "ok"]
    lines.append(f"  {len(others) - len(differing)} other locked packages as locked")
    lines.extend(f"  {line}" for line in differing)
    everything = parse_lock(lock_text, markers=False)
    extra = sorted(set(installed) - set(everything) - {normalize("hotline12345")})
    if extra:
        lines.append("  not in the lock: " + ", ".join(f"{n} {installed[n]}" for n in extra))
    return lines
