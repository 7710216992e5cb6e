"""serve, users add/passwd/list, feedback export: the review workspace and its accounts."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from pantau.commands import (
    DbOption,
    app,
    existing_database_path,
    open_database,
    open_or_create_database,
    out,
    settings,
)
from pantau.core import store
from pantau.core.settings import (
    OfficeConfig,
    OfficesFile,
    PantauError,
    load_model,
    load_offices,
    load_sites,
)

users_app = typer.Typer(help="Workspace accounts (one Bawaslu office each).", no_args_is_help=True)
app.add_typer(users_app, name="users")
feedback_app = typer.Typer(help="Reviews as evaluation data.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


OfficesOption = Annotated[
    Path | None,
    typer.Option(
        "--offices",
        help="Offices file (default: offices.yaml of the config folder); the demo's is "
        "data/demo/offices.yaml.",
    ),
]


def offices_from(path: Path | None) -> list[OfficeConfig]:
    return load_offices() if path is None else load_model(path, OfficesFile).offices


def read_password(confirm: bool = True) -> str:
    """From a prompt on a terminal; otherwise the first line of standard input (scripts)."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    offices: OfficesOption = None,
    https_only: Annotated[
        bool,
        typer.Option(
            "--https-only", help="Send the session cookie over HTTPS only (behind a TLS proxy)."
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(help="Proxies whose X-Forwarded-Proto/For headers are trusted."),
    ] = "127.0.0.1",
) -> None:
    """Serve the review workspace (officers log in per office; Ctrl-C stops it)."""
    import uvicorn

    from pantau.core.store.accounts import Lockout
    from pantau.workspace.app import WorkspaceConfig, create_app
    from pantau.workspace.auth import secret_key

    current = settings()
    path = existing_database_path(db, current)
    store.open_db(path).close()  # migrates an older file before the pages read it
    config = WorkspaceConfig(
        db_path=path,
        offices=offices_from(offices),
        sites=load_sites() if offices is None else [],
        secret_key=secret_key(path),
        timezone=current.digest.timezone,
        https_only=https_only,
        page_size=current.workspace.page_size,
        session_hours=current.workspace.session_hours,
        lockout=Lockout(
            failures=current.workspace.lockout_failures,
            window=timedelta(minutes=current.workspace.lockout_window_minutes),
            duration=timedelta(minutes=current.workspace.lockout_minutes),
        ),
    )
    out.print(f"Pantau workspace on http://{host}:{port}/findings (database {path})")
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
    )


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The officer's e-mail address (the login).")],
    office: Annotated[str, typer.Option("--office", help="Office id from offices.yaml.")],
    db: DbOption = None,
    offices_file: OfficesOption = None,
) -> None:
    """Create an account; the password is read from standard input when it is not a terminal."""
    from pantau.core.store import accounts

    offices = {o.id: o for o in offices_from(offices_file)}
    if office not in offices:
        raise PantauError(f"no office with id {office!r} in offices.yaml")
    database = open_or_create_database(db)
    account = accounts.add_account(database, email, office, read_password())
    out.print(f"account {account.email} added for {offices[office].name} ({office})")


@users_app.command("passwd")
def users_passwd(
    email: Annotated[str, typer.Argument(help="The account's e-mail address.")],
    db: DbOption = None,
) -> None:
    """Set a new password (ends the account's sessions and lifts a lockout)."""
    from pantau.core.store import accounts

    account = accounts.set_password(open_database(db), email, read_password())
    out.print(f"password changed for {account.email}")


@users_app.command("list")
def users_list(db: DbOption = None, offices_file: OfficesOption = None) -> None:
    """Every account with its office and last successful login."""
    from pantau.core.store import accounts

    database = open_database(db)
    names = {o.id: o.name for o in offices_from(offices_file)}
    # One tab-separated line per account: readable, and easy to use in a script.
    out.print("email\toffice\toffice name\tcreated\tlast login", markup=False)
    for account in accounts.list_accounts(database):
        fields = (
            account.email,
            account.office,
            names.get(account.office, "(not in offices.yaml)"),
            account.created_at,
            accounts.last_login(database, account.email) or "-",
        )
        out.print("\t".join(fields), markup=False)


@feedback_app.command("export")
def feedback_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write labels.jsonl and articles.")],
    db: DbOption = None,
) -> None:
    """Write reviewed stories as labelled articles in the format `pantau eval` reads."""
    from pantau.workspace.export import export_feedback

    summary = export_feedback(open_database(db), directory)
    out.print(
        f"{summary.articles} article(s) of {summary.stories} reviewed story(ies) written to "
        f"{summary.directory}; {summary.skipped} decision(s) without a label skipped"
    )


# --- the demo's way in ---------------------------------------------------------------------

DEMO_EMAIL = "demo@bawaslu.example"
DEMO_PASSWORD = "demo-pantau-2024"  # a demo database only; never used for a real one


def ensure_demo_account(db_path: Path, office_id: str) -> tuple[str, str]:
    """The demo database's account (created if missing): (email, password)."""
    from pantau.core.store import accounts

    database = store.open_db(db_path)
    try:
        if accounts.find_account(database, DEMO_EMAIL) is None:
            accounts.add_account(database, DEMO_EMAIL, office_id, DEMO_PASSWORD)
    finally:
        database.close()
    return DEMO_EMAIL, DEMO_PASSWORD
