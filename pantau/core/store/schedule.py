"""`schedule_state`: one row per scheduled job (a site's crawl, the digest), so a restarted
service keeps each rhythm and never repeats a digest."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import utcnow


def job_state(db: Database, job_id: str) -> dict[str, Any] | None:
    return next(db.query("select * from schedule_state where job_id = ?", [job_id]), None)


def ensure_job(db: Database, job_id: str, kind: str, target: str) -> dict[str, Any]:
    """The job's row, created (with `since` = now) the first time it is scheduled."""
    db.execute(
        "insert or ignore into schedule_state (job_id, kind, target, since, run_count, "
        "updated_at) values (?, ?, ?, ?, 0, ?)",
        [job_id, kind, target, utcnow(), utcnow()],
    )
    return next(db.query("select * from schedule_state where job_id = ?", [job_id]))


def job_started(db: Database, job_id: str) -> None:
    db.execute(
        "update schedule_state set last_started_at = ?, last_finished_at = null, "
        "last_result = 'running', updated_at = ? where job_id = ?",
        [utcnow(), utcnow(), job_id],
    )


def job_finished(db: Database, job_id: str, result: str, slot: str | None) -> None:
    db.execute(
        "update schedule_state set last_finished_at = ?, last_result = ?, "
        "last_slot = coalesce(?, last_slot), run_count = run_count + 1, updated_at = ? "
        "where job_id = ?",
        [utcnow(), result, slot, utcnow(), job_id],
    )


def set_next_runs(db: Database, next_runs: dict[str, str | None]) -> None:
    for job_id, moment in next_runs.items():
        db.execute("update schedule_state set next_run_at = ? where job_id = ?", [moment, job_id])


def clear_next_runs(db: Database) -> None:
    db.execute("update schedule_state set next_run_at = null")


def all_jobs(db: Database) -> list[dict[str, Any]]:
    return list(db.query("select * from schedule_state order by job_id"))
