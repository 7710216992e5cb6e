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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from alerts.selection import Selection, parse_time
from pantau.core.settings import DigestSettings, PantauError
from pantau.core.store import deliveries, digests, write_transaction

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
    with write_transaction(db):
        yield db


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
    due = parse_time(deliveries.failed_next_attempt(db, office))
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
    return deliveries.failed_attempts(db, office)


def digest_exists_on(db: Database, office: str, local_date: str) -> bool:
    """Has the office had (or may it have had) a digest this day? Then no empty one."""
    return digests.exists_on(db, office, local_date, LIVE_STATES)


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
    digest_id = digests.new_digest(
        db,
        office,
        message_id=message_id,
        local_date=local_date,
        stories=len(selection.stories),
        updates=len(selection.updates) + len(selection.progress),
        created_at=iso(now),
    )
    for story in selection.claimed_stories:
        if not deliveries.claim_story(
            db, office, story.cluster_id, message_id=message_id, digest_id=digest_id, at=iso(now)
        ):
            raise RuntimeError(f"story {story.cluster_id} was claimed by another run")
        deliveries.claim_articles(
            db, office, story.cluster_id, story.article_ids, digest_id, iso(now)
        )
    for update in selection.updates:
        deliveries.claim_articles(
            db, office, update.story.cluster_id, update.claimed_article_ids, digest_id, iso(now)
        )
    return digest_id


def withdraw_failures(db: Database, office: str, qualifying: set[int], now: datetime) -> int:
    """Failed stories that no longer qualify (dismissed, re-analysed) stop being retried.

    Without this an office would stay "due for retry" forever for a story it will never get.
    A withdrawn story that qualifies again (a dismissal reversed) is claimed like a new one.
    """
    gone = [c for c in deliveries.failed_clusters(db, office) if c not in qualifying]
    reason = f"no longer qualifies at {iso(now)} (dismissed or re-analysed)"
    for cluster_id in gone:
        deliveries.withdraw(db, office, cluster_id, reason)
    return len(gone)


def record_outbox_file(db: Database, digest_id: int, path: str) -> None:
    digests.set_outbox_file(db, digest_id, path)


def mark_transmitting(db: Database, digest_id: int) -> bool:
    """Fence: only a digest still 'sending' may go out (a presumed-dead run is refused)."""
    return digests.start_transmitting(db, digest_id)


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
        digests.set_sent(
            db,
            digest_id,
            sent_at=iso(now),
            recipients=recipients,
            note=note,
            refused_next_at=iso(now + policy.backoff_delay(1)) if refused else None,
        )
        deliveries.set_sent(db, digest_id, iso(now), note)


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
        attempts = deliveries.digest_attempts(db, digest_id) + 1
        next_at = now + policy.backoff_delay(attempts)
        digests.set_failed(db, digest_id, error, recipients)
        deliveries.set_failed(
            db, digest_id, attempts=attempts, error=error, next_attempt_at=iso(next_at)
        )
        deliveries.release_articles(db, digest_id)
    return next_at


def mark_unknown(db: Database, digest_id: int, error: str) -> None:
    """Maybe delivered: never resend automatically (see module docstring)."""
    with immediate(db):
        digests.set_status(db, digest_id, "unknown", error)
        deliveries.set_unknown(db, digest_id, error)


class NotReleasable(PantauError):
    """Only a digest whose delivery is unknown can be released for resending."""


def release(db: Database, message_id: str, now: datetime) -> int:
    """After an operator has checked that an 'unknown' digest never arrived, put its stories
    back to pending so the next run sends them. Returns how many stories were released."""
    with immediate(db):
        found = digests.by_message_id(db, message_id.strip())
        if found is None:
            raise NotReleasable(f"no digest with Message-ID {message_id}")
        digest_id, status = found
        if status != "unknown":
            raise NotReleasable(f"digest {message_id} is {status!r}, not 'unknown'")
        digests.set_status(db, digest_id, "released", f"released for resending at {iso(now)}")
        released = deliveries.release(
            db, digest_id, iso(now), "released by an operator after a delivery of unknown outcome"
        )
        deliveries.release_articles(db, digest_id)
    return released


def history(db: Database, office: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest digests, newest first, for `pantau digest-log`."""
    return digests.history(db, office, limit)


def reconcile(db: Database, now: datetime, policy: RetryPolicy) -> list[Notice]:
    """Settle digests left behind by runs that died; see the module docstring."""
    notices = []
    for row in digests.stale(db, iso(now - policy.stale_after)):
        if row["status"] == "sending":
            detail = "an earlier run stopped before sending; its stories are pending again"
            mark_failed(db, row["id"], detail, now, policy)
            deliveries.retry_from(db, row["id"], iso(now))
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
        rows = digests.take_refused_due(db, iso(now))
    return [
        RefusedResend(
            digest_id=row["id"],
            office=row["office"],
            message_id=row["message_id"],
            eml_path=row["eml_path"],
            addresses=[
                address for address, result in row["recipients"].items() if _waiting(result)
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
        recipients = digests.recipients(db, resend.digest_id)
        recipients.update(results)
        left = [a for a, result in recipients.items() if _waiting(result)]
        next_at: datetime | None = now + policy.backoff_delay(attempts + 1)
        if final or not left or attempts >= policy.refused_max_attempts:
            next_at = None
        digests.set_refused_progress(
            db,
            resend.digest_id,
            recipients=recipients,
            attempts=attempts,
            next_at=iso(next_at) if next_at else None,
        )
    return next_at
