"""The long-lived service: APScheduler wiring of per-site crawls and the morning digest.

Wiring only. Each crawl is a `pantau crawl SITE` subprocess, because Twisted's reactor
cannot be restarted inside one process; the digest runs in-process through
`alerts.digest.run_digests`, so a SIGTERM can let a running digest finish instead of killing
it halfway through an SMTP conversation (alerts keeps delivery exactly-once either way).

Job state lives in the database (`schedule_state`), not in an APScheduler job store: the
jobs are rebuilt from config on every start, and their first run times come from what the
database says ran last. That keeps intervals going across restarts, runs a digest missed
while the service was down once (within `digest.grace_minutes`), and never repeats one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlite_utils import Database

from crawler.runs import process_alive
from pantau.core import store
from pantau.core.calendar import parse_iso
from pantau.core.settings import (
    ConfigError,
    OfficeConfig,
    PantauError,
    Settings,
    SiteConfig,
    config_dir,
    load_offices,
    load_settings,
    load_sites,
)

log = logging.getLogger("pantau.scheduler")

DIGEST_JOB_ID = "digest"
MISSED_DIGEST_JOB_ID = "digest:missed"
RETRY_JOB_ID = "digest:retry"
RETRY_CHECK_SECONDS = 60  # how often failed sends are checked against alerts' backoff
CRAWL_STOP_TIMEOUT = 20.0  # seconds a crawl gets to close its run after SIGTERM
CRAWL_JOB_PREFIX = "crawl:"
# A crawl whose last state is one of these was cut off (service stopped or killed).
CUT_OFF = frozenset({"running", "interrupted"})


class SchedulerError(PantauError):
    """The service cannot start or run."""


class AlreadyRunningError(SchedulerError):
    """Another `pantau schedule` holds the database."""


# --- single instance ------------------------------------------------------------------


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, since {self.started_at}"


def lock_path_for(db_path: Path) -> Path:
    db_path = db_path.resolve()
    return db_path.with_name(db_path.name + ".lock")


def _read_holder(handle: Any) -> LockHolder | None:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None


class InstanceLock:
    """An flock on `<db>.lock`: the kernel drops it when the holder dies, so no stale locks.

    The file also records who holds it, so a refused second instance can name the process.
    """

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.path = lock_path_for(db_path)
        self._handle: Any = None

    def acquire(self, attempts: int = 5) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        for attempt in range(attempts):
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # `pantau status` probes with a brief shared lock: retry past that.
                if attempt == attempts - 1:
                    holder = _read_holder(handle)
                    handle.close()
                    who = holder.describe() if holder else "another process"
                    raise AlreadyRunningError(
                        f"{self.db_path}: already scheduled by another `pantau schedule` "
                        f"({who}); stop it first (lock file {self.path})"
                    ) from None
                time.sleep(0.1)
        holder = LockHolder(os.getpid(), socket.gethostname(), store.utcnow())
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder.__dict__))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_scheduler(db_path: Path) -> LockHolder | None:
    """Who runs the scheduler on this database now, or None (probes without blocking it)."""
    path = lock_path_for(db_path)
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(handle) or LockHolder(0, "unknown", "")
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None


# --- configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service reads from config/, validated together so a bad reload is
    refused as a whole and the running schedule stays."""

    directory: Path
    settings: Settings
    sites: list[SiteConfig]
    offices: list[OfficeConfig]
    timezone: ZoneInfo

    @property
    def enabled_sites(self) -> list[SiteConfig]:
        return [site for site in self.sites if site.enabled]


def load_service_config(directory: Path | None = None) -> ServiceConfig:
    chosen = config_dir(directory)
    settings = load_settings(chosen)
    try:
        timezone = ZoneInfo(settings.digest.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{chosen / 'settings.yaml'}: digest.timezone: unknown time zone "
            f"{settings.digest.timezone!r}"
        ) from None
    sites = load_sites(chosen)
    config = ServiceConfig(chosen, settings, sites, load_offices(chosen), timezone)
    for site in config.enabled_sites:
        crawl_trigger(site, config)  # a bad cron expression fails the load, naming the site
    return config


def crawl_trigger(site: SiteConfig, config: ServiceConfig) -> BaseTrigger:
    """cron beats interval_seconds beats interval_minutes beats the default interval."""
    jitter = config.settings.crawl.jitter_seconds or None
    if site.cron:
        try:
            trigger = CronTrigger.from_crontab(site.cron, timezone=config.timezone)
            trigger.jitter = jitter  # from_crontab takes no jitter argument
            return trigger
        except ValueError as exc:
            raise ConfigError(
                f"{config.directory / 'sites.yaml'}: site {site.id!r}: cron {site.cron!r}: {exc}"
            ) from None
    if site.interval_seconds:
        return IntervalTrigger(seconds=site.interval_seconds, jitter=jitter)
    minutes = site.interval_minutes or config.settings.crawl.default_interval_minutes
    return IntervalTrigger(minutes=minutes, jitter=jitter)


