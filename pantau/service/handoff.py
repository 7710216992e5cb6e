"""`pantau crawl SITE` handing its crawl to the running service's warm crawl host.

A crawl command of its own pays Python, Scrapy and 5-8 s of model loading before its
first article; the service's crawl host has all of that loaded. So when `pantau schedule`
holds the database, the command adds a row to `crawl_requests` and waits; the service's
one-second loop takes it like a due scheduled crawl (same crawl slots and limits; a site
already crawling answers it with that run), and the command prints that run's summary.

Every change of a request's status is conditional on the previous one
(pantau/core/store/crawls.py), so a request is either run by the service or withdrawn
by its command (which then crawls by itself), never both, never neither.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from crawler.runs import CrawlSummary, process_alive
from pantau.core import store
from pantau.core.store import crawls as crawl_history
from pantau.service.lock import running_scheduler

if TYPE_CHECKING:
    from pantau.service.crawls import CrawlRunner

log = logging.getLogger("pantau.scheduler")

POLL_SECONDS = 0.3  # how often a waiting command looks at its request


# --- the service's side -------------------------------------------------------------------


def take_crawl_requests(
    db_path: Path, runner: CrawlRunner, queue_crawl: Callable[[str], None]
) -> int:
    """Take the pending requests the service can start now; `queue_crawl(site)` queues a
    crawl job for a site no crawl is on the way for. Requests of commands that are gone
    are withdrawn. Returns how many were taken."""
    db = store.open_db(db_path, migrate=False)
    try:
        taken = 0
        for row in crawl_history.pending_crawl_requests(db):
            site, request_id, pid = row["site"], row["id"], row["requested_by"]
            if not (pid and process_alive(pid)):
                crawl_history.abandon_crawl_request(db, request_id)
                continue
            if not runner.can_take_request(site):
                continue
            if not crawl_history.take_crawl_request(db, request_id):
                continue  # withdrawn by its command a moment ago
            taken += 1
            log.info("crawl %s requested by process %d", site, pid)
            if runner.add_request(site, request_id):
                queue_crawl(site)
        return taken
    finally:
        db.close()


# --- the command's side -------------------------------------------------------------------


def crawl_by_service(
    db_path: Path, site_id: str, timeout: float, say: Callable[[str], None]
) -> CrawlSummary | None:
    """The summary of the service's run answering this crawl, or None when no service
    runs on the database or it did not crawl the site (`say` tells why): crawl here then."""
    holder = running_scheduler(db_path)
    if holder is None:
        return None
    db = store.open_db(db_path)
    try:
        request_id = crawl_history.request_crawl(db, site_id, os.getpid())
        say(f"handed the crawl of {site_id} to the running service (pid {holder.pid})")
        try:
            return _wait_for_answer(db, db_path, request_id, timeout, say)
        except BaseException:  # Ctrl-C while waiting: the service must not run it later
            crawl_history.abandon_crawl_request(db, request_id)
            raise
    finally:
        db.close()


def _wait_for_answer(
    db: Database, db_path: Path, request_id: int, timeout: float, say: Callable[[str], None]
) -> CrawlSummary | None:
    deadline = time.monotonic() + timeout
    while True:
        row = crawl_history.crawl_request(db, request_id)
        assert row is not None
        status = row["status"]
        if status == "done":
            run = crawl_history.run_row(db, int(row["run_id"]))
            if run is not None:
                return summary_of_run(run)
            status = "skipped"
        if status == "skipped":
            say("the service did not crawl it: crawling here")
            return None
        if running_scheduler(db_path) is None:
            if crawl_history.abandon_crawl_request(db, request_id, taken=status == "taken"):
                say("the service stopped before answering: crawling here")
                return None
            continue  # answered a moment ago
        if status == "pending" and time.monotonic() > deadline:
            if crawl_history.abandon_crawl_request(db, request_id):
                say(f"the service did not take the crawl within {timeout:.0f} s: crawling here")
                return None
            continue
        time.sleep(POLL_SECONDS)


def summary_of_run(run: dict[str, object]) -> CrawlSummary:
    """What `pantau crawl` prints of a run, read back from its crawl_runs row."""
    status = str(run["status"])
    return CrawlSummary(
        site=str(run["site"]),
        run_id=int(str(run["id"])),
        status=status if status in ("ok", "failed") else "partial",
        pages_fetched=int(str(run["pages_fetched"] or 0)),
        articles_new=int(str(run["articles_new"] or 0)),
        articles_updated=int(str(run["articles_updated"] or 0)),
        articles_skipped=int(str(run["articles_skipped"] or 0)),
        failures=json.loads(str(run["failure_causes"] or "{}")),
    )
