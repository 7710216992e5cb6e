"""One demo run: serve the outlets, crawl them with the real spider, deliver each office's
digest to the SMTP sink, and gather what the summary shows."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pantau.case_threads import refresh_cases
from pantau.core import store
from pantau.core.settings import Settings, resolve_path
from pantau.demo.data import DEFAULT_PORT_BASE, DEMO_DIR, HOST, DemoError, Outlet, load_demo
from pantau.demo.servers import serving, smtp_sink
from pantau.demo.site import build_sites
from pantau.demo.summary import (
    OfficeResult,
    articles_per_site,
    office_results,
    shared_stories,
    verdict_counts,
)
from pantau.wiring import INGESTOR_PATH


@dataclass
class DemoOptions:
    db: Path | None = None
    outbox: Path | None = None
    port_base: int = DEFAULT_PORT_BASE
    keep_serving: bool = False
    progress: bool = False
    directory: Path = DEMO_DIR


@dataclass
class DemoResult:
    db_path: Path
    outbox: Path
    outlets: list[Outlet]
    pages_built: dict[str, int]
    crawl: list[Any]
    verdicts: dict[str, int]
    articles_per_site: dict[str, int]
    shared_stories: list[dict[str, Any]]
    offices: list[OfficeResult]
    mails_received: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def demo_settings(base: Settings, db_path: Path, outbox: Path, smtp_port: int) -> Settings:
    """The demo's settings, pointed at this run's database folder, outbox and SMTP sink."""
    return base.model_copy(
        update={
            "db_path": str(db_path),
            "outbox_dir": str(outbox),
            "smtp": base.smtp.model_copy(update={"host": HOST, "port": smtp_port}),
        }
    )


def demo_database(explicit: Path | None, default: Path) -> Path:
    """The demo's own database folder is made on first run; a --db must name an existing
    directory, like every command that writes (a typo never makes directories)."""
    if explicit is None:
        default.parent.mkdir(parents=True, exist_ok=True)
        return default
    if not explicit.is_file() and not explicit.parent.is_dir():
        raise DemoError(
            f"{explicit}: no such database, and its directory {explicit.parent} does not exist"
        )
    return explicit


def import_stages() -> tuple[Any, Any, Any]:
    """The stages the demo drives; a missing one is reported, not stubbed."""
    try:
        from crawler.run import CrawlOptions, crawl_sites
    except ImportError as exc:
        raise DemoError(f"the crawler stage is missing (crawler.run: {exc})") from None
    try:
        from alerts.digest import run_digests
    except ImportError as exc:
        raise DemoError(f"the alerts stage is missing (alerts.digest: {exc})") from None
    return CrawlOptions, crawl_sites, run_digests


def run_demo(
    options: DemoOptions,
    say: Callable[[str], None] = lambda _: None,
    report: Callable[[DemoResult], None] = lambda _: None,
) -> DemoResult:
    """Serve, crawl, digest; `report` sees the result while the outlets are still up."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    CrawlOptions, crawl_sites, run_digests = import_stages()  # noqa: N806
    data = load_demo(options.directory, options.port_base)
    # Only --db or the demo's own settings: PANTAU_DB may name a production database.
    db_path = demo_database(options.db, resolve_path(data.settings.db_path))
    outbox = options.outbox or resolve_path(data.settings.outbox_dir)
    sites = build_sites(data, options.directory)
    timings["build"] = time.monotonic() - started
    with serving(data.outlets, sites), smtp_sink() as (smtp_port, sink):
        settings = demo_settings(data.settings, db_path, outbox, smtp_port)
        ports = [o.port for o in data.outlets]
        say(
            f"serving {', '.join(o.name for o in data.outlets)} on {HOST}:{min(ports)}-"
            f"{max(ports)} and an SMTP sink on :{smtp_port}; crawling them"
        )
        mark = time.monotonic()
        crawl = crawl_sites(
            [o.site for o in data.outlets],
            db_path,
            settings,
            CrawlOptions(backfill=True, progress=options.progress),
            ingestor=INGESTOR_PATH,
        )
        timings["crawl"] = time.monotonic() - mark
        say("building and delivering each office's digest")
        mark = time.monotonic()
        db = store.open_db(db_path)
        try:
            refresh_cases(db)
            reports = run_digests(db, settings, data.offices)
            timings["digest"] = time.monotonic() - mark
            result = DemoResult(
                db_path=db_path,
                outbox=outbox,
                outlets=data.outlets,
                pages_built={site: len(pages) for site, pages in sites.items()},
                crawl=crawl,
                verdicts=verdict_counts(db, data.outlets),
                articles_per_site=articles_per_site(db, data.outlets),
                shared_stories=shared_stories(db, data.outlets),
                offices=office_results(db, data.offices, reports, sink.received),
                mails_received=len(sink.received),
                seconds=time.monotonic() - started,
                timings=timings,
            )
        finally:
            db.close()
        report(result)
        if options.keep_serving:
            say_serving(data.outlets, smtp_port, say)
            wait_for_interrupt()
    return result


def say_serving(outlets: list[Outlet], smtp_port: int, say: Callable[[str], None]) -> None:
    for outlet in outlets:
        say(f"{outlet.name}: {outlet.base}/")
    say(f"SMTP sink: {HOST}:{smtp_port}. Press Ctrl-C to stop.")


def wait_for_interrupt() -> None:
    """Scrapy took over SIGINT for its reactor; give Ctrl-C back to Python first."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
