"""The Typer app and what every command module shares.

Each module under `pantau.commands` registers its commands on `app`; they stay
thin: parse options, call a stage, print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text
from sqlite_utils import Database

from pantau.core import store
from pantau.core.calendar import operator_time as operator_time  # shared by the commands
from pantau.core.settings import PantauError, Settings, database_path, load_settings

app = typer.Typer(
    name="pantau",
    help="Watch Indonesian regional news for ASN neutrality breaches and alert Bawaslu offices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Scraped titles, SMTP replies and file names are untrusted: nothing printed is read as Rich
# markup unless a call asks for it (markup=True) and escapes what it interpolates.
console = Console(stderr=True, markup=False)
out = Console(soft_wrap=True, highlight=False, markup=False)


class TextTable(Table):
    """A Rich table whose string cells are plain text, never markup: a title holding `[/]`
    or `[link=...]` is shown as it is instead of crashing the command or becoming a link.
    A cell that wants a style passes a `rich.text.Text`."""

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(
            *(Text(cell) if isinstance(cell, str) else cell for cell in renderables), **kwargs
        )


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file (default: PANTAU_DB or settings.yaml db_path)."),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format: table or jsonl.")]


def settings() -> Settings:
    return load_settings()


class MissingDatabaseError(PantauError):
    """A command was pointed at a database that does not exist (a mistyped --db?)."""


def existing_database_path(db: Path | None, current: Settings | None = None) -> Path:
    """The database a reading command uses; it must exist: a mistyped --db is refused
    instead of being created empty (and then, say, proposing every story again)."""
    path = database_path(db, current or settings())
    if not path.is_file():
        raise MissingDatabaseError(
            f"{path}: no such database (check --db or PANTAU_DB; "
            "`pantau crawl` or `pantau ingest` creates one)"
        )
    return path


def open_database(db: Path | None, current: Settings | None = None) -> Database:
    """A database that must exist already (every command that only reads or re-derives)."""
    return store.open_db(existing_database_path(db, current))


def new_or_existing_database_path(db: Path | None, current: Settings | None = None) -> Path:
    """The database a writing command uses: created only inside a directory that exists,
    and the operator is told, so a typo never silently starts a second database."""
    path = database_path(db, current or settings())
    if path.is_file():
        return path
    if not path.parent.is_dir():
        raise MissingDatabaseError(
            f"{path}: no such database, and its directory {path.parent} does not exist "
            "(check --db or PANTAU_DB; create the directory for a new database)"
        )
    console.print(
        f"pantau: creating a new database {path}", highlight=False, markup=False, soft_wrap=True
    )
    return path


def open_or_create_database(db: Path | None, current: Settings | None = None) -> Database:
    return store.open_db(new_or_existing_database_path(db, current))


def check_format(value: str, allowed: tuple[str, ...] = ("table", "jsonl")) -> str:
    if value not in allowed:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(allowed)}", param_hint="--format"
        )
    return value
