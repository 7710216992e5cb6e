"""schedule and status: the background service and what it has been doing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from pantau.commands import (
    DbOption,
    TextTable,
    app,
    check_format,
    existing_database_path,
    new_or_existing_database_path,
    operator_time,
    out,
)
from pantau.core import store
from pantau.service.config import load_service_config
from pantau.service.logs import configure_service_logging
from pantau.service.scheduler import run_service
from pantau.service.state import parse_time
from pantau.service.status import ServiceStatus, service_status


@app.command()
def schedule(
    db: DbOption = None,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line to stderr.")
    ] = False,
) -> None:
    """Run the crawls and the morning digest on schedule until SIGTERM or Ctrl-C.

    Crawls each enabled site of sites.yaml on its interval or cron (one at a time per site,
    at most crawl.max_concurrent_crawls together) and sends the digest at digest.time.
    SIGHUP re-reads the config. Only one scheduler may run per database.
    """
    configure_service_logging(log_json)
    config = load_service_config()
    path = new_or_existing_database_path(db, config.settings)
    raise typer.Exit(run_service(path, config))


@app.command()
def status(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show each site's last crawl, each office's pending digest, and the next runs."""
    check_format(fmt, ("table", "json"))
    config = load_service_config()
    path = existing_database_path(db, config.settings)
    database = store.open_db(path)
    try:
        report = service_status(database, path, config, datetime.now(UTC))
    finally:
        database.close()
    if fmt == "json":
        out.print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), markup=False)
        return
    print_status(report, config.timezone)


def local(value: str | None, timezone: ZoneInfo) -> str:
    return operator_time(parse_time(value), timezone)


def print_status(report: ServiceStatus, timezone: ZoneInfo) -> None:
    holder = report.scheduler
    running = f"running ({holder.describe(timezone)})" if holder else "not running"
    if holder and report.usage:
        running += f"; uses {report.usage.describe()}"
    out.print(f"scheduler: {running}; times in {timezone.key}", markup=False)

    sites = TextTable(
        "site",
        "last crawl",
        "result",
        "articles today",
        "failures in a row",
        "last error",
        "next run",
        title="Sites",
    )
    for site in report.sites:
        sites.add_row(
            site.site + ("" if site.enabled else " (disabled)"),
            local(site.last_crawl, timezone),
            site.result or "-",
            str(site.articles_today),
            str(site.consecutive_failures),
            site.last_error or "",
            local(site.next_run, timezone),
        )
    out.print(sites)

    offices = TextTable("office", "waiting", "failed", "unknown", "last sent", title="Offices")
    for office in report.offices:
        offices.add_row(
            office.office,
            "?" if office.waiting is None else str(office.waiting),
            str(office.failed),
            str(office.unknown),
            local(office.last_sent, timezone),
        )
    out.print(offices)

    digest = report.digest
    out.print(
        f"digest at {digest['time']} {digest['timezone']}: last run "
        f"{local(digest['last_run'], timezone)} ({digest['last_result'] or '-'}), "
        f"next {local(digest['next_run'], timezone)}",
        markup=False,
    )
