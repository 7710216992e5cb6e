"""Scrapy settings built from Pantau's settings.yaml: one place for politeness and limits.

Nothing here is read from a Scrapy project file; `crawl_sites` builds the settings for
each site so a test can shrink delays and timeouts through its own settings.yaml.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pantau.core.settings import Settings, per_database_dir

RETRY_HTTP_CODES = [500, 502, 503, 504, 520, 521, 522, 524, 408, 429]


def item_pipelines() -> dict[str, int]:
    """PANTAU_CRAWL_PIPELINE=off fetches and discovers only: the crawl benchmark's baseline."""
    if os.environ.get("PANTAU_CRAWL_PIPELINE", "on").strip().lower() == "off":
        return {}
    return {
        "crawler.pipelines.ExtractPipeline": 100,
        "crawler.pipelines.CanonicalPipeline": 150,
        "crawler.pipelines.SinceFilterPipeline": 200,
        "crawler.pipelines.StorePipeline": 300,
    }


def crawl_state_dir(settings: Settings, site_id: str, db_path: Path) -> Path:
    """Where a site's Scrapy job state (JOBDIR) lives between a kill and --resume: beside
    its database (`<db stem>-crawl-state/`) unless settings name a folder."""
    return per_database_dir(settings.crawl_state_dir, db_path, "crawl-state") / site_id


def retry_backoff_base(settings: Settings) -> float:
    """First retry waits this long, then doubles: polite without stalling tests."""
    return max(settings.crawl.download_delay, 0.1)


def scrapy_settings(settings: Settings, ingestor: str) -> dict[str, Any]:
    """`ingestor`: the dotted path of what stores the crawl's articles (the application's
    ingest pipeline), given by whoever starts the crawl and loaded as Scrapy loads item
    pipelines: the crawler never names the application."""
    crawl = settings.crawl
    values: dict[str, Any] = {
        "BOT_NAME": "pantau",
        "PANTAU_INGESTOR": ingestor,
        "USER_AGENT": crawl.resolved_user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "ROBOTSTXT_USER_AGENT": crawl.resolved_user_agent,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if crawl.download_delay > 0 else 0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_MAX_DELAY": crawl.autothrottle_max_delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DNS_TIMEOUT": min(crawl.download_timeout, 60),
        "DOWNLOAD_MAXSIZE": crawl.max_body_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retry_times,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        "PANTAU_RETRY_BACKOFF": retry_backoff_base(settings),
        "PANTAU_MAX_RETRY_AFTER": crawl.max_retry_after,
        "REDIRECT_ENABLED": True,
        "REDIRECT_MAX_TIMES": crawl.redirect_max,
        "METAREFRESH_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOG_LEVEL": "WARNING",
        "STATS_DUMP": False,
        "HTTPCACHE_ENABLED": False,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "id,en;q=0.5",
        },
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "crawler.middlewares.RequestBudgetMiddleware": 30,
            "crawler.middlewares.SchemeGuardMiddleware": 40,
            "crawler.middlewares.KnownUrlMiddleware": 45,
            # SchemeGuardMiddleware is the one scope check (scheme, host and port).
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.RobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "crawler.middlewares.DecompressionMiddleware": 590,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.middlewares.RedirectMiddleware": 600,
        },
        "ITEM_PIPELINES": item_pipelines(),
        "EXTENSIONS": {"crawler.extensions.RunStore": 500},
        # Items in flight are bounded by bytes, not by count: CONCURRENT_ITEMS limits the
        # items processed at once from ONE response (an article callback yields one), while
        # a response stays counted in the scraper's active size until its item has left the
        # last pipeline, and above SCRAPER_SLOT_MAX_ACTIVE_SIZE the engine stops taking new
        # requests. So while the ingest workers lag, at most ~5 MB of pages (~40 of 120 KB)
        # wait for them and downloads pause; crawler/worker.py hands at most
        # ingest_processes + 1 of those to the workers at a time.
        "CONCURRENT_ITEMS": 4,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 5_000_000,
        # Memory-light defaults for one machine crawling many outlets.
        "REACTOR_THREADPOOL_MAXSIZE": 4,
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
    }
    return values
