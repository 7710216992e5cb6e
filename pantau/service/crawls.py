"""Crawl jobs: each handed to the service's crawl host (pantau/service/host.py), watched
against its time limit, and stopped cleanly; open runs of dead processes are closed."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.runs import process_alive
from pantau.core import store
from pantau.core.store import crawls as crawl_history
from pantau.service.config import ServiceConfig
from pantau.service.host import CrawlHostProcess, HostDied, HostSupervisor
from pantau.service.state import CRAWL_JOB_PREFIX, CUT_OFF, ScheduleState

log = logging.getLogger("pantau.scheduler")

CRAWL_STOP_TIMEOUT = 20.0  # seconds a crawl gets to close its run after SIGTERM


def pid_alive(pid: int | None) -> bool:
    return pid is not None and pid > 0 and process_alive(pid)


def close_interrupted_crawl_runs(db: Database, pid: int | None = None) -> int:
    """Crawl runs left open by a process that is gone (killed with a previous service, or a
    power cut) are closed as 'interrupted', so status and failure counts stay truthful.
    With `pid`, only that (finished) process's runs."""
    stale = crawl_history.open_runs(db, pid)
    if pid is None:
        stale = [row for row in stale if not pid_alive(row["pid"])]
    for row in stale:
        crawl_history.close_as_interrupted(db, row["id"], row["pid"])
    return len(stale)


def crawl_in_progress(db: Database, site_id: str) -> int | None:
    """The pid of a live crawl of this site (e.g. an operator's manual `pantau crawl`)."""
    return next((pid for pid in crawl_history.open_run_pids(db, site_id) if pid_alive(pid)), None)


