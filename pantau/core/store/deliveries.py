"""What the application and the digest read about `deliveries` and `digests` (the delivery
ledger, alerts/ledger.py, writes them under its claim/settle protocol)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

# A story counts as taken for an office unless its send failed or it was withdrawn.
NOT_TAKEN = ("failed", "withdrawn")


def taken_clusters(db: Database, office: str) -> set[int]:
    """Stories the office has been sent, is being sent, or may have been sent."""
    rows = db.execute(
        "select cluster_id from deliveries where office = ? and status not in (?, ?)",
        [office, *NOT_TAKEN],
    ).fetchall()
    return {cluster_id for (cluster_id,) in rows}


def sent_clusters_with_untold_articles(db: Database, office: str) -> dict[int, str | None]:
    """Stories sent to the office that have articles it was not told about: their send time."""
    rows = db.execute(
        """
        select d.cluster_id, d.sent_at from deliveries d
        where d.office = ? and d.status = 'sent'
          and exists (
            select 1 from articles a where a.cluster_id = d.cluster_id
            and a.id not in (select article_id from delivery_articles where office = ?))
        order by d.cluster_id
        """,
        [office, office],
    ).fetchall()
    return dict(rows)


def told_articles(db: Database, office: str) -> set[int]:
    """Articles the office has been told about (or is being told about)."""
    rows = db.execute(
        "select article_id from delivery_articles where office = ?", [office]
    ).fetchall()
    return {article_id for (article_id,) in rows}


def status_counts(db: Database, office: str) -> dict[str, int]:
    """The office's deliveries by status."""
    rows = db.execute(
        "select status, count(*) from deliveries where office = ? group by status", [office]
    ).fetchall()
    return {status: int(n) for status, n in rows}


def last_sent_at(db: Database, office: str) -> str | None:
    row = db.execute(
        "select max(sent_at) from deliveries where office = ? and status = 'sent'", [office]
    ).fetchone()
    return row[0] if row else None


def clusters_of_message(db: Database, message_id: str) -> list[int]:
    """The stories a digest message carried."""
    rows = db.execute(
        "select d.cluster_id from deliveries d join digests g on g.id = d.digest_id "
        "where g.message_id = ?",
        [message_id],
    ).fetchall()
    return [cluster_id for (cluster_id,) in rows]


def failed_offices_due(db: Database) -> list[tuple[str, str | None]]:
    """Per office with failed deliveries, the latest time its backoff allows a retry."""
    rows = db.execute(
        "select office, max(next_attempt_at) from deliveries where status = 'failed' "
        "group by office"
    ).fetchall()
    return [(office, due) for office, due in rows]


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
