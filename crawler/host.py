"""The crawl host: one long-lived process that runs many sites' crawls in one reactor.

`pantau schedule` starts it (`python -m crawler.host --db PATH`) and feeds it over a pipe.
Each scheduled crawl used to be its own `pantau crawl` process paying its start-up again
(Python, Scrapy, and 5-8 s of CPU for the detector in its ingest worker before its first
article); here Scrapy, the settings and one ingest pool (crawler/worker.py, its workers
loading the models once) are shared by every crawl the host runs, so a crawl costs its
fetches and its pages only.

Protocol, one JSON object a line. In (stdin): ``{"crawl": {"site": {...SiteConfig...},
"resume": bool}}`` starts a crawl of that site; ``{"stop": "site-id"}`` stops one (its run
closes as interrupted); end of input: finish the crawls in flight, then exit. Out (stdout):
``{"event": "ready", "pid": N}``, then per crawl ``{"event": "started", "site", "run_id"}``
and ``{"event": "finished", "site", "summary": {...}, "crawls": N, "rss_mb": M}``. Logs go
to stderr, which the service relays into its own log.

Isolation: each site has its own Crawler (its own downloader slots, request budget and
time limit, CLOSESPIDER_TIMEOUT), so a site that hangs or floods holds only its own crawl.
SIGTERM (also sent by the kernel when the service dies, PR_SET_PDEATHSIG, and on a parent
pid change) stops every crawl; their runs close as interrupted and resume next time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, Self

from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import BaseSettings, SettingsAttribute
from scrapy.settings import Settings as ScrapySettings

from crawler.run import (
    CrawlOptions,
    CrawlSummary,
    prepare_job_dir,
    request_budget,
    summary_of,
)
from crawler.runs import RunRecorder
from crawler.settings import scrapy_settings
from crawler.spiders.news import NewsSpider
from crawler.worker import IngestPool, acquire_pool, release_pool, rss_mb
from pantau.core import store
from pantau.core.settings import Settings, SiteConfig, load_settings

log = logging.getLogger("crawler.host")

PR_SET_PDEATHSIG = 1
PARENT_POLL_SECONDS = 0.5
QUIET_LOGGERS = ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate", "asyncio")
STOP_DEADLINE_SECONDS = 25.0  # a host told to stop exits by then, crawls closed or not


class SharedSettings(ScrapySettings):
    """Scrapy settings that copy cheaply.

    Every Crawler deep-copies its settings (Scrapy's ~300 defaults, nested component
    tables: tens of ms). A host starting thousands of crawls an hour copies each setting's
    record and its mutable containers instead, sharing the immutable values.
    """

    def copy(self) -> Self:
        return copied_settings(self)


def copied_settings(settings: BaseSettings) -> Any:
    clone = object.__new__(type(settings))
    clone.__dict__.update(settings.__dict__)
    clone.frozen = False
    clone.attributes = {name: copied_attribute(a) for name, a in settings.attributes.items()}
    return clone


def copied_attribute(attribute: SettingsAttribute) -> SettingsAttribute:
    clone = object.__new__(SettingsAttribute)
    value = attribute.value
    if isinstance(value, BaseSettings):
        value = copied_settings(value)
    elif isinstance(value, dict | list | set):
        value = value.copy()
    clone.value, clone.priority = value, attribute.priority
    return clone


# Scrapy components every Crawler would load, build (or try to: most answer NotConfigured
# under our settings) and check the signatures of, for nothing a host's crawl uses: the
# non-HTTP download handlers (SchemeGuardMiddleware lets only http(s) out; the s3
# handler's failed botocore import is searched for again by every crawler), the
# middlewares our settings switch off, the log-line counter (a logging handler added and
# removed per crawl) and the debugging aids.
UNUSED_IN_THE_HOST = {
    "DOWNLOAD_HANDLERS": ("data", "file", "s3", "ftp"),
    "DOWNLOADER_MIDDLEWARES": (
        "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware",
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
        "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    ),
    "SPIDER_MIDDLEWARES": ("scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware",),
    "EXTENSIONS": (
        "scrapy.extensions.feedexport.FeedExporter",
        "scrapy.extensions.logcount.LogCount",
        "scrapy.extensions.logstats.LogStats",
        "scrapy.extensions.memusage.MemoryUsage",
        "scrapy.extensions.memdebug.MemoryDebugger",
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
    ),
}


def host_scrapy_settings(settings: Settings, ingestor: str) -> dict[str, Any]:
    """The host's Scrapy settings: the crawl's, less what a long-lived host must not keep.

    Scrapy's DNS cache is process-wide with no expiry, so a host living for days resolves
    every time instead of keeping an outlet's old address. Per-crawler timers (LogStats,
    MemoryUsage: the service watches the host's memory), the check of each callback's
    source code for `return` (parsed again for every crawler) and the components in
    UNUSED_IN_THE_HOST cost CPU in every one of thousands of crawls and serve nothing here.
    """
    values = scrapy_settings(settings, ingestor)
    for name, unused in UNUSED_IN_THE_HOST.items():
        values[name] = {**values.get(name, {}), **dict.fromkeys(unused)}
    return {
        **values,
        "DNSCACHE_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "MEMUSAGE_ENABLED": False,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
    }


def site_crawler(base: SharedSettings, settings: Settings, job_dir: Path, budget: int) -> Crawler:
    """A crawler of one site: the host's settings plus its job state, budget and time limit
    (set on the crawler's own copy, so the settings are copied once a crawl)."""
    crawler = Crawler(NewsSpider, base)
    crawler.settings.set("JOBDIR", str(job_dir), "spider")
    crawler.settings.set("CLOSESPIDER_PAGECOUNT", budget, "spider")
    crawler.settings.set("CLOSESPIDER_TIMEOUT", settings.crawl.max_run_minutes * 60, "spider")
    return crawler


class CrawlHost:
    """Runs the crawls it is asked for, each as its own Crawler, and reports each result."""

    def __init__(self, db_path: Path, settings: Settings, out: IO[str], ingestor: str):
        self.ingestor = ingestor
        self.db_path = db_path
        self.settings = settings
        self.out = out
        self.crawlers: dict[str, Crawler] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.crawls = 0
        self.accepting = True
        self.pool: IngestPool | None = None
        self.scrapy_settings = SharedSettings(host_scrapy_settings(settings, ingestor))

    def emit(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def begin(self) -> None:
        if self.settings.crawl.ingest_processes > 0:
            self.pool = acquire_pool(str(self.db_path), self.settings, self.ingestor)
            self.pool.warm()
        self.emit({"event": "ready", "pid": os.getpid()})

    def handle(self, line: str) -> None:
        try:
            message = json.loads(line)
            if "crawl" in message:
                request = message["crawl"]
                site = SiteConfig.model_validate(request["site"])
                self.start(site, CrawlOptions(resume=bool(request.get("resume"))))
            elif "stop" in message:
                self.stop_one(str(message["stop"]))
        except Exception:
            log.exception("crawl host: bad request %r", line[:200])

    def start(self, site: SiteConfig, options: CrawlOptions) -> None:
        if not self.accepting or site.id in self.crawlers:
            log.warning(
                "crawl %s not started: %s",
                site.id,
                "host stopping" if not self.accepting else "already running",
            )
            self.emit({"event": "refused", "site": site.id})
            return
        task = asyncio.ensure_future(self.crawl(site, options))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def crawl(self, site: SiteConfig, options: CrawlOptions) -> None:
        db = store.open_db(self.db_path, migrate=False)
        recorder = RunRecorder(db, site.id)
        try:
            recorder.start(resumed=options.resume)
            self.emit({"event": "started", "site": site.id, "run_id": recorder.run_id})
            job_dir = prepare_job_dir(self.settings, site, options.resume, self.db_path)
            max_pages = options.max_pages or self.settings.crawl.max_pages
            budget = request_budget(self.settings, max_pages)
            crawler = site_crawler(self.scrapy_settings, self.settings, job_dir, budget)
            self.crawlers[site.id] = crawler
            await crawler.crawl_async(
                site=site,
                recorder=recorder,
                settings_model=self.settings,
                since=options.since,
                max_pages=max_pages,
                backfill=options.backfill,
                conditional=not (options.since or options.backfill or options.resume),
            )
        except Exception as exc:
            log.exception("crawl %s failed in the host", site.id)
            if recorder.run_id and recorder.status == "running":
                recorder.finish(f"error: {type(exc).__name__}: {exc}")
        finally:
            self.crawlers.pop(site.id, None)
            self.crawls += 1
            if recorder.run_id and recorder.status == "running":
                recorder.finish("spider did not close")
            summary: CrawlSummary = summary_of(recorder)
            db.close()
            self.emit(
                {
                    "event": "finished",
                    "site": site.id,
                    "summary": asdict(summary),
                    "crawls": self.crawls,
                    "rss_mb": round(rss_mb(os.getpid()), 1),
                }
            )

    def stop_one(self, site_id: str) -> None:
        crawler = self.crawlers.get(site_id)
        if crawler is not None:
            log.info("stopping crawl %s on request", site_id)
            asyncio.ensure_future(crawler.stop_async())

    async def drain(self, stop_crawls: bool) -> None:
        """No new crawls; stop (or let finish) those in flight; close the pool; exit."""
        self.accepting = False
        if stop_crawls:
            for crawler in list(self.crawlers.values()):
                asyncio.ensure_future(crawler.stop_async())
        while self.tasks:
            await asyncio.wait(set(self.tasks))
        if self.pool is not None:
            pool, self.pool = self.pool, None
            await release_pool(pool)
        from twisted.internet import reactor

        reactor.stop()  # type: ignore[misc]


# --- process plumbing -----------------------------------------------------------------------


def die_with_parent(parent_pid: int, on_gone: Any) -> None:
    """The host never outlives the service, even one killed with SIGKILL outside systemd.

    The kernel sends SIGTERM when the parent dies (PR_SET_PDEATHSIG, Linux); a thread
    polling the parent pid covers the rest (another OS, or a parent thread that ended).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        on_gone()

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        on_gone()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def read_requests(host: CrawlHost, source: IO[str], call: Any) -> None:
    """Hand each request line to the reactor; end of input drains the host."""

    def read() -> None:
        for line in source:
            if line.strip():
                call(host.handle, line)
        call(lambda: asyncio.ensure_future(host.drain(stop_crawls=False)))

    threading.Thread(target=read, name="requests", daemon=True).start()


def protocol_stream() -> IO[str]:
    """Stdout carries the protocol only: anything else printing goes to stderr instead."""
    stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return stream


class QuietLibraries(logging.Filter):
    """Scrapy and the libraries speak at WARNING unless PANTAU_LOG_LEVEL asks for more
    (a filter on the handler: Scrapy resets its loggers' levels when it starts)."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        quiet = record.name.split(".", 1)[0] in QUIET_LOGGERS
        return not quiet or record.levelno >= max(self.level, logging.WARNING)


def configure_logging() -> None:
    """The host's own lines at INFO, to stderr (the service relays them into its log)."""
    level = logging.getLevelName(os.environ.get("PANTAU_LOG_LEVEL", "WARNING").upper())
    level = level if isinstance(level, int) else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(QuietLibraries(level))
    logging.basicConfig(level=min(level, logging.INFO), handlers=[handler], force=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pantau's crawl host (started by the service).")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--parent", type=int, default=os.getppid())
    parser.add_argument(
        "--ingestor", required=True, help="dotted path of what stores the crawled articles"
    )
    args = parser.parse_args(argv)
    out = protocol_stream()
    configure_logging()
    settings = load_settings()
    process = AsyncCrawlerProcess(host_scrapy_settings(settings, args.ingestor))
    from twisted.internet import reactor

    host = CrawlHost(args.db, settings, out, args.ingestor)
    stopping = threading.Event()

    def exit_after_deadline() -> None:
        stopping.wait()
        time.sleep(STOP_DEADLINE_SECONDS)
        os._exit(3)

    # Started now, not from the SIGTERM handler: starting a thread inside a signal handler
    # can deadlock on threading's own locks, and then nothing would ever end the host.
    threading.Thread(target=exit_after_deadline, name="stop-deadline", daemon=True).start()

    def stop(*_: Any) -> None:
        if stopping.is_set():
            return
        stopping.set()
        reactor.callFromThread(lambda: asyncio.ensure_future(host.drain(stop_crawls=True)))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops the host, not a Ctrl-C
    die_with_parent(args.parent, stop)
    reactor.callWhenRunning(host.begin)
    read_requests(host, sys.stdin, reactor.callFromThread)
    process.start(stop_after_crawl=False, install_signal_handlers=False)
    log.info("crawl host %d stopped after %d crawl(s)", os.getpid(), host.crawls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