def digest_trigger(config: ServiceConfig) -> CronTrigger:
    at = config.settings.digest.time
    return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=config.timezone)


# --- timing (pure) --------------------------------------------------------------------


def latest_daily_slot(now: datetime, at: dt_time, timezone: ZoneInfo) -> datetime:
    """The most recent moment at or before `now` when the daily job was due."""
    local_now = now.astimezone(timezone)
    slot = datetime.combine(local_now.date(), at, tzinfo=timezone)
    if slot > local_now:
        slot = datetime.combine(local_now.date() - timedelta(days=1), at, tzinfo=timezone)
    return slot


def missed_digest_slot(
    now: datetime,
    at: dt_time,
    timezone: ZoneInfo,
    grace: timedelta,
    since: datetime | None,
    last_slot: datetime | None,
) -> datetime | None:
    """The digest slot to run now because the service was down at its time, if any.

    Missed means: due after the digest was first scheduled (`since`; a fresh install has
    missed nothing), not completed yet, and no more than `grace` ago.
    """
    slot = latest_daily_slot(now, at, timezone)
    if since is None or slot <= since:
        return None
    if last_slot is not None and last_slot >= slot:
        return None
    if now - slot > grace:
        return None
    return slot


def first_crawl_time(
    trigger: BaseTrigger, last_started: datetime | None, now: datetime, jitter_seconds: int
) -> datetime:
    """When a site's crawl should first run after a (re)start.

    A site keeps its rhythm across restarts: if its next run after the last crawl is still
    ahead, wait for it; if it is overdue (or never crawled, or cut off mid-crawl) run soon,
    spread over the jitter window so sites do not all start at once.
    """
    soon = now + timedelta(seconds=random.uniform(0, jitter_seconds))
    if last_started is None:
        return soon
    due = trigger.get_next_fire_time(last_started, last_started)
    if due is None or due <= now:
        return soon
    return due


# --- schedule_state -------------------------------------------------------------------


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


def pid_alive(pid: int | None) -> bool:
    return pid is not None and pid > 0 and process_alive(pid)


def close_interrupted_crawl_runs(db: Database, pid: int | None = None) -> int:
    """Crawl runs left open by a process that is gone (killed with a previous service, or a
    power cut) are closed as 'interrupted', so status and failure counts stay truthful.
    With `pid`, only that (finished) process's runs."""
    where = "finished_at is null and coalesce(status, 'running') = 'running'"
    params: list[Any] = []
    if pid is not None:
        where += " and pid = ?"
        params.append(pid)
    stale = list(db.query(f"select id, pid from crawl_runs where {where}", params))
    if pid is None:
        stale = [row for row in stale if not pid_alive(row["pid"])]
    for row in stale:
        db.table("crawl_runs").update(
            row["id"],
            {
                "status": "interrupted",
                "finished_at": store.utcnow(),
                "error": f"interrupted: process {row['pid']} ended without closing the run",
            },
        )
    return len(stale)


def crawl_in_progress(db: Database, site_id: str) -> int | None:
    """The pid of a live crawl of this site (e.g. an operator's manual `pantau crawl`)."""
    for row in db.query(
        "select pid from crawl_runs where site = ? and finished_at is null "
        "and coalesce(status, 'running') = 'running' order by id desc",
        [site_id],
    ):
        if pid_alive(row["pid"]):
            return int(row["pid"])
    return None


# --- crawl jobs -----------------------------------------------------------------------


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
        command = [*pantau_command(), "crawl", site_id, "--db", str(self.db_path)]
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
        child_log = logging.getLogger(f"pantau.crawl.{site_id}")
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip():
                child_log.info("%s", line.rstrip())

    def _result(self, site_id: str, pid: int, code: int) -> str:
        db = store.open_db(self.db_path, migrate=False)
        try:
            row = next(
                db.query(
                    "select status from crawl_runs where site = ? and pid = ? "
                    "order by id desc limit 1",
                    [site_id, pid],
                ),
                None,
            )
        finally:
            db.close()
        if row and row["status"]:
            return str(row["status"])
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


def offices_due_for_retry(db: Database, now: datetime) -> set[str]:
    """Offices with failed deliveries whose backoff (`next_attempt_at`) has passed."""
    rows = db.execute(
        "select office, max(next_attempt_at) from deliveries where status = 'failed' "
        "group by office"
    ).fetchall()
    return {office for office, due in rows if (moment := parse_time(due)) is None or moment <= now}


# --- digest job -----------------------------------------------------------------------