@dataclass
class CrawlRunner:
    """Runs each scheduled crawl in the service's crawl host and waits for its result."""

    db_path: Path
    config: ServiceConfig
    state: ScheduleState
    max_run_seconds: float = 7200.0
    hosts: HostSupervisor = field(init=False)
    _stopping: bool = False
    # Crawls requested by `pantau crawl SITE` (pantau/service/handoff.py), by site: those
    # waiting for a crawl slot, and those a running crawl of the site will answer.
    _queued: dict[str, list[int]] = field(default_factory=dict, init=False)
    _running: dict[str, list[int]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.hosts = HostSupervisor(self.db_path, self.config.directory, self.config.settings)

    def can_take_request(self, site_id: str) -> bool:
        """A request is taken when a crawl of its site is already on the way or a crawl
        slot is free; otherwise it stays pending, and its command may crawl by itself."""
        with self._lock:
            if site_id in self._running or site_id in self._queued:
                return True
            busy = len(self._running) + len(self._queued)
        return busy < self.config.settings.crawl.max_concurrent_crawls

    def add_request(self, site_id: str, request_id: int) -> bool:
        """Attach a taken request to the site's crawl on the way; True when none is and a
        crawl job must be queued for it (`crawl_requested`)."""
        with self._lock:
            for waiting in (self._running, self._queued):
                if site_id in waiting:
                    waiting[site_id].append(request_id)
                    return False
            self._queued[site_id] = [request_id]
            return True

    def crawl_requested(self, site_id: str) -> str:
        """A requested crawl; nothing to do when a scheduled crawl has answered it since."""
        with self._lock:
            if site_id not in self._queued:
                return "answered"
        return self.crawl(site_id)

    def reconfigure(self, config: ServiceConfig) -> None:
        self.config = config
        self.max_run_seconds = config.settings.crawl.max_run_minutes * 60.0
        self.hosts.reconfigure(config.settings)

    def crawl(self, site_id: str) -> str:
        """One crawl (scheduled or requested); returns its result ('ok', 'partial', 'failed',
        'skipped'...). A site is never crawled twice at once: the requests waiting for it
        are answered by this run."""
        with self._lock:
            if site_id in self._running:
                log.info("crawl %s skipped: already running", site_id)
                return "skipped"
            self._running[site_id] = self._queued.pop(site_id, [])
        result, run_id = "skipped", None
        try:
            result, run_id = self._crawl(site_id)
        finally:
            with self._lock:
                requests = self._running.pop(site_id, [])
            if requests:
                self._answer(requests, run_id)
        return result

    def _answer(self, requests: list[int], run_id: int | None) -> None:
        db = store.open_db(self.db_path, migrate=False)
        try:
            status = "done" if run_id is not None else "skipped"
            crawl_history.answer_crawl_requests(db, requests, run_id, status)
        finally:
            db.close()

    def _crawl(self, site_id: str) -> tuple[str, int | None]:
        job_id = CRAWL_JOB_PREFIX + site_id
        site = next((s for s in self.config.enabled_sites if s.id == site_id), None)
        db = store.open_db(self.db_path, migrate=False)
        try:
            other = crawl_in_progress(db, site_id)
        finally:
            db.close()
        if other is not None:
            log.warning("crawl %s skipped: process %d is still crawling it", site_id, other)
            return "skipped", None
        if site is None or self._stopping:
            return "skipped", None
        previous = self.state.get(job_id) or {}
        resume = previous.get("last_result") in CUT_OFF
        try:
            host, future = self.hosts.submit(site, resume)
        except HostDied:
            return "skipped", None
        self.state.started(job_id)
        log.info("crawl %s started (host %d%s)", site_id, host.pid, ", resuming" * resume)
        result, run_id = self._wait(site_id, host, future)
        self.state.finished(job_id, result)
        level = logging.WARNING if result.startswith(("failed", "cut off")) else logging.INFO
        log.log(level, "crawl %s finished: %s", site_id, result)
        return result, run_id

    def _wait(
        self, site_id: str, host: CrawlHostProcess, future: Future[dict[str, Any]]
    ) -> tuple[str, int | None]:
        """The crawl's result and its run (None when the host ended before reporting)."""
        overran = False
        try:
            try:
                event = future.result(timeout=self.max_run_seconds)
            except FutureTimeout:
                overran = True
                log.warning(
                    "crawl %s still running after %.0f min: stopping it",
                    site_id,
                    self.max_run_seconds / 60,
                )
                host.stop_crawl(site_id)
                try:
                    event = future.result(timeout=CRAWL_STOP_TIMEOUT)
                except FutureTimeout:
                    log.warning(
                        "crawl host %d does not stop crawl %s: killing it", host.pid, site_id
                    )
                    host.kill()
                    raise HostDied("crawl host killed") from None
        except HostDied as exc:
            self._close_open_runs(host.pid)
            if self._stopping:
                return "interrupted", None
            if overran:
                return "timed out", None
            log.warning("crawl %s cut off: %s", site_id, exc)
            return "interrupted", None
        summary = event.get("summary") or {}
        run_id = int(summary["run_id"]) if summary.get("run_id") else None
        if overran and not self._stopping:
            return "timed out", run_id
        status = str(summary.get("status") or "failed (refused by the crawl host)")
        if summary:
            logging.getLogger(f"pantau.crawl.{site_id}").info("%s", describe_summary(summary))
        if self._stopping and status in ("interrupted", "partial"):
            return "interrupted", run_id
        return status, run_id

    def _close_open_runs(self, pid: int) -> None:
        """A host that ended before closing its runs must not leave them looking open."""
        db = store.open_db(self.db_path, migrate=False)
        try:
            close_interrupted_crawl_runs(db, pid)
        finally:
            db.close()

    def stop(self, timeout: float = CRAWL_STOP_TIMEOUT) -> None:
        """SIGTERM the crawl host (its crawls close their runs), SIGKILL it after timeout."""
        self._stopping = True
        self.hosts.stop(timeout)


def describe_summary(summary: dict[str, Any]) -> str:
    """`ok: 12 pages, 3 new, 0 updated, 9 known; failures: timeout 2`: one readable line
    of a crawl's summary for the service log."""
    failures = ", ".join(f"{cause} {n}" for cause, n in sorted(summary["failures"].items()))
    return (
        f"{summary['status']}: {summary['pages_fetched']} pages, {summary['articles_new']} new, "
        f"{summary['articles_updated']} updated, {summary['articles_skipped']} known"
        + (f"; failures: {failures}" if failures else "")
    )
