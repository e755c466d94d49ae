"""A private PostgreSQL cluster for one test: its own data directory and port, so that a
test may stop it (`pg_ctl stop -m immediate`: a crash, no goodbye to the clients) and start
it again without disturbing the machine's server that other tests share.

PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` OS user
(made by Debian's package) in a directory of its own under /tmp.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL = "apt-get install postgresql (scripts/setup does)"


def server_bin() -> Path:
    """The newest PostgreSQL server's bin directory (Debian's /usr/lib/postgresql/N/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)],
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path is None:
        raise RuntimeError(f"PostgreSQL's server (initdb, pg_ctl) is missing: {INSTALL}")
    return Path(on_path).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """initdb into a temporary directory, then start / stop / start on one free port."""

    def __init__(self) -> None:
        self.bin = server_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user is not None:
            shutil.chown(self.dir, self._user, self._user)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        out = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self._user,
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{out.stdout}{out.stderr}{log}")

    def init(self) -> PrivatePostgres:
        # --no-sync and fsync=off: a throw-away cluster; an immediate stop is a crash of
        # the server process, not of the machine, so nothing committed is lost by them
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options)

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def remove(self) -> None:
        """Stop the server if it runs, and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
