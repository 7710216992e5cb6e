"""`digests`: one row per digest message, from its claim to its settlement, with what each
recipient's server answered.

The delivery ledger (alerts/ledger.py) decides when a digest moves from state to state; these
queries only record it. The `recipients` column holds a JSON object, address -> result; it
goes in and comes out as a dict.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import insert_returning_id, placeholders


def _recipients_json(recipients: dict[str, str] | None) -> str:
    return json.dumps(recipients or {}, ensure_ascii=False)


def _recipients(value: str | None) -> dict[str, str]:
    loaded = json.loads(value or "{}")
    return loaded if isinstance(loaded, dict) else {}


def new_digest(
    db: Database,
    office: str,
    *,
    message_id: str,
    local_date: str,
    stories: int,
    updates: int,
    created_at: str,
) -> int:
    """A digest being sent (status 'sending'); returns its id."""
    return insert_returning_id(
        db,
        "digests",
        {
            "office": office,
            "message_id": message_id,
            "status": "sending",
            "local_date": local_date,
            "stories": stories,
            "updates": updates,
            "created_at": created_at,
        },
    )


def exists_on(db: Database, office: str, local_date: str, statuses: tuple[str, ...]) -> bool:
    """Has the office a digest of this local day in one of these states?"""
    row = db.execute(
        f"select 1 from digests where office = ? and local_date = ? "
        f"and status in ({placeholders(statuses)})",
        [office, local_date, *statuses],
    ).fetchone()
    return row is not None


def by_message_id(db: Database, message_id: str) -> tuple[int, str] | None:
    """A digest's id and status."""
    row = db.execute("select id, status from digests where message_id = ?", [message_id]).fetchone()
    return (int(row[0]), row[1]) if row else None


def set_outbox_file(db: Database, digest_id: int, path: str) -> None:
    db.execute("update digests set eml_path = ? where id = ?", [path, digest_id])


def start_transmitting(db: Database, digest_id: int) -> bool:
    """'sending' -> 'transmitting'; False when the digest is no longer 'sending'."""
    cursor = db.execute(
        "update digests set status = 'transmitting' where id = ? and status = 'sending'",
        [digest_id],
    )
    return cursor.rowcount == 1


def set_sent(
    db: Database,
    digest_id: int,
    *,
    sent_at: str,
    recipients: dict[str, str],
    note: str | None,
    refused_next_at: str | None,
) -> None:
    """Sent, with each recipient's result; refused recipients are due again at
    `refused_next_at` (none: nobody to retry)."""
    db.execute(
        "update digests set status = 'sent', sent_at = ?, recipients = ?, error = ?, "
        "refused_attempts = 0, refused_next_at = ? where id = ?",
        [sent_at, _recipients_json(recipients), note, refused_next_at, digest_id],
    )


def set_failed(db: Database, digest_id: int, error: str, recipients: dict[str, str] | None) -> None:
    db.execute(
        "update digests set status = 'failed', error = ?, recipients = ? where id = ?",
        [error, _recipients_json(recipients), digest_id],
    )


def set_status(db: Database, digest_id: int, status: str, error: str) -> None:
    """Settle a digest as `status` ('unknown', 'released') with the reason why."""
    db.execute("update digests set status = ?, error = ? where id = ?", [status, error, digest_id])


def stale(db: Database, created_before: str) -> list[dict[str, Any]]:
    """Digests still being sent or transmitted that were created before this time."""
    return list(
        db.query(
            "select id, office, message_id, status, eml_path from digests "
            "where status in ('sending', 'transmitting') and created_at < ?",
            [created_before],
        )
    )


def take_refused_due(db: Database, now: str) -> list[dict[str, Any]]:
    """Sent digests whose refused recipients are due by `now`, each taken (its due time
    cleared) so no other run takes it; `recipients` comes as a dict. Call inside a write
    transaction."""
    rows = list(
        db.query(
            "select id, office, message_id, eml_path, recipients, refused_attempts "
            "from digests where status = 'sent' and refused_next_at is not null "
            "and refused_next_at <= ?",
            [now],
        )
    )
    for row in rows:
        db.execute("update digests set refused_next_at = null where id = ?", [row["id"]])
        row["recipients"] = _recipients(row["recipients"])
    return rows


def recipients(db: Database, digest_id: int) -> dict[str, str]:
    """What each recipient's server answered (empty for an unknown digest)."""
    row = db.execute("select recipients from digests where id = ?", [digest_id]).fetchone()
    return _recipients(row[0]) if row else {}


def set_refused_progress(
    db: Database,
    digest_id: int,
    *,
    recipients: dict[str, str],
    attempts: int,
    next_at: str | None,
) -> None:
    """After a resend to refused recipients: every result so far, and when to try again."""
    db.execute(
        "update digests set recipients = ?, refused_attempts = ?, refused_next_at = ? where id = ?",
        [_recipients_json(recipients), attempts, next_at, digest_id],
    )


def history(db: Database, office: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest digests, newest first."""
    where, params = ("where office = ?", [office]) if office else ("", [])
    return list(
        db.query(
            f"select id, office, message_id, status, stories, updates, recipients, error, "
            f"eml_path, created_at, sent_at from digests {where} order by id desc limit ?",
            [*params, limit],
        )
    )
