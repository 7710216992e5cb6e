"""`pantau schedule`: the APScheduler wiring of crawl jobs, the digest and its retries."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pantau.core import store
from pantau.core.settings import PantauError
from pantau.service.config import ServiceConfig, crawl_trigger, digest_trigger, load_service_config
from pantau.service.crawls import CrawlRunner, close_interrupted_crawl_runs
from pantau.service.digests import DigestRunner
from pantau.service.handoff import take_crawl_requests
from pantau.service.lock import InstanceLock
from pantau.service.state import (
    CRAWL_JOB_PREFIX,
    CUT_OFF,
    DIGEST_JOB_ID,
    MISSED_DIGEST_JOB_ID,
    RETRY_JOB_ID,
    ScheduleState,
    parse_time,
)
from pantau.service.timing import first_crawl_time, keep_phase, missed_digest_slot

log = logging.getLogger("pantau.scheduler")

RETRY_CHECK_SECONDS = 60  # how often failed sends are checked against alerts' backoff
REQUEST_JOB_PREFIX = "request:"  # a crawl `pantau crawl SITE` handed to the service


class Service:
    """`pantau schedule`: holds the lock, rebuilds jobs from config and the database, runs
    until SIGTERM/SIGINT, re-reads config on SIGHUP."""

    def __init__(self, db_path: Path, config: ServiceConfig):
        self.db_path = db_path
        self.config = config
        self.state = ScheduleState(db_path)
        self.crawls = CrawlRunner(
            db_path, config, self.state, config.settings.crawl.max_run_minutes * 60.0
        )
        self.digest = DigestRunner(db_path, self.state, config)
        self.lock = InstanceLock(db_path, config.timezone)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._recorded: dict[str, datetime | None] = {}
        self._request_jobs = itertools.count(1)

    # signals only set flags; the main loop acts on them
    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self._stop.set()

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self._reload.set()

    def run(self) -> int:
        # Handlers first: a signal during start-up must not kill the process half-way.
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        self.lock.acquire()
        try:
            db = store.open_db(self.db_path)
            try:
                closed = close_interrupted_crawl_runs(db)
            finally:
                db.close()
            if closed:
                log.info("closed %d crawl run(s) left open by a previous process", closed)
            self._serve()
        finally:
            self.lock.release()
        return 0

    def _serve(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=self.config.timezone,
            executors={
                "crawl": ThreadPoolExecutor(self.config.settings.crawl.max_concurrent_crawls),
                "digest": ThreadPoolExecutor(1),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._scheduler = scheduler
        self._add_jobs(scheduler, self.config)
        scheduler.start()
        log.info(
            "scheduling %d site(s) and the digest at %s %s (pid %d)",
            len(self.config.enabled_sites),
            self.config.settings.digest.time.isoformat(),
            self.config.settings.digest.timezone,
            os.getpid(),
        )
        try:
            while not self._stop.is_set():
                self._record_next_runs(scheduler)
                self._take_crawl_requests(scheduler)
                self._stop.wait(1.0)
                if self._reload.is_set():
                    self._reload.clear()
                    self.reload()
        finally:
            self._shutdown(scheduler)

    def _shutdown(self, scheduler: BackgroundScheduler) -> None:
        scheduler.pause()  # no new jobs from here on
        self.crawls.stop()
        log.info("waiting for running jobs to finish")
        scheduler.shutdown(wait=True)  # a running digest completes
        self.state.clear_next_runs()
        log.info("stopped")

    def _take_crawl_requests(self, scheduler: BackgroundScheduler) -> None:
        """Crawls handed over by `pantau crawl SITE` run like a due scheduled crawl."""

        def queue_crawl(site_id: str) -> None:
            scheduler.add_job(
                self.crawls.crawl_requested,
                args=[site_id],
                id=f"{REQUEST_JOB_PREFIX}{site_id}:{next(self._request_jobs)}",  # never reused
                name=f"requested crawl {site_id}",
                executor="crawl",
                next_run_time=datetime.now(UTC),
                misfire_grace_time=None,
            )

        try:
            take_crawl_requests(self.db_path, self.crawls, queue_crawl)
        except Exception:  # a busy database must not stop the service
            log.warning("could not take requested crawls", exc_info=True)

    def _record_next_runs(self, scheduler: BackgroundScheduler) -> None:
        """Next run times go to schedule_state for `pantau status` (only when they change)."""
        next_runs: dict[str, datetime | None] = {}
        for job in scheduler.get_jobs():
            if job.id.startswith(REQUEST_JOB_PREFIX):
                continue
            job_id = DIGEST_JOB_ID if job.id == MISSED_DIGEST_JOB_ID else job.id
            moment = job.next_run_time
            earlier = next_runs.get(job_id)
            if earlier is not None and (moment is None or earlier < moment):
                moment = earlier
            next_runs[job_id] = moment
        if next_runs == self._recorded:
            return
        try:
            self.state.record_next_runs(next_runs)
            self._recorded = next_runs
        except Exception:  # a busy database must not stop the service
            log.warning("could not record next run times", exc_info=True)

    def _add_jobs(self, scheduler: BackgroundScheduler, config: ServiceConfig) -> None:
        now = datetime.now(UTC)
        jitter = config.settings.crawl.jitter_seconds
        for site in config.enabled_sites:
            job_id = CRAWL_JOB_PREFIX + site.id
            row = self.state.ensure(job_id, "crawl", site.id)
            trigger = crawl_trigger(site, config)
            cut_off = row.get("last_result") in CUT_OFF
            last = None if cut_off else parse_time(row.get("last_started_at"))
            first = first_crawl_time(trigger, last, now, jitter)
            scheduler.add_job(
                self.crawls.crawl,
                trigger=keep_phase(trigger, first),
                args=[site.id],
                id=job_id,
                name=f"crawl {site.id}",
                executor="crawl",
                next_run_time=first,
                misfire_grace_time=None,  # a crawl waiting for a free slot still runs
            )
        row = self.state.ensure(DIGEST_JOB_ID, "digest", "all offices")
        grace = timedelta(minutes=config.settings.digest.grace_minutes)
        scheduler.add_job(
            self.digest.run,
            trigger=digest_trigger(config),
            id=DIGEST_JOB_ID,
            name="digest",
            executor="digest",
            misfire_grace_time=max(1, int(grace.total_seconds())),
        )
        missed = missed_digest_slot(
            now,
            config.settings.digest.time,
            config.timezone,
            grace,
            parse_time(row.get("since")),
            parse_time(row.get("last_slot")),
        )
        if missed is not None:
            log.info("digest for %s was missed while stopped: running it now", missed)
            scheduler.add_job(
                self.digest.run,
                args=[missed],
                id=MISSED_DIGEST_JOB_ID,
                name="missed digest",
                executor="digest",
                next_run_time=now,
                misfire_grace_time=None,
                replace_existing=True,
            )
        scheduler.add_job(
            self.digest.retry_failed,
            trigger=IntervalTrigger(seconds=RETRY_CHECK_SECONDS),
            id=RETRY_JOB_ID,
            name="digest retries",
            executor="digest",
        )

    def reload(self) -> None:
        """SIGHUP: re-read config; a broken config is refused and the old schedule kept."""
        try:
            config = load_service_config(self.config.directory)
        except PantauError as exc:
            log.error("config not reloaded, keeping the running schedule: %s", exc)
            return
        old = self.config.settings.crawl.max_concurrent_crawls
        if config.settings.crawl.max_concurrent_crawls != old:
            log.warning("crawl.max_concurrent_crawls changes take effect on restart")
        if config.timezone != self.config.timezone:
            log.warning("digest.timezone changes take effect on restart")
        scheduler = self._scheduler
        assert scheduler is not None
        for job in scheduler.get_jobs():
            if job.id != MISSED_DIGEST_JOB_ID and not job.id.startswith(REQUEST_JOB_PREFIX):
                job.remove()
        self.config = config
        self.digest.config = config
        self.crawls.reconfigure(config)
        self._add_jobs(scheduler, config)
        log.info("config reloaded: %d site(s) scheduled", len(config.enabled_sites))


def run_service(db_path: Path, config: ServiceConfig) -> int:
    return Service(db_path, config).run()
