"""The delivery ledger: how a story reaches an office exactly once.

Protocol, per digest message:

1. claim   - in one `BEGIN IMMEDIATE` transaction, re-select the office's pending stories,
             insert a `digests` row (status 'sending', with the Message-ID) and one
             `deliveries` row per story. The unique (office, cluster_id) index means two
             concurrent runs can never claim the same story; the second finds nothing new.
2. write   - the .eml goes to the outbox before any network traffic.
3. send    - just before the SMTP DATA command the digest moves to 'transmitting' (only if it
             is still 'sending': a run that was presumed dead cannot send afterwards).
4. settle  - 'sent' (deliveries 'sent'), or 'failed' when the server certainly did not take
             it: the stories fall back to pending with attempts + 1 and `next_attempt_at`
             (exponential backoff), and the articles claimed for them are released.

Reconciliation of runs that died (`reconcile`): a digest still 'sending' after the settings'
`digest.stale_after_minutes` never reached DATA, so nothing left the machine: it becomes
'failed' and is retried at once. A digest still 'transmitting' may or may not have been
delivered. Resending could mail the office twice, and "never twice" is the promise, so it
becomes 'unknown': its stories are not resent; the run reports it with the outbox file so an
operator can check the mailbox, and `pantau digest-release MESSAGE_ID` puts the stories back
to pending if it never arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from alerts.selection import Selection, parse_time
from pantau.core import store
from pantau.core.settings import DigestSettings, PantauError
from pantau.core.store import deliveries

# A recipient the server took, in a digest's `recipients` record (others hold the refusal).
ACCEPTED = "accepted"
# A resend cut off mid-body may have arrived: such an address is never tried again.
UNKNOWN = "unknown"

# Digest states that mean "this message exists or may exist in someone's mailbox".
LIVE_STATES = ("sending", "transmitting", "sent", "unknown")


@dataclass(frozen=True)
class Notice:
    office: str
    message_id: str
    status: str
    detail: str


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction taken up front, so concurrent runs queue instead of racing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class RetryPolicy:
    """When a run is presumed dead and how long failed sends wait (settings' `digest`)."""

    stale_after: timedelta
    backoff_base: timedelta
    backoff_max: timedelta
    refused_max_attempts: int

    @classmethod
    def of(cls, digest: DigestSettings) -> RetryPolicy:
        return cls(
            stale_after=timedelta(minutes=digest.stale_after_minutes),
            backoff_base=timedelta(minutes=digest.retry_backoff_minutes),
            backoff_max=timedelta(minutes=digest.retry_backoff_max_minutes),
            refused_max_attempts=digest.refused_max_attempts,
        )

    def backoff_delay(self, attempts: int) -> timedelta:
        return min(self.backoff_base * 2 ** max(0, attempts - 1), self.backoff_max)


def retry_at(db: Database, office: str, now: datetime) -> datetime | None:
    """When a failed office may be tried again, if that is still in the future."""
    row = db.execute(
        "select max(next_attempt_at) from deliveries where office = ? and status = 'failed'",
        [office],
    ).fetchone()
    due = parse_time(row[0]) if row else None
    return due if due and due > now else None


def offices_due_for_retry(db: Database, now: datetime) -> set[str]:
    """Offices with failed deliveries whose backoff (`next_attempt_at`) has passed: the
    service tries them again instead of leaving their stories for tomorrow's digest."""
    return {
        office
        for office, due in deliveries.failed_offices_due(db)
        if (moment := parse_time(due)) is None or moment <= now
    }


def attempts_so_far(db: Database, office: str) -> int:
    row = db.execute(
        "select max(attempts) from deliveries where office = ? and status = 'failed'", [office]
    ).fetchone()
    return int(row[0] or 0) if row else 0


def digest_exists_on(db: Database, office: str, local_date: str) -> bool:
    """Has the office had (or may it have had) a digest this day? Then no empty one."""
    row = db.execute(
        f"select 1 from digests where office = ? and local_date = ? "
        f"and status in ({', '.join('?' for _ in LIVE_STATES)})",
        [office, local_date, *LIVE_STATES],
    ).fetchone()
    return row is not None


def claim(
    db: Database,
    office: str,
    selection: Selection,
    *,
    message_id: str,
    local_date: str,
    now: datetime,
) -> int:
    """Record the digest and take its stories; call inside `immediate`. Returns the digest id."""
    digest_id = store.insert_returning_id(
        db,
        "digests",
        {
            "office": office,
            "message_id": message_id,
            "status": "sending",
            "local_date": local_date,
            "stories": len(selection.stories),
            "updates": len(selection.updates) + len(selection.progress),
            "created_at": iso(now),
        },
    )
    for story in selection.claimed_stories:
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
            [office, story.cluster_id, message_id, digest_id, iso(now)],
        )
        if cursor.rowcount != 1:
            raise RuntimeError(f"story {story.cluster_id} was claimed by another run")
        _claim_articles(db, office, story.cluster_id, story.article_ids, digest_id, now)
    for update in selection.updates:
        _claim_articles(
            db, office, update.story.cluster_id, update.claimed_article_ids, digest_id, now
        )
    return digest_id


