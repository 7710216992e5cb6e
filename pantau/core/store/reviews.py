"""Review decisions on stories: an append-only history whose newest row is the current state.

Actions: confirm, dismiss (with a reason from a short list), duplicate (of another story,
which also takes the story out of the digest), note, and follow-up status. Each row carries
the story's status and follow-up after the action, so "the newest row" answers every
question about the present; the table refuses UPDATE and DELETE (schema m101).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from pantau.core.settings import PantauError
from pantau.core.store import insert_returning_id, utcnow, write_transaction

ACTIONS: tuple[str, ...] = ("confirm", "dismiss", "duplicate", "note", "follow_up")

# The one definition of a story's current review: its newest row (over `reviews r`; the
# (cluster_id, id) index answers it). Every query about the present state uses it.
LATEST_REVIEW = "r.id = (select max(r2.id) from reviews r2 where r2.cluster_id = r.cluster_id)"

# Statuses a story can be in; "open" means nobody has decided yet.
STATUSES = ("open", "confirmed", "dismissed")
DISMISS_REASONS = (
    "not_asn",
    "not_neutrality",
    "wrong_person",
    "advisory_only",
    "duplicate",
    "other",
)
FOLLOW_UPS = ("under_study", "recommendation_sent", "closed")
NOTE_LIMIT = 4000


class ReviewError(PantauError):
    """A review action that cannot be recorded (unknown action, reason or story)."""


@dataclass(frozen=True)
class Review:
    id: int
    cluster_id: int
    action: str
    status: str
    reason: str | None
    duplicate_of: int | None
    follow_up: str | None
    note: str | None
    reviewer: str | None
    office: str | None
    created_at: str


@dataclass(frozen=True)
class ReviewState:
    status: str = "open"
    follow_up: str | None = None
    reason: str | None = None
    duplicate_of: int | None = None


_COLUMNS = (
    "id, cluster_id, coalesce(action, case status when 'confirmed' then 'confirm' "
    "when 'dismissed' then 'dismiss' else 'note' end), coalesce(status, 'open'), reason, "
    "duplicate_of, follow_up, note, reviewer, office, created_at"
)


def history(db: Database, cluster_id: int) -> list[Review]:
    """Every decision on a story, oldest first."""
    return [
        Review(*row)
        for row in db.execute(
            f"select {_COLUMNS} from reviews where cluster_id = ? order by id", [cluster_id]
        ).fetchall()
    ]


def current_state(db: Database, cluster_id: int) -> ReviewState:
    row = db.execute(
        "select r.status, r.follow_up, r.reason, r.duplicate_of from reviews r "
        f"where r.cluster_id = ? and {LATEST_REVIEW}",
        [cluster_id],
    ).fetchone()
    if row is None:
        return ReviewState()
    return ReviewState(
        status=row[0] or "open", follow_up=row[1], reason=row[2], duplicate_of=row[3]
    )


def record(
    db: Database,
    cluster_id: int,
    action: str,
    *,
    reviewer: str,
    office: str,
    note: str | None = None,
    reason: str | None = None,
    duplicate_of: int | None = None,
    follow_up: str | None = None,
) -> Review:
    """Append one decision; the story's new state follows from the previous one and it."""
    if action not in ACTIONS:
        raise ReviewError(f"unknown review action {action!r}")
    note = (note or "").strip()[:NOTE_LIMIT] or None
    with write_transaction(db):
        if not db.execute("select 1 from clusters where id = ?", [cluster_id]).fetchone():
            raise ReviewError(f"no story {cluster_id}")
        state = current_state(db, cluster_id)
        row = _next_row(state, action, note, reason, duplicate_of, follow_up, cluster_id, db)
        row.update(
            cluster_id=cluster_id,
            action=action,
            note=note,
            reviewer=reviewer,
            office=office,
            created_at=utcnow(),
        )
        review_id = insert_returning_id(db, "reviews", row)
    return next(r for r in history(db, cluster_id) if r.id == review_id)


def _next_row(
    state: ReviewState,
    action: str,
    note: str | None,
    reason: str | None,
    duplicate_of: int | None,
    follow_up: str | None,
    cluster_id: int,
    db: Database,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "status": state.status,
        "follow_up": state.follow_up,
        "reason": state.reason,
        "duplicate_of": state.duplicate_of,
    }
    if action == "confirm":
        row.update(status="confirmed", reason=None, duplicate_of=None)
    elif action == "dismiss":
        if reason not in DISMISS_REASONS:
            raise ReviewError(f"a dismissal needs a reason, one of {', '.join(DISMISS_REASONS)}")
        row.update(status="dismissed", reason=reason, duplicate_of=None)
    elif action == "duplicate":
        if duplicate_of is None or duplicate_of == cluster_id:
            raise ReviewError("a duplicate needs the id of another story")
        if not db.execute("select 1 from clusters where id = ?", [duplicate_of]).fetchone():
            raise ReviewError(f"no story {duplicate_of}")
        row.update(status="dismissed", reason="duplicate", duplicate_of=duplicate_of)
    elif action == "follow_up":
        if follow_up not in FOLLOW_UPS:
            raise ReviewError(f"follow-up must be one of {', '.join(FOLLOW_UPS)}")
        row.update(follow_up=follow_up)
    elif action == "note" and not note:
        raise ReviewError("an empty note")
    return row


def reviewed_clusters(db: Database) -> dict[int, ReviewState]:
    """The current state of every story with a decision (confirmed or dismissed)."""
    rows = db.execute(
        "select r.cluster_id, r.status, r.follow_up, r.reason, r.duplicate_of from reviews r "
        f"where {LATEST_REVIEW} "
        "and r.status in ('confirmed', 'dismissed') order by r.cluster_id"
    ).fetchall()
    return {row[0]: ReviewState(row[1], row[2], row[3], row[4]) for row in rows}
