"""The Typer app and what every command module shares.

Each module under `pantau.commands` registers its commands on `app`; they stay
thin: parse options, call a stage, print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlite_utils import Database

from pantau.core import store
from pantau.core.settings import Settings, database_path, load_settings

app = typer.Typer(
    name="pantau",
    help="Watch Indonesian regional news for ASN neutrality breaches and alert Bawaslu offices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console(stderr=True)
out = Console(soft_wrap=True, highlight=False)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file (default: PANTAU_DB or settings.yaml db_path)."),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format: table or jsonl.")]


def settings() -> Settings:
    return load_settings()


def open_database(db: Path | None, current: Settings | None = None) -> Database:
    return store.open_db(database_path(db, current or settings()))


def check_format(value: str, allowed: tuple[str, ...] = ("table", "jsonl")) -> str:
    if value not in allowed:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(allowed)}", param_hint="--format"
        )
    return value