@dataclass
class DigestRunner:
    """Runs each day's digest once: a slot already completed is never run again."""

    db_path: Path
    state: ScheduleState
    config: ServiceConfig
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, slot: datetime | None = None) -> str:
        config = self.config
        with self._lock:
            if slot is None:
                slot = latest_daily_slot(
                    datetime.now(UTC), config.settings.digest.time, config.timezone
                )
            row = self.state.get(DIGEST_JOB_ID) or {}
            done = parse_time(row.get("last_slot"))
            if done is not None and done >= slot:
                log.info("digest for %s already ran; skipped", slot.isoformat())
                return "skipped"
            self.state.started(DIGEST_JOB_ID)
            log.info("digest for %s started", slot.isoformat())
            try:
                result = self._send(config)
            except Exception as exc:  # one bad run never stops the service
                log.exception("digest for %s failed", slot.isoformat())
                result = f"error: {exc}"
            self.state.finished(DIGEST_JOB_ID, result, slot)
            log.info("digest for %s finished: %s", slot.isoformat(), result)
            return result

    def retry_failed(self) -> None:
        """Offices whose morning send failed are tried again once alerts' backoff allows.

        alerts keeps the failed stories pending with a `next_attempt_at`; without this job
        they would wait for tomorrow's digest.
        """
        from alerts.digest import run_digests

        config = self.config
        with self._lock:
            db = store.open_db(self.db_path, migrate=False)
            try:
                due = offices_due_for_retry(db, datetime.now(UTC))
                for office in [o for o in config.offices if o.id in due]:
                    log.info("retrying the digest for office %s", office.id)
                    for report in run_digests(
                        db, config.settings, config.offices, office_id=office.id
                    ):
                        log.info(
                            "digest retry for %s: %s%s",
                            report.office,
                            report.status,
                            f" ({report.error})" if report.error else "",
                        )
            except Exception:  # the next check tries again
                log.exception("digest retry failed")
            finally:
                db.close()

    def _send(self, config: ServiceConfig) -> str:
        from alerts.digest import run_digests

        db = store.open_db(self.db_path, migrate=False)
        try:
            reports = run_digests(db, config.settings, config.offices)
        finally:
            db.close()
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.status] = counts.get(report.status, 0) + 1
            if report.error:
                log.warning("digest for office %s: %s", report.office, report.error)
        return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no offices"


# --- the service ----------------------------------------------------------------------


