"""`deliveries` (one row per office and story: claimed, sent, failed, unknown, withdrawn) and
`delivery_articles` (which articles of a story an office has been told about).

The delivery ledger (alerts/ledger.py) decides when a row moves from state to state and how
long a failed one waits; these queries only record it. The digest and the application read
here what has been taken and sent.
"""

from __future__ import annotations

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


def failed_next_attempt(db: Database, office: str) -> str | None:
    """The latest time the office's failed deliveries may be tried again."""
    row = db.execute(
        "select max(next_attempt_at) from deliveries where office = ? and status = 'failed'",
        [office],
    ).fetchone()
    return row[0] if row else None


def failed_attempts(db: Database, office: str) -> int:
    """How many times the office's failed deliveries have been tried (the most of any)."""
    row = db.execute(
        "select max(attempts) from deliveries where office = ? and status = 'failed'", [office]
    ).fetchone()
    return int(row[0] or 0) if row else 0


def failed_clusters(db: Database, office: str) -> list[int]:
    """Stories whose delivery to the office failed."""
    rows = db.execute(
        "select cluster_id from deliveries where office = ? and status = 'failed'", [office]
    ).fetchall()
    return [cluster_id for (cluster_id,) in rows]


def claim_story(
    db: Database, office: str, cluster_id: int, *, message_id: str, digest_id: int, at: str
) -> bool:
    """Take a story for a digest ('sending'): a new one, or one whose send failed or was
    withdrawn. False when another run holds it (the unique (office, cluster_id) index)."""
    cursor = db.execute(
        """
        insert into deliveries
          (office, cluster_id, status, message_id, digest_id, created_at, attempts)
        values (?, ?, 'sending', ?, ?, ?, 0)
        on conflict (office, cluster_id) do update set
          status = 'sending', message_id = excluded.message_id,
          digest_id = excluded.digest_id
        where deliveries.status in ('failed', 'withdrawn')
        """,
        [office, cluster_id, message_id, digest_id, at],
    )
    return cursor.rowcount == 1


def claim_articles(
    db: Database, office: str, cluster_id: int, article_ids: list[int], digest_id: int, at: str
) -> None:
    """Record that the digest tells the office about these articles of a story."""
    db.conn.executemany(
        "insert or ignore into delivery_articles "
        "(office, article_id, cluster_id, digest_id, created_at) values (?, ?, ?, ?, ?)",
        [(office, article_id, cluster_id, digest_id, at) for article_id in article_ids],
    )


def release_articles(db: Database, digest_id: int) -> None:
    """The office was not told about the digest's articles after all."""
    db.execute("delete from delivery_articles where digest_id = ?", [digest_id])


def withdraw(db: Database, office: str, cluster_id: int, reason: str) -> None:
    """A failed story stops being retried."""
    db.execute(
        "update deliveries set status = 'withdrawn', next_attempt_at = null, "
        "last_error = ? where office = ? and cluster_id = ?",
        [reason, office, cluster_id],
    )


def set_sent(db: Database, digest_id: int, sent_at: str, note: str | None) -> None:
    """Every story of the digest was sent (one more attempt)."""
    db.execute(
        "update deliveries set status = 'sent', sent_at = ?, last_error = ?, "
        "next_attempt_at = null, attempts = attempts + 1 where digest_id = ?",
        [sent_at, note, digest_id],
    )


def digest_attempts(db: Database, digest_id: int) -> int:
    """How many times the digest's stories have been tried before (the most of any)."""
    row = db.execute(
        "select max(attempts) from deliveries where digest_id = ?", [digest_id]
    ).fetchone()
    return int(row[0] or 0) if row else 0


def set_failed(
    db: Database, digest_id: int, *, attempts: int, error: str, next_attempt_at: str
) -> None:
    """The digest's stories are pending again from `next_attempt_at`."""
    db.execute(
        "update deliveries set status = 'failed', attempts = ?, last_error = ?, "
        "next_attempt_at = ? where digest_id = ?",
        [attempts, error, next_attempt_at, digest_id],
    )


def release(db: Database, digest_id: int, moment: str, reason: str) -> int:
    """The digest's stories are pending again from this moment, their attempts as they
    were; returns how many."""
    cursor = db.execute(
        "update deliveries set status = 'failed', next_attempt_at = ?, last_error = ? "
        "where digest_id = ?",
        [moment, reason, digest_id],
    )
    return cursor.rowcount


def retry_from(db: Database, digest_id: int, moment: str) -> None:
    """The digest's failed stories may be tried again from this moment."""
    db.execute("update deliveries set next_attempt_at = ? where digest_id = ?", [moment, digest_id])


def set_unknown(db: Database, digest_id: int, error: str) -> None:
    """The digest's stories may or may not have been delivered."""
    db.execute(
        "update deliveries set status = 'unknown', last_error = ? where digest_id = ?",
        [error, digest_id],
    )