def _claim_articles(
    db: Database,
    office: str,
    cluster_id: int,
    article_ids: list[int],
    digest_id: int,
    now: datetime,
) -> None:
    db.conn.executemany(
        "insert or ignore into delivery_articles "
        "(office, article_id, cluster_id, digest_id, created_at) values (?, ?, ?, ?, ?)",
        [(office, article_id, cluster_id, digest_id, iso(now)) for article_id in article_ids],
    )


def withdraw_failures(db: Database, office: str, qualifying: set[int], now: datetime) -> int:
    """Failed stories that no longer qualify (dismissed, re-analysed) stop being retried.

    Without this an office would stay "due for retry" forever for a story it will never get.
    A withdrawn story that qualifies again (a dismissal reversed) is claimed like a new one.
    """
    rows = db.execute(
        "select cluster_id from deliveries where office = ? and status = 'failed'", [office]
    ).fetchall()
    gone = [cluster_id for (cluster_id,) in rows if cluster_id not in qualifying]
    for cluster_id in gone:
        db.execute(
            "update deliveries set status = 'withdrawn', next_attempt_at = null, "
            "last_error = ? where office = ? and cluster_id = ?",
            [f"no longer qualifies at {iso(now)} (dismissed or re-analysed)", office, cluster_id],
        )
    return len(gone)


def record_outbox_file(db: Database, digest_id: int, path: str) -> None:
    db.execute("update digests set eml_path = ? where id = ?", [path, digest_id])


def mark_transmitting(db: Database, digest_id: int) -> bool:
    """Fence: only a digest still 'sending' may go out (a presumed-dead run is refused)."""
    cursor = db.execute(
        "update digests set status = 'transmitting' where id = ? and status = 'sending'",
        [digest_id],
    )
    return cursor.rowcount == 1


def mark_sent(
    db: Database,
    digest_id: int,
    recipients: dict[str, str],
    now: datetime,
    note: str | None,
    policy: RetryPolicy,
) -> None:
    """Sent to every recipient the server accepted; those it refused are retried on their
    own later (`refused_due`), with the same message."""
    refused = any(result != ACCEPTED for result in recipients.values())
    with immediate(db):
        db.execute(
            "update digests set status = 'sent', sent_at = ?, recipients = ?, error = ?, "
            "refused_attempts = 0, refused_next_at = ? where id = ?",
            [
                iso(now),
                json.dumps(recipients, ensure_ascii=False),
                note,
                iso(now + policy.backoff_delay(1)) if refused else None,
                digest_id,
            ],
        )
        db.execute(
            "update deliveries set status = 'sent', sent_at = ?, last_error = ?, "
            "next_attempt_at = null, attempts = attempts + 1 where digest_id = ?",
            [iso(now), note, digest_id],
        )


def mark_failed(
    db: Database,
    digest_id: int,
    error: str,
    now: datetime,
    policy: RetryPolicy,
    recipients: dict[str, str] | None = None,
) -> datetime:
    """Put the digest's stories back to pending, to be retried after a growing delay."""
    with immediate(db):
        row = db.execute(
            "select max(attempts) from deliveries where digest_id = ?", [digest_id]
        ).fetchone()
        attempts = int(row[0] or 0) + 1 if row else 1
        next_at = now + policy.backoff_delay(attempts)
        db.execute(
            "update digests set status = 'failed', error = ?, recipients = ? where id = ?",
            [error, json.dumps(recipients or {}, ensure_ascii=False), digest_id],
        )
        db.execute(
            "update deliveries set status = 'failed', attempts = ?, last_error = ?, "
            "next_attempt_at = ? where digest_id = ?",
            [attempts, error, iso(next_at), digest_id],
        )
        db.execute("delete from delivery_articles where digest_id = ?", [digest_id])
    return next_at


def mark_unknown(db: Database, digest_id: int, error: str) -> None:
    """Maybe delivered: never resend automatically (see module docstring)."""
    with immediate(db):
        db.execute(
            "update digests set status = 'unknown', error = ? where id = ?", [error, digest_id]
        )
        db.execute(
            "update deliveries set status = 'unknown', last_error = ? where digest_id = ?",
            [error, digest_id],
        )


class NotReleasable(PantauError):
    """Only a digest whose delivery is unknown can be released for resending."""


