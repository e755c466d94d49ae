"""A second CRM bridge, `hotline serve bridge` with its own var directory and database
(SQLite in that directory, or `HOTLINE_DATABASE_URL` in `env`), on the same Asterisk (AMI)
as the test hotline: a test may kill it, stop it, stop its database, or put a proxy between
it and AMI, while the hotline's own bridge runs throughout."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from sqlmodel import Session, select

from hotline.calls.models import CallRecord
from hotline.kernel.db import make_engine
from tests.helpers.session_hotline import HOTLINE, REPO, Hotline


class SecondBridge:
    def __init__(self, hotline: Hotline, var: Path, env: dict[str, str] | None = None) -> None:
        secret = (hotline.var / "secrets.env").read_text()
        self.env = {
            **hotline.env,
            "HOTLINE_VAR_DIR": str(var),
            "HOTLINE_AMI__SECRET": secret.split("HOTLINE_AMI__SECRET=", 1)[1].split()[0],
            "HOTLINE_ASTERISK_ROOT": str(hotline.root),
            **(env or {}),
        }
        self.var = var
        self.db_url = self.env.get("HOTLINE_DATABASE_URL") or f"sqlite:///{var / 'hotline.db'}"
        self.log = var / "bridge.log"
        self.proc: subprocess.Popen[bytes] | None = None
        var.mkdir(parents=True, exist_ok=True)

    def logged(self, text: str) -> int:
        return self.log.read_text().count(text) if self.log.exists() else 0

    def wait_logged(self, text: str, times: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.logged(text) < times:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            assert time.monotonic() < deadline, f"the second bridge never logged {text!r}"
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def start(self) -> None:
        logins = self.logged("AMI logged in")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*HOTLINE, "serve", "bridge"], env=self.env, cwd=REPO, stdout=out, stderr=out
            )
        self.wait_logged("AMI logged in", logins + 1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [*HOTLINE, *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def record(self, caller: str, timeout: float = 30) -> CallRecord:
        engine = make_engine(self.db_url)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with Session(engine) as s:
                    rec = s.exec(
                        select(CallRecord).where(CallRecord.caller_number == caller)
                    ).first()
                if rec is not None:
                    return rec
                time.sleep(0.3)
        finally:
            engine.dispose()
        raise AssertionError(f"the second bridge stored no call from {caller}:\n{self.tail()}")