class Service:
    """`pantau schedule`: holds the lock, rebuilds jobs from config and the database, runs
    until SIGTERM/SIGINT, re-reads config on SIGHUP."""

    def __init__(self, db_path: Path, config: ServiceConfig):
        self.db_path = db_path
        self.config = config
        self.state = ScheduleState(db_path)
        self.crawls = CrawlRunner(
            db_path, config.directory, self.state, config.settings.crawl.max_run_minutes * 60.0
        )
        self.digest = DigestRunner(db_path, self.state, config)
        self.lock = InstanceLock(db_path)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._recorded: dict[str, datetime | None] = {}

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

    def _record_next_runs(self, scheduler: BackgroundScheduler) -> None:
        """Next run times go to schedule_state for `pantau status` (only when they change)."""
        next_runs: dict[str, datetime | None] = {}
        for job in scheduler.get_jobs():
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
            scheduler.add_job(
                self.crawls.crawl,
                trigger=trigger,
                args=[site.id],
                id=job_id,
                name=f"crawl {site.id}",
                executor="crawl",
                next_run_time=first_crawl_time(trigger, last, now, jitter),
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
            if job.id != MISSED_DIGEST_JOB_ID:
                job.remove()
        self.config = config
        self.digest.config = config
        self.crawls.max_run_seconds = config.settings.crawl.max_run_minutes * 60.0
        self._add_jobs(scheduler, config)
        log.info("config reloaded: %d site(s) scheduled", len(config.enabled_sites))


# --- logging --------------------------------------------------------------------------


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_service_logging(json_lines: bool = False) -> None:
    """A service logs its jobs at INFO to stderr (journald keeps it); PANTAU_LOG_LEVEL wins."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(os.environ.get("PANTAU_LOG_LEVEL", "INFO").upper())
    # Our own lines say when each job starts and ends; APScheduler's repeat them.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_service(db_path: Path, config: ServiceConfig) -> int:
    return Service(db_path, config).run()


# --- status ---------------------------------------------------------------------------


@dataclass
class SiteStatus:
    site: str
    enabled: bool
    last_crawl: str | None
    result: str | None
    articles_today: int
    consecutive_failures: int
    last_error: str | None
    next_run: str | None


@dataclass
class OfficeStatus:
    office: str
    waiting: int | None  # stories the next digest will carry (None: selection unavailable)
    failed: int  # claimed stories whose send failed: retried by the next digest
    unknown: int  # sends whose outcome is unknown: an operator checks the mail log
    last_sent: str | None


@dataclass
class ServiceStatus:
    scheduler: LockHolder | None
    sites: list[SiteStatus]
    offices: list[OfficeStatus]
    digest: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheduler": (
                {"running": True, **self.scheduler.__dict__}
                if self.scheduler
                else {"running": False}
            ),
            "sites": [site.__dict__ for site in self.sites],
            "offices": [office.__dict__ for office in self.offices],
            "digest": self.digest,
        }


def local_day_start(now: datetime, timezone: ZoneInfo) -> datetime:
    local = now.astimezone(timezone)
    return datetime.combine(local.date(), dt_time(0), tzinfo=timezone)


def describe_failure(row: dict[str, Any]) -> str | None:
    """A run's error, or its commonest failure causes."""
    if row.get("error"):
        return str(row["error"])
    try:
        causes = json.loads(row.get("failure_causes") or "{}")
    except ValueError:
        return None
    top = sorted(causes.items(), key=lambda item: -item[1])[:3]
    return ", ".join(f"{cause} x{n}" for cause, n in top) or None


def site_status(
    db: Database, site: str, enabled: bool, since: datetime, scheduled: dict[str, Any]
) -> SiteStatus:
    runs = list(
        db.query(
            "select started_at, finished_at, status, error, failure_causes from crawl_runs "
            "where site = ? order by id desc limit 50",
            [site],
        )
    )
    last = runs[0] if runs else None
    failures = 0
    for run in runs:
        if run["status"] in ("running", "interrupted"):
            continue  # neither a success nor the site's fault
        if run["status"] != "failed":
            break
        failures += 1
    last_error = next(
        (describe_failure(run) for run in runs if run["status"] in ("failed", "partial")), None
    )
    today = db.execute(
        "select count(*) from articles where site = ? and datetime(fetched_at) >= datetime(?)",
        [site, iso(since)],
    ).fetchone()[0]
    last_crawl = last["started_at"] if last else None
    result = last["status"] if last else None
    spawned = scheduled.get("last_started_at")
    if spawned and (last_crawl is None or spawned > last_crawl) and scheduled.get("last_result"):
        # The crawl process died before it could open its run (e.g. a broken install).
        last_crawl, result = spawned, scheduled["last_result"]
    return SiteStatus(
        site=site,
        enabled=enabled,
        last_crawl=last_crawl,
        result=result,
        articles_today=int(today),
        consecutive_failures=failures,
        last_error=last_error,
        next_run=scheduled.get("next_run_at"),
    )


def office_status(db: Database, office: OfficeConfig, settings: Settings) -> OfficeStatus:
    counts = dict(
        db.execute(
            "select status, count(*) from deliveries where office = ? group by status",
            [office.id],
        ).fetchall()
    )
    last_sent = db.execute(
        "select max(sent_at) from deliveries where office = ? and status = 'sent'", [office.id]
    ).fetchone()[0]
    return OfficeStatus(
        office=office.id,
        waiting=waiting_stories(db, office, settings),
        failed=int(counts.get("failed", 0)),
        unknown=int(counts.get("unknown", 0)),
        last_sent=last_sent,
    )


def waiting_stories(db: Database, office: OfficeConfig, settings: Settings) -> int | None:
    """What alerts would put in this office's next digest; None if it cannot say."""
    try:
        from alerts.offices import min_score
        from alerts.selection import select_for_office

        selection = select_for_office(
            db,
            office,
            threshold=min_score(office, settings.digest.min_score),
            max_stories=1_000_000,
        )
    except Exception:  # status must show the rest even if the digest stage is broken
        log.debug("cannot count waiting stories for %s", office.id, exc_info=True)
        return None
    return len(selection.stories) + len(selection.updates)


def service_status(
    db: Database, db_path: Path, config: ServiceConfig, now: datetime | None = None
) -> ServiceStatus:
    now = now or datetime.now(UTC)
    since = local_day_start(now, config.timezone)
    states = {row["job_id"]: row for row in db.query("select * from schedule_state")}
    configured = {site.id: site.enabled for site in config.sites}
    crawled = [row[0] for row in db.execute("select distinct site from crawl_runs order by site")]
    site_ids = list(configured) + [site for site in crawled if site not in configured]
    sites = [
        site_status(
            db,
            site,
            configured.get(site, False),
            since,
            states.get(CRAWL_JOB_PREFIX + site, {}),
        )
        for site in site_ids
    ]
    offices = [office_status(db, office, config.settings) for office in config.offices]
    digest_state = states.get(DIGEST_JOB_ID, {})
    digest = {
        "time": config.settings.digest.time.isoformat(),
        "timezone": config.settings.digest.timezone,
        "last_run": digest_state.get("last_started_at"),
        "last_result": digest_state.get("last_result"),
        "next_run": digest_state.get("next_run_at"),
    }
    return ServiceStatus(running_scheduler(db_path), sites, offices, digest)
