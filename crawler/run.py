"""crawl_sites: run the news spider over some sites in one Scrapy process and report.

Twisted's reactor cannot restart, so this is called at most once per process: the
scheduler and the tests run `pantau crawl` as a subprocess.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy.crawler import CrawlerProcess

from crawler.middlewares import BUDGET_SETTING
from crawler.runs import CrawlSummary, RunRecorder
from crawler.settings import crawl_state_dir, scrapy_settings
from crawler.spiders.news import NewsSpider
from crawler.worker import pool_state
from pantau.core import store
from pantau.core.settings import Settings, SiteConfig

log = logging.getLogger(__name__)


@dataclass
class CrawlOptions:
    since: date | None = None
    max_pages: int | None = None
    backfill: bool = False
    resume: bool = False
    progress: bool = False


def quiet_scrapy_logs() -> None:
    """Failures are counted in crawl_runs; Scrapy's chatter shows only with PANTAU_LOG_LEVEL.

    Scrapy resets its loggers to DEBUG when a CrawlerProcess starts, so the level is
    enforced on the root handlers instead.
    """
    level = logging.getLevelName(os.environ.get("PANTAU_LOG_LEVEL", "WARNING").upper())
    if not isinstance(level, int):
        level = logging.WARNING
    for handler in logging.getLogger().handlers:
        handler.setLevel(max(handler.level, level))
    if level >= logging.WARNING:
        for name in ("scrapy", "twisted", "py.warnings", "trafilatura", "htmldate"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def prepare_job_dir(settings: Settings, site: SiteConfig, resume: bool, db_path: Path) -> Path:
    job_dir = crawl_state_dir(settings, site.id, db_path)
    if not resume and job_dir.exists():
        shutil.rmtree(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    return job_dir


def request_budget(settings: Settings, max_pages: int) -> int:
    """Requests one site's run may send: crawl.max_requests, raised to fit --max-pages."""
    return max(settings.crawl.max_requests, 3 * max_pages)


def spider_class_for(site: SiteConfig, job_dir: Path, budget: int) -> type[NewsSpider]:
    """Per-site settings (JOBDIR, budget) ride on a subclass, as Scrapy reads them per class."""
    name = "NewsSpider_" + re.sub(r"\W", "_", site.id)
    custom = {"JOBDIR": str(job_dir), BUDGET_SETTING: budget}
    return type(name, (NewsSpider,), {"custom_settings": custom})


def summary_of(recorder: RunRecorder) -> CrawlSummary:
    counts = recorder.counts
    return CrawlSummary(
        site=recorder.site,
        run_id=recorder.run_id,
        status=recorder.status if recorder.status in ("ok", "failed") else "partial",
        pages_fetched=counts.pages_fetched,
        articles_new=counts.articles_new,
        articles_updated=counts.articles_updated,
        articles_skipped=counts.articles_skipped,
        failures=dict(counts.failures),
    )


def progress_table(recorders: list[RunRecorder]) -> Table:
    table = Table(
        "site", "pages", "new", "updated", "known", "failures", box=None, caption=pool_state()
    )
    for recorder in recorders:
        counts = recorder.counts
        table.add_row(
            recorder.site,
            str(counts.pages_fetched),
            str(counts.articles_new),
            str(counts.articles_updated),
            str(counts.articles_skipped),
            str(sum(counts.failures.values())),
        )
    return table


def crawl_sites(
    sites: list[SiteConfig],
    db_path: Path,
    settings: Settings,
    options: CrawlOptions | None = None,
    *,
    ingestor: str,
) -> list[CrawlSummary]:
    """Crawl each site once (in parallel within one reactor) and block until all finish.

    `ingestor`: the dotted path of what stores the articles (see `scrapy_settings`)."""
    options = options or CrawlOptions()
    if not sites:
        return []
    quiet_scrapy_logs()
    process = CrawlerProcess(scrapy_settings(settings, ingestor))
    quiet_scrapy_logs()
    recorders: list[RunRecorder] = []
    for site in sites:
        db = store.open_db(db_path)
        recorder = RunRecorder(db, site.id)
        recorder.start(resumed=options.resume)
        recorders.append(recorder)
        job_dir = prepare_job_dir(settings, site, options.resume, db_path)
        max_pages = options.max_pages or settings.crawl.max_pages
        process.crawl(
            spider_class_for(site, job_dir, request_budget(settings, max_pages)),
            site=site,
            recorder=recorder,
            settings_model=settings,
            since=options.since,
            max_pages=max_pages,
            backfill=options.backfill,
            conditional=not (options.since or options.backfill or options.resume),
        )
    if options.progress:
        with Live(
            get_renderable=lambda: progress_table(recorders),
            console=Console(stderr=True),
            refresh_per_second=4,
            transient=True,
        ):
            process.start()
    else:
        process.start()
    summaries = []
    for recorder in recorders:
        if recorder.status == "running":
            recorder.finish("spider did not close")
        summaries.append(summary_of(recorder))
        recorder.db.close()
    return summaries
