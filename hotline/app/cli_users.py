"""`hotline users …`: who may log in to the API and pages (auth/), and the audit log."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.app.cli_settings import cli_user, settings_or_exit
from hotline.auth.roles import Role

if TYPE_CHECKING:
    from sqlmodel import Session

app = typer.Typer(
    help="Users of the API and pages: add, list, disable, passwords, API tokens, audit log.",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from stdin's first line")
]
Generate = Annotated[
    bool, typer.Option("--generate", help="make a random password and print it once")
]


@contextmanager
def _session() -> Iterator[Session]:
    from sqlmodel import Session

    from hotline.app.tables import open_engine
    from hotline.auth.errors import UserError
    from hotline.kernel.db import upgrade

    settings = settings_or_exit()
    upgrade(settings.db_url)
    try:
        with Session(open_engine(settings)) as s:
            yield s
    except (UserError, ValueError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc


def _audit(s: Session, action: str, name: str, status: int = 200, detail: str = "") -> None:
    """The CLI's user changes go to the same audit log as the API's writes."""
    from hotline.auth.models import AuditEntry

    s.add(
        AuditEntry(
            at=datetime.now(UTC),
            user=f"cli:{cli_user()}"[:64],
            role="",
            method="CLI",
            path=f"hotline users {action}",
            object_id=name,
            status_code=status,
            detail=detail,
        )
    )


def _password(stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, generated)."""
    from hotline.auth.passwords import check_strength
    from hotline.auth.passwords import generate as make

    if stdin and generate:
        raise typer.BadParameter("give --password-stdin or --generate, not both")
    if generate:
        return make(), True
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        check_strength(password)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    return password, False


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[str, typer.Option(help=", ".join(r.value for r in Role))],
    agent_id: Annotated[str, typer.Option("--agent-id", help="role agent: the agent's id")] = "",
    unit: Annotated[str, typer.Option("--unit", help="role unit_staff: the unit's code")] = "",
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Add a user. The password is prompted for, read from stdin, or generated (shown once)."""
    from hotline.auth import users
    from hotline.workorders.units import unit_problem

    password, generated = _password(password_stdin, generate)
    with _session() as s:
        u = users.add(
            s, name, role, password, agent_id=agent_id, unit=unit, unit_problem=unit_problem
        )
        _audit(s, "add", name, detail=f"role {role}")
        s.commit()
        typer.echo(f"user {u.name} added ({u.role})")
    if generated:
        typer.echo(f"password (shown once): {password}")


@app.command("list")
def list_users() -> None:
    """Every user, with role, agent or unit, and whether disabled or locked."""
    from hotline.auth import users

    now = datetime.now(UTC)
    with _session() as s:
        for u in users.all_users(s):
            flags = ["disabled"] if u.disabled else []
            if u.locked_until and u.locked_until > now:
                flags.append(f"locked until {u.locked_until:%H:%M} UTC")
            if not u.password_hash:
                flags.append("no password (API tokens only)")
            who = u.agent_id or u.unit
            typer.echo(f"{u.name:24} {u.role:11} {who:10} {', '.join(flags)}".rstrip())


@app.command("disable")
def disable(name: Annotated[str, typer.Argument()]) -> None:
    """Disable a user: no login, and every token of theirs ends now."""
    from hotline.auth import users

    with _session() as s:
        users.set_disabled(s, name, True)
        _audit(s, "disable", name)
        s.commit()
    typer.echo(f"user {name} disabled")


@app.command("enable")
def enable(name: Annotated[str, typer.Argument()]) -> None:
    from hotline.auth import users

    with _session() as s:
        users.set_disabled(s, name, False)
        _audit(s, "enable", name)
        s.commit()
    typer.echo(f"user {name} enabled")


@app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument()],
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
) -> None:
    """Set a new password (ends the user's tokens and lifts a lock)."""
    from hotline.auth import users

    password, generated = _password(password_stdin, generate)
    with _session() as s:
        users.set_password(s, name, password)
        _audit(s, "passwd", name)
        s.commit()
    typer.echo(f"password of {name} changed")
    if generated:
        typer.echo(f"password (shown once): {password}")


@app.command("token")
def token(
    name: Annotated[str, typer.Argument()],
    expires: Annotated[
        datetime, typer.Option(help="the day it ends (YYYY-MM-DD), at most a year ahead")
    ],
    label: Annotated[str, typer.Option(help="what the machine client is")] = "",
) -> None:
    """An API token for a machine client (a CRM, a wallboard screen); printed once."""
    from hotline.auth import tokens, users

    until = datetime.combine(expires.date(), time.min, tzinfo=UTC)
    if until <= datetime.now(UTC) or until > datetime.now(UTC) + timedelta(days=366):
        typer.echo("refused: --expires must be a day after today, at most a year ahead", err=True)
        raise typer.Exit(2)
    with _session() as s:
        u = users.find(s, name)
        tok = tokens.issue(s, u, until, kind="api", label=label)
        _audit(s, "token", name, detail=f"expires {until:%Y-%m-%d}")
        s.commit()
    typer.echo(tok)


@app.command("audit")
def audit_log(
    user: Annotated[str, typer.Option(help="only this user's entries")] = "",
    since: Annotated[str, typer.Option(help="from this day (YYYY-MM-DD, UTC)")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object a line")] = False,
) -> None:
    """The audit log: every write through the API (allowed or refused) and every login."""
    from hotline.app.tables import open_engine
    from hotline.auth.audit import entries
    from hotline.kernel.db import upgrade

    settings = settings_or_exit()
    upgrade(settings.db_url)
    try:
        start = datetime.combine(date.fromisoformat(since), time.min, tzinfo=UTC) if since else None
    except ValueError as exc:
        typer.echo(f"refused: --since {since!r}: give YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc
    rows = entries(open_engine(settings), user=user or None, since=start, limit=limit)
    for e in reversed(rows):
        if as_json:
            typer.echo(json.dumps(e.model_dump(mode="json", exclude={"id"}), ensure_ascii=False))
        else:
            typer.echo(
                f"{e.at:%Y-%m-%d %H:%M:%S} {e.user or '-':20} {e.role or '-':10} "
                f"{e.method:6} {e.path} {e.object_id} -> {e.status_code} {e.detail}".rstrip()
            )


@app.command("import-recording-users")
def import_recording_users() -> None:
    """Add the users of the old var/recording_users.json (their never-ending tokens are
    not carried over): each then needs `hotline users passwd NAME`."""
    from hotline.auth import users

    settings = settings_or_exit()
    path = settings.var_dir / "recording_users.json"
    if not path.exists():
        typer.echo(f"{path}: no such file, nothing to import")
        return
    try:
        rows = json.loads(path.read_text())["users"]
        old = [(str(r["name"]), str(r["role"]), str(r.get("agent_id", ""))) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        typer.echo(f"{path}: not a users file ({exc})", err=True)
        raise typer.Exit(2) from exc
    with _session() as s:
        for name, role, agent_id in old:
            if any(u.name == name for u in users.all_users(s)):
                typer.echo(f"{name}: exists already, left as it is")
                continue
            users.add(s, name, role, "", agent_id=agent_id)
            _audit(s, "import-recording-users", name, detail=f"role {role}")
            typer.echo(f"{name}: added as {role}; set a password: hotline users passwd {name}")
        s.commit()
    path.rename(path.with_suffix(".json.imported"))
    typer.echo(f"{path} renamed to {path.with_suffix('.json.imported').name}")
