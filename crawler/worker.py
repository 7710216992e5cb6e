"""Ingest worker processes: the crawl's CPU work runs beside the reactor, not inside it.

Extraction (trafilatura), dedup, detection (spaCy) and the store take tens of ms a page;
run in an item pipeline they block the reactor, so downloads stall and time out and the
politeness delays skew. The pipelines hand each page to a pool of `spawn`ed processes
(forking a process that runs a reactor and holds SQLite connections is unsafe), each
with its own database connection and `Ingestor`, and await the small result.

Who writes what: workers write articles, findings, dedup rows and article_urls (one short
BEGIN IMMEDIATE transaction a page, after the detector and MinHash have run); the crawl
process writes crawl_runs, crawl_errors, http_cache. A worker that dies fails only the
pages it had been handed (`IngestFailed`, recorded as `ingest-failed` by the pipeline);
the pool is replaced for the next pages.

Nothing here imports spaCy or trafilatura at module level: the crawl process imports
this module and must not load them when the worker runs them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scrapy.utils.misc import load_object

from extract.models import Article, Page

if TYPE_CHECKING:
    from pantau.core.settings import Settings


class StoredResult(Protocol):
    article_id: int
    status: str


class ArticleSink(Protocol):
    """What the crawl hands articles to: the application's ingest pipeline.

    The crawler names it by dotted path (Scrapy setting ``PANTAU_INGESTOR``) instead of
    importing it, as Scrapy names item pipelines, so the crawler stays below the
    application that wires the stages together.
    """

    def ingest_article(
        self, page: Page, article: Article, extra: dict[str, Any], aliases: Iterable[str]
    ) -> StoredResult: ...


log = logging.getLogger(__name__)

# Test-only hook: while the file named here exists, a task for a URL that contains the
# file's text waits (and writes "<file>.held" with its pid), so a test can kill a worker
# or the crawl with a page in the worker. Unset in production.
HOLD_ENV = "PANTAU_TEST_INGEST_HOLD"
PARENT_POLL_SECONDS = 0.5
TASKS_PER_PAGE = 2  # an extract task and a store task
RSS_CHECK_TASKS = 50  # a worker's memory is read every this many tasks
QUIET_LOGGERS = ("trafilatura", "htmldate", "py.warnings")

T = TypeVar("T")


class IngestFailed(Exception):
    """The worker process ingesting a page died (crash, OOM kill): the page was not stored."""


# --- payloads and results: small, picklable -------------------------------------------


@dataclass(frozen=True)
class ExtractJob:
    url: str
    bodies: list[bytes]


@dataclass(frozen=True)
class Extracted:
    """The joined article, or why the page yields none (an ExtractionError's message)."""

    article: Article | None = None
    error: str | None = None


@dataclass(frozen=True)
class StoreJob:
    url: str  # the fetched URL, canonicalised
    html: bytes  # the first page's body, kept for re-extraction
    site: str
    fetched_at: datetime
    article: Article
    extra: dict[str, str] = field(default_factory=dict)  # etag, last_modified, source_date
    aliases: tuple[str, ...] = ()  # other URLs the article was reached by


@dataclass(frozen=True)
class Stored:
    status: str  # "new" | "updated" | "unchanged"
    article_id: int


# --- the work, shared by the worker and the in-process mode ----------------------------


def extract_pages(job: ExtractJob) -> Extracted:
    """Page bytes -> one Article (a multi-page article joined)."""
    from extract.text import ExtractionError, extract_article, join_pages

    try:
        pages = [extract_article(body, job.url) for body in job.bodies]
    except ExtractionError as exc:
        return Extracted(error=str(exc))
    return Extracted(article=join_pages(pages) if len(pages) > 1 else pages[0])


def store_article(ingestor: ArticleSink, job: StoreJob) -> Stored:
    """Ingest the article with the URLs it was reached by (one short write transaction)."""
    page = Page(url=job.url, html=job.html, site=job.site, fetched_at=job.fetched_at)
    result = ingestor.ingest_article(page, job.article, dict(job.extra), job.aliases)
    return Stored(result.status, result.article_id)


# --- inside a worker process -----------------------------------------------------------

_ingestor: ArticleSink | None = None


def start_worker(db_path: str, settings: Settings, parent_pid: int, ingestor: str) -> None:
    """Initializer of each worker: its own connection, detector and language model."""
    global _ingestor
    started = time.perf_counter()
    follow_parent_signals()
    watch_parent(parent_pid)
    quiet_worker_logs()
    from extract.text import detect_language
    from pantau.core import store

    _ingestor = load_object(ingestor)(store.open_db(db_path, migrate=False), settings)
    detect_language("Bawaslu mengawasi netralitas aparatur sipil negara.")
    log.info("ingest worker %d ready in %.1f s", os.getpid(), time.perf_counter() - started)


def follow_parent_signals() -> None:
    """Leave Ctrl-C to the crawl process, which stops gracefully.

    SIGINT from a terminal reaches the whole process group; the crawl process then waits
    for the pages in flight, so a worker must not die under it. SIGTERM keeps its default:
    the executor terminates the survivors of a broken pool with it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def watch_parent(parent_pid: int) -> None:
    """Exit when the crawl process is gone (SIGKILL): a worker must not outlive it.

    An idle worker would see EOF on its queue only if no one else held the pipe's write
    end, and a busy one would finish its page first; polling the parent pid covers both.
    """

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(PARENT_POLL_SECONDS)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def quiet_worker_logs() -> None:
    level = logging.getLevelName(os.environ.get("PANTAU_LOG_LEVEL", "WARNING").upper())
    level = level if isinstance(level, int) else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level >= logging.WARNING:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def hold_for_test(url: str) -> None:
    hold = os.environ.get(HOLD_ENV)
    if not hold:
        return
    path = Path(hold)
    try:
        wanted = path.read_text(encoding="utf-8").strip()
    except OSError:
        return
    if not wanted or wanted not in url:
        return
    Path(f"{hold}.held").write_text(str(os.getpid()), encoding="utf-8")
    while path.exists():
        time.sleep(0.05)


def extract_task(job: ExtractJob) -> Extracted:
    hold_for_test(job.url)
    return extract_pages(job)


def store_task(job: StoreJob) -> Stored:
    hold_for_test(job.url)
    if _ingestor is None:
        raise RuntimeError("ingest worker not initialised")
    return store_article(_ingestor, job)


# --- in the crawl process ----------------------------------------------------------------


class IngestPool:
    """A ProcessPoolExecutor that is replaced, not fatal, when one of its workers dies.

    At most `processes + 1` pages are handed to the executor at a time (one queued per
    worker keeps it busy while the reactor is slow to hand over the next); the rest wait
    here. A dead worker breaks every page handed over, so this bounds what a crash costs.
    """

    def __init__(self, db_path: str, settings: Settings, processes: int, ingestor: str):
        self.ingestor = ingestor
        self.db_path = db_path
        self.settings = settings
        self.processes = processes
        # Made with the first page: even an idle executor starts multiprocessing's
        # resource tracker, a process a crawl that finds nothing new does not need.
        self.executor: ProcessPoolExecutor | None = None
        self.handed_over = asyncio.Semaphore(processes + 1)
        self.users = 0
        self.tasks = 0  # extract and store tasks handed over; none: no worker was started
        # A long-lived pool (the crawl host's) replaces its workers now and then, as
        # Celery's max-tasks-per-child does: spaCy's vocabulary grows with every new word.
        self.recycle_after = TASKS_PER_PAGE * settings.crawl.worker_max_pages
        self.recycle_mb = settings.crawl.worker_max_mb
        self.executor_tasks = 0
        self.completed = 0

    def new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
            initargs=(self.db_path, self.settings, os.getpid(), self.ingestor),
        )

    def warm(self) -> None:
        """Start the workers now, so they load the models before the first page needs them."""
        self.current().submit(os.getpid)

    async def run(self, task: Callable[[Any], T], job: Any) -> T:
        async with self.handed_over:
            self.tasks += 1
            self.executor_tasks += 1
            executor = self.current()
            try:
                future = executor.submit(task, job)
            except BrokenProcessPool:  # broke since the last page: hand this one to a new pool
                executor = self.replace(executor)
                future = executor.submit(task, job)
            try:
                result = await asyncio.wrap_future(future)
                self.completed += 1
                return result
            except BrokenProcessPool as exc:
                self.replace(executor)
                raise IngestFailed(f"ingest worker died: {exc}") from None

    def current(self) -> ProcessPoolExecutor:
        if self.executor is not None and self.due_for_recycling(self.executor):
            self.retire(self.executor)
        if self.executor is None:
            self.executor = self.new_executor()
            self.executor_tasks = 0
        return self.executor

    def due_for_recycling(self, executor: ProcessPoolExecutor) -> bool:
        if self.executor_tasks >= self.recycle_after:
            return True
        if self.executor_tasks == 0 or self.executor_tasks % RSS_CHECK_TASKS:
            return False
        return max(map(rss_mb, worker_pids(executor)), default=0.0) > self.recycle_mb

    def retire(self, executor: ProcessPoolExecutor) -> None:
        """New pages go to new workers; the old ones finish theirs, then exit."""
        log.info("recycling the ingest workers after %d tasks", self.executor_tasks)
        executor.shutdown(wait=False)
        self.executor = None

    def replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        if self.executor is broken:
            log.warning("an ingest worker died; starting a new pool")
            broken.shutdown(wait=False, cancel_futures=True)
            self.executor = self.new_executor()
        return self.current()

    def shutdown(self) -> None:
        """Wait for the pages in flight, then stop the workers."""
        if self.executor is not None:
            self.executor.shutdown(wait=True)


def pool_state() -> str:
    """What the crawl's ingest workers are doing, for a progress display."""
    pool = _pool
    if pool is None or pool.tasks == 0:
        return "ingest workers: not started (no new page yet)"
    if pool.completed == 0:
        return "ingest workers: loading the language model and rules (5-8 s, once a crawl)"
    return f"ingest workers: ready, {pool.completed} task(s) done"


def worker_pids(executor: ProcessPoolExecutor) -> list[int]:
    processes = getattr(executor, "_processes", None) or {}
    return [int(pid) for pid in processes]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


_pool: IngestPool | None = None


def acquire_pool(db_path: str, settings: Settings, ingestor: str) -> IngestPool:
    """The crawl process's one pool, shared by every site's spider (one database).

    Its workers start with the first page handed over, not here: each loads the detector
    (5-8 s of CPU), and many scheduled crawls of an outlet find nothing new.
    """
    global _pool
    if _pool is None:
        _pool = IngestPool(db_path, settings, settings.crawl.ingest_processes, ingestor)
    _pool.users += 1
    return _pool


async def release_pool(pool: IngestPool) -> None:
    """The last spider to close shuts the pool down, off the reactor thread."""
    global _pool
    pool.users -= 1
    if pool.users > 0:
        return
    if _pool is pool:
        _pool = None
    log.info("ingest pool closed: %d tasks handed to its workers", pool.tasks)
    await asyncio.to_thread(pool.shutdown)
