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
from pantau.core.calendar import parse_iso
from pantau.core.store import schedule

DIGEST_JOB_ID = "digest"
MISSED_DIGEST_JOB_ID = "digest:missed"
RETRY_JOB_ID = "digest:retry"
CRAWL_JOB_PREFIX = "crawl:"
# A crawl whose last state is one of these was cut off (service stopped or killed).
CUT_OFF = frozenset({"running", "interrupted"})


def parse_time(value: str | None) -> datetime | None:
    return parse_iso(value)


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
            return schedule.job_state(db, job_id)

    def ensure(self, job_id: str, kind: str, target: str) -> dict[str, Any]:
        """The job's row, created (with `since` = now) the first time it is scheduled."""
        with self._db() as db:
            return schedule.ensure_job(db, job_id, kind, target)

    def started(self, job_id: str) -> None:
        with self._db() as db:
            schedule.job_started(db, job_id)

    def finished(self, job_id: str, result: str, slot: datetime | None = None) -> None:
        with self._db() as db:
            schedule.job_finished(db, job_id, result, iso(slot))

    def record_next_runs(self, next_runs: dict[str, datetime | None]) -> None:
        with self._db() as db:
            schedule.set_next_runs(db, {job: iso(moment) for job, moment in next_runs.items()})

    def clear_next_runs(self) -> None:
        with self._db() as db:
            schedule.clear_next_runs(db)

    def all(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return schedule.all_jobs(db)
