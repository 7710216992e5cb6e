"""What the application reads about past and running crawls in `crawl_runs` (the crawler
writes the runs): open runs of dead processes, a site's recent runs, the last run per site."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from pantau.core.store.connection import utcnow

_OPEN = "finished_at is null and coalesce(status, 'running') = 'running'"


def open_runs(db: Database, pid: int | None = None) -> list[dict[str, Any]]:
    """Runs not closed yet (their id and pid), optionally only those of one process."""
    where, params = (f"{_OPEN} and pid = ?", [pid]) if pid is not None else (_OPEN, [])
    return list(db.query(f"select id, pid from crawl_runs where {where}", params))


def close_as_interrupted(db: Database, run_id: int, pid: int | None) -> None:
    db.execute(
        "update crawl_runs set status = 'interrupted', finished_at = ?, error = ? where id = ?",
        [utcnow(), f"interrupted: process {pid} ended without closing the run", run_id],
    )


def open_run_pids(db: Database, site: str) -> list[int]:
    """Processes with an open run of this site, newest first."""
    rows = db.execute(
        f"select pid from crawl_runs where site = ? and {_OPEN} order by id desc", [site]
    ).fetchall()
    return [int(pid) for (pid,) in rows if pid is not None]


def run_status_of(db: Database, site: str, pid: int) -> str | None:
    """How the last run of this site by this process ended, if it recorded it."""
    row = db.execute(
        "select status from crawl_runs where site = ? and pid = ? order by id desc limit 1",
        [site, pid],
    ).fetchone()
    return row[0] if row and row[0] else None


def recent_runs(db: Database, site: str, limit: int = 50) -> list[dict[str, Any]]:
    """A site's latest runs, newest first."""
    return list(
        db.query(
            "select started_at, finished_at, status, error, failure_causes from crawl_runs "
            "where site = ? order by id desc limit ?",
            [site, limit],
        )
    )


def crawled_sites(db: Database) -> list[str]:
    return [row[0] for row in db.execute("select distinct site from crawl_runs order by site")]


def last_run_per_site(db: Database) -> dict[str, dict[str, Any]]:
    return {
        row["site"]: row
        for row in db.query(
            "select site, status, started_at, finished_at, failures from crawl_runs where id in "
            "(select max(id) from crawl_runs group by site)"
        )
    }
