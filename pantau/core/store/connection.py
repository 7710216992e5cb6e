"""Opening a Pantau database and taking its write lock: what every query module builds on."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pantau.core.settings import PantauError
from pantau.core.store.schema import migrations


class StoreError(PantauError):
    """The database file cannot be opened or is not a Pantau database."""


def json_list(value: str | None) -> list[Any]:
    """A JSON list column (officials, violations, evidence); anything else reads as empty."""
    try:
        loaded = json.loads(value or "[]")
    except ValueError:
        return []
    return loaded if isinstance(loaded, list) else []


def region_clause(codes: Sequence[str], column: str = "region_code") -> tuple[str, list[str]]:
    """SQL true when `column` lies inside one of the codes: the code itself or a code below it
    ("17" holds "17.08"). LIKE's wildcards in a code match only themselves, so a code typed
    as `%` matches nothing."""
    if not codes:
        return "0", []
    parts, params = [], []
    for code in codes:
        parts.append(f"({column} = ? or {column} like ? escape '\\')")
        literal = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.extend([code, literal + ".%"])
    return "(" + " or ".join(parts) + ")", params


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_db(path: str | Path, *, migrate: bool = True) -> Database:
    """Open a Pantau database in WAL mode and migrate it. A missing file is created, but
    never its directory: the application decides when a new database is wanted."""
    path = Path(path)
    try:
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        db = Database(conn)
        db.enable_wal()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open as a Pantau database ({exc})") from None
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror}") from None
    return db


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A short write transaction that takes the write lock first (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes fails at once with "database is
    locked" when another process (the crawl, another ingest worker) committed in between:
    WAL cannot retry it. Taking the lock up front waits on busy_timeout instead. Inside an
    open transaction it is a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def insert_returning_id(db: Database, table: str, record: dict[str, Any]) -> int:
    cursor = db.execute(
        f"insert into [{table}] ({', '.join(f'[{k}]' for k in record)}) "
        f"values ({', '.join('?' for _ in record)})",
        list(record.values()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def placeholders(values: list[Any] | tuple[Any, ...]) -> str:
    """`?, ?, ?` for an `in (...)` list."""
    return ", ".join("?" for _ in values)
