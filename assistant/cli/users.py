"""`relance users add|list|disable`: accounts of the web workspace."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from assistant.cli.common import AS_OPTION, console, fail, get_app, policies_or_fail, print_json
from assistant.db.engine import session_scope
from assistant.services.users import UserError, add_user, disable_user, list_users

app = typer.Typer(help="Accounts of the web workspace (`relance serve`).", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The user name (one word)."),
    role: str = typer.Option(..., "--role", help="officer | manager | admin"),
    creditors: list[str] = typer.Option(
        [], "--creditor", help="A creditor this user works for (repeat for several)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (one line)."
    ),
    actor: str | None = AS_OPTION,
) -> None:
    """Create an account; the password is stored as an argon2 hash."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    application = get_app(actor)
    with policies_or_fail(application):
        known = list(application.policies)
    try:
        with session_scope(application.engine) as session:
            add_user(session, name, role, creditors, password, application.actor, known)
    except UserError as exc:
        fail(str(exc))
    scope = "every creditor" if role == "admin" else ", ".join(sorted(set(creditors)))
    console.print(f"user {name} added: {role} for {scope}", highlight=False)


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the accounts (never their passwords)."""
    application = get_app()
    with session_scope(application.engine) as session:
        users = list_users(session)
    if as_json:
        print_json(users)
        return
    table = Table("name", "role", "creditors", "active", "last sign-in")
    for u in users:
        creditors = u["creditors"] or []
        table.add_row(
            str(u["name"]),
            str(u["role"]),
            "all" if u["role"] == "admin" else ", ".join(creditors),  # type: ignore[arg-type]
            "yes" if u["active"] else "no",
            str(u["last_login_at"] or "—"),
        )
    console.print(table)


@app.command("disable")
def disable(name: str, actor: str | None = AS_OPTION) -> None:
    """Disable an account: it cannot sign in any more and its open sessions stop working."""
    application = get_app(actor)
    try:
        with session_scope(application.engine) as session:
            disable_user(session, name, application.actor)
    except UserError as exc:
        fail(str(exc))
    console.print(f"user {name} disabled")
