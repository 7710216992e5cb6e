"""Crawl jobs: each a `pantau crawl SITE` subprocess (Twisted's reactor cannot restart in one
process), watched, relayed into the service log, and stopped cleanly."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from crawler.runs import process_alive
from pantau.core import store
from pantau.core.store import crawl_history
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


def pantau_command() -> list[str]:
    """The same interpreter and package as this service, whatever is on PATH."""
    return [sys.executable, "-m", "pantau.cli"]


@dataclass
class CrawlRunner:
    """Runs `pantau crawl SITE` subprocesses and stops them cleanly on shutdown."""

    db_path: Path
    config_directory: Path
    state: ScheduleState
    max_run_seconds: float = 7200.0
    _processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: bool = False

    def crawl(self, site_id: str) -> str:
        """One scheduled crawl; returns its result ('ok', 'partial', 'failed', 'skipped...')."""
        job_id = CRAWL_JOB_PREFIX + site_id
        db = store.open_db(self.db_path, migrate=False)
        try:
            other = crawl_in_progress(db, site_id)
        finally:
            db.close()
        if other is not None:
            log.warning("crawl %s skipped: process %d is still crawling it", site_id, other)
            return "skipped"
        previous = self.state.get(job_id) or {}
        resume = previous.get("last_result") in CUT_OFF
        command = [
            *pantau_command(),
            *("crawl", site_id, "--db", str(self.db_path), "--format", "jsonl", "--no-progress"),
        ]
        if resume:
            command.append("--resume")
        env = {**os.environ, "PANTAU_CONFIG": str(self.config_directory)}
        with self._lock:
            if self._stopping:
                return "skipped"
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env=env,
                start_new_session=True,  # a Ctrl-C reaches the service, which stops crawls
            )
            self._processes[site_id] = process
        self.state.started(job_id)
        log.info("crawl %s started (pid %d%s)", site_id, process.pid, ", resuming" * resume)
        overran = threading.Event()
        watchdog = threading.Timer(self.max_run_seconds, self._overrun, [site_id, process, overran])
        watchdog.daemon = True
        watchdog.start()
        try:
            self._relay_output(site_id, process)
            code = process.wait()
        finally:
            watchdog.cancel()
            with self._lock:
                self._processes.pop(site_id, None)
            self._close_open_run(process.pid)
        if overran.is_set() and not self._stopping:
            self.state.finished(job_id, "timed out")
            return "timed out"
        if self._stopping:
            # Stopped with the service: the next start runs it again soon, resuming.
            self.state.finished(job_id, "interrupted")
            log.info("crawl %s stopped with the service (exit %d)", site_id, code)
            return "interrupted"
        result = self._result(site_id, process.pid, code)
        self.state.finished(job_id, result)
        level = logging.WARNING if result.startswith("failed") else logging.INFO
        log.log(level, "crawl %s finished: %s", site_id, result)
        return result

    def _overrun(
        self, site_id: str, process: subprocess.Popen[str], overran: threading.Event
    ) -> None:
        overran.set()
        log.warning(
            "crawl %s still running after %.0f min: stopping it",
            site_id,
            self.max_run_seconds / 60,
        )
        terminate(process)

    def _close_open_run(self, pid: int) -> None:
        """A crawl killed before it could close its crawl_runs row (e.g. SIGTERM during
        start-up) must not look like it is still running."""
        db = store.open_db(self.db_path, migrate=False)
        try:
            close_interrupted_crawl_runs(db, pid)
        finally:
            db.close()

    @staticmethod
    def _relay_output(site_id: str, process: subprocess.Popen[str]) -> None:
        """The crawl's log lines go into the service log one by one; its summary (one JSON
        object) becomes one readable line instead of a box-drawn table."""
        child_log = logging.getLogger(f"pantau.crawl.{site_id}")
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip():
                child_log.info("%s", summary_line(line) or line.rstrip())

    def _result(self, site_id: str, pid: int, code: int) -> str:
        db = store.open_db(self.db_path, migrate=False)
        try:
            status = crawl_history.run_status_of(db, site_id, pid)
        finally:
            db.close()
        if status:
            return status
        return "ok" if code == 0 else f"failed (exit {code})"

    def stop(self, timeout: float = CRAWL_STOP_TIMEOUT) -> None:
        """SIGTERM every running crawl (Scrapy closes its run), SIGKILL what outlives timeout."""
        with self._lock:
            self._stopping = True
            running = dict(self._processes)
        for site_id, process in running.items():
            log.info("stopping crawl %s (pid %d)", site_id, process.pid)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for site_id, process in running.items():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("crawl %s did not stop in %.0f s: killing it", site_id, timeout)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()


def terminate(process: subprocess.Popen[str], timeout: float = CRAWL_STOP_TIMEOUT) -> None:
    """SIGTERM (Scrapy closes its run), then SIGKILL if it outlives `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


def summary_line(line: str) -> str | None:
    """`ok: 12 pages, 3 new, 0 updated, 9 known; failures: timeout 2` from the summary that
    `pantau crawl --format jsonl` prints; None for any other line."""
    try:
        summary = json.loads(line)
    except ValueError:
        return None
    if not isinstance(summary, dict) or "pages_fetched" not in summary:
        return None
    failures = ", ".join(f"{cause} {n}" for cause, n in sorted(summary["failures"].items()))
    return (
        f"{summary['status']}: {summary['pages_fetched']} pages, {summary['articles_new']} new, "
        f"{summary['articles_updated']} updated, {summary['articles_skipped']} known"
        + (f"; failures: {failures}" if failures else "")
    )
