"""`schedule_state`: what ran last and what runs next, kept in the database so a restart
loses nothing and repeats nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pantau.core import store

DIGEST_JOB_ID = "digest"
MISSED_DIGEST_JOB_ID = "digest:missed"
RETRY_JOB_ID = "digest:retry"
CRAWL_JOB_PREFIX = "crawl:"
# A crawl whose last state is one of these was cut off (service stopped or killed).
CUT_OFF = frozenset({"running", "interrupted"})


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


class ScheduleState:
    """Reads and writes `schedule_state`; one short-lived connection per call, so any
    scheduler thread may use it."""

    def __init__(self, db_path: Path):
        self.db_path = db_path

    @contextlib.contextmanager
    def _db(self) -> Iterator[Database]:
        database = store.open_db(self.db_path, migrate=False)
        try:
            yield database
        finally:
            database.close()

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._db() as db:
            rows = list(db.query("select * from schedule_state where job_id = ?", [job_id]))
        return rows[0] if rows else None

    def ensure(self, job_id: str, kind: str, target: str) -> dict[str, Any]:
        """The job's row, created (with `since` = now) the first time it is scheduled."""
        with self._db() as db:
            db.execute(
                "insert or ignore into schedule_state (job_id, kind, target, since, run_count, "
                "updated_at) values (?, ?, ?, ?, 0, ?)",
                [job_id, kind, target, store.utcnow(), store.utcnow()],
            )
            return next(db.query("select * from schedule_state where job_id = ?", [job_id]))

    def started(self, job_id: str) -> None:
        with self._db() as db:
            db.execute(
                "update schedule_state set last_started_at = ?, last_finished_at = null, "
                "last_result = 'running', updated_at = ? where job_id = ?",
                [store.utcnow(), store.utcnow(), job_id],
            )

    def finished(self, job_id: str, result: str, slot: datetime | None = None) -> None:
        with self._db() as db:
            db.execute(
                "update schedule_state set last_finished_at = ?, last_result = ?, "
                "last_slot = coalesce(?, last_slot), run_count = run_count + 1, updated_at = ? "
                "where job_id = ?",
                [store.utcnow(), result, iso(slot), store.utcnow(), job_id],
            )

    def record_next_runs(self, next_runs: dict[str, datetime | None]) -> None:
        with self._db() as db:
            for job_id, moment in next_runs.items():
                db.execute(
                    "update schedule_state set next_run_at = ? where job_id = ?",
                    [iso(moment), job_id],
                )

    def clear_next_runs(self) -> None:
        with self._db() as db:
            db.execute("update schedule_state set next_run_at = null")

    def all(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return list(db.query("select * from schedule_state order by job_id"))