def release(db: Database, message_id: str, now: datetime) -> int:
    """After an operator has checked that an 'unknown' digest never arrived, put its stories
    back to pending so the next run sends them. Returns how many stories were released."""
    with immediate(db):
        row = db.execute(
            "select id, status from digests where message_id = ?", [message_id.strip()]
        ).fetchone()
        if row is None:
            raise NotReleasable(f"no digest with Message-ID {message_id}")
        digest_id, status = row
        if status != "unknown":
            raise NotReleasable(f"digest {message_id} is {status!r}, not 'unknown'")
        db.execute(
            "update digests set status = 'released', error = ? where id = ?",
            [f"released for resending at {iso(now)}", digest_id],
        )
        cursor = db.execute(
            "update deliveries set status = 'failed', next_attempt_at = ?, last_error = ? "
            "where digest_id = ?",
            [iso(now), "released by an operator after a delivery of unknown outcome", digest_id],
        )
        db.execute("delete from delivery_articles where digest_id = ?", [digest_id])
    return cursor.rowcount


def history(db: Database, office: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest digests, newest first, for `pantau digest-log`."""
    return deliveries.history(db, office, limit)


def reconcile(db: Database, now: datetime, policy: RetryPolicy) -> list[Notice]:
    """Settle digests left behind by runs that died; see the module docstring."""
    cutoff = iso(now - policy.stale_after)
    stale = list(
        db.query(
            "select id, office, message_id, status, eml_path from digests "
            "where status in ('sending', 'transmitting') and created_at < ?",
            [cutoff],
        )
    )
    notices = []
    for row in stale:
        if row["status"] == "sending":
            detail = "an earlier run stopped before sending; its stories are pending again"
            mark_failed(db, row["id"], detail, now, policy)
            db.execute(
                "update deliveries set next_attempt_at = ? where digest_id = ?",
                [iso(now), row["id"]],
            )
            status = "failed"
        else:
            detail = (
                "an earlier run stopped while sending; it may have been delivered, so its "
                f"stories are not resent (check the mailbox; outbox copy: {row['eml_path']})"
            )
            mark_unknown(db, row["id"], detail)
            status = "unknown"
        notices.append(Notice(row["office"], row["message_id"], status, detail))
    return notices


# --- recipients a sent digest could not reach ------------------------------------------


@dataclass(frozen=True)
class RefusedResend:
    """A sent digest's recipients that the server refused, due to be tried again."""

    digest_id: int
    office: str
    message_id: str
    eml_path: str | None
    addresses: list[str]
    attempts: int


def claim_refused(db: Database, now: datetime) -> list[RefusedResend]:
    """Take every sent digest whose refused recipients are due: claimed (next time cleared)
    in one transaction, so two runs never resend to the same address."""
    with immediate(db):
        rows = list(
            db.query(
                "select id, office, message_id, eml_path, recipients, refused_attempts "
                "from digests where status = 'sent' and refused_next_at is not null "
                "and refused_next_at <= ?",
                [iso(now)],
            )
        )
        for row in rows:
            db.execute("update digests set refused_next_at = null where id = ?", [row["id"]])
    return [
        RefusedResend(
            digest_id=row["id"],
            office=row["office"],
            message_id=row["message_id"],
            eml_path=row["eml_path"],
            addresses=[
                address
                for address, result in json.loads(row["recipients"] or "{}").items()
                if _waiting(result)
            ],
            attempts=int(row["refused_attempts"] or 0),
        )
        for row in rows
    ]


def _waiting(result: str) -> bool:
    return result != ACCEPTED and not result.startswith(UNKNOWN)


def settle_refused(
    db: Database,
    resend: RefusedResend,
    results: dict[str, str],
    now: datetime,
    policy: RetryPolicy,
    *,
    final: bool = False,
) -> datetime | None:
    """Record what the resend got per address; those still refused wait for the next try
    (growing delay, at most `policy.refused_max_attempts`; none when `final`). Returns when, or
    None when nothing is left to try."""
    attempts = resend.attempts + 1
    with immediate(db):
        row = db.execute(
            "select recipients from digests where id = ?", [resend.digest_id]
        ).fetchone()
        recipients = json.loads(row[0] or "{}") if row else {}
        recipients.update(results)
        left = [a for a, result in recipients.items() if _waiting(result)]
        next_at: datetime | None = now + policy.backoff_delay(attempts + 1)
        if final or not left or attempts >= policy.refused_max_attempts:
            next_at = None
        db.execute(
            "update digests set recipients = ?, refused_attempts = ?, refused_next_at = ? "
            "where id = ?",
            [
                json.dumps(recipients, ensure_ascii=False),
                attempts,
                iso(next_at) if next_at else None,
                resend.digest_id,
            ],
        )
    return next_at
