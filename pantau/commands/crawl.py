"""Commands owned by the crawl stage: `pantau crawl` and `pantau sites add|check|list`."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from pantau.commands import (
    DbOption,
    TextTable,
    app,
    check_format,
    console,
    new_or_existing_database_path,
    operator_time,
    out,
    settings,
)
from pantau.core.settings import (
    ConfigError,
    PantauError,
    SiteConfig,
    config_dir,
    database_path,
    load_sites,
)
from pantau.wiring import INGESTOR_PATH

if TYPE_CHECKING:
    from crawler.runs import CrawlSummary


class UnknownSiteError(PantauError):
    """The argument is neither a site id in sites.yaml nor an http(s) URL."""


def parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--since"
        ) from None


def resolve_targets(target: str | None, all_sites: bool) -> list[SiteConfig]:
    """A site id from sites.yaml, every enabled site, or an ad-hoc URL probed now."""
    sites = load_sites()
    if target and re.match(r"^https?://", target):
        from crawler.discovery import adhoc_site
        from crawler.urls import fold_key

        for site in sites:  # a configured site's own URL: crawl it as configured
            if fold_key(site.url) == fold_key(target):
                return [site]
        return [adhoc_site(target, settings(), taken_ids=[s.id for s in sites])]
    if all_sites or target is None:
        chosen = [s for s in sites if s.enabled]
        if not chosen:
            raise ConfigError("no enabled sites in sites.yaml: give a site id or a URL")
        return chosen
    for site in sites:
        if site.id == target:
            return [site]
    known = ", ".join(s.id for s in sites) or "none configured"
    raise UnknownSiteError(f"{target!r} is not a site id in sites.yaml ({known}) nor a URL")


def summary_table(summaries: list[CrawlSummary]) -> TextTable:
    table = TextTable("site", "run", "status", "pages", "new", "updated", "known", "failures")
    for s in summaries:
        failures = ", ".join(f"{cause} {n}" for cause, n in sorted(s.failures.items())) or "-"
        style = {"ok": "green", "partial": "yellow", "failed": "red"}.get(s.status, "")
        table.add_row(
            s.site,
            str(s.run_id),
            Text(s.status, style=style),
            str(s.pages_fetched),
            str(s.articles_new),
            str(s.articles_updated),
            str(s.articles_skipped),
            failures,
        )
    return table


def scheduled(sites: list[SiteConfig]) -> bool:
    """One enabled site of sites.yaml, crawled as the service crawls it."""
    return len(sites) == 1 and sites[0].enabled and sites[0] in load_sites()


def crawl_by_running_service(
    db_path: Path, site: SiteConfig, timeout: float
) -> list[CrawlSummary] | None:
    """Where `pantau schedule` runs on the database, its warm crawl host crawls the site
    (no model loading here); None when no service runs or it did not crawl it."""
    from pantau.service.handoff import crawl_by_service

    def say(line: str) -> None:
        console.print(line, highlight=False, markup=False)

    summary = crawl_by_service(db_path, site.id, timeout, say)
    return [summary] if summary is not None else None


@app.command()
def crawl(
    target: Annotated[
        str | None, typer.Argument(help="Site id from sites.yaml, or a URL for an ad-hoc crawl.")
    ] = None,
    db: DbOption = None,
    since: Annotated[
        str | None, typer.Option(help="Skip items older than this date (YYYY-MM-DD).")
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option("--max-pages", min=1, help="At most this many article pages.")
    ] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Walk listing pagination and old sitemaps deep.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a crawl that was killed mid-way.")
    ] = False,
    all_sites: Annotated[bool, typer.Option("--all", help="Crawl every enabled site.")] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live progress display.")
    ] = True,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, or jsonl: one object per site.")
    ] = "table",
) -> None:
    """Crawl one site (or --all): new articles are extracted, analysed and stored."""
    check_format(fmt)

    current = settings()
    since_date = parse_since(since)
    sites = resolve_targets(target, all_sites)
    db_path: Path = new_or_existing_database_path(db, current)
    summaries = None
    if not (all_sites or since or max_pages or backfill or resume) and scheduled(sites):
        summaries = crawl_by_running_service(
            db_path, sites[0], current.crawl.handoff_timeout_seconds
        )
    if summaries is None:
        from crawler.run import CrawlOptions, crawl_sites  # Scrapy loads only when crawling

        options = CrawlOptions(
            since=since_date,
            max_pages=max_pages,
            backfill=backfill,
            resume=resume,
            progress=progress and console.is_terminal,
        )
        summaries = crawl_sites(sites, db_path, current, options, ingestor=INGESTOR_PATH)
    if fmt == "jsonl":
        for summary in summaries:
            out.print(json.dumps(asdict(summary), ensure_ascii=False))
    else:
        out.print(summary_table(summaries))
    if any(s.status == "failed" for s in summaries):
        raise typer.Exit(1)


# --- sites ----------------------------------------------------------------------------

sites_app = typer.Typer(
    help="Add, check and list the news sites Pantau crawls.", no_args_is_help=True
)
app.add_typer(sites_app, name="sites")


@sites_app.command("add")
def sites_add(
    url: Annotated[str, typer.Argument(help="The site's home page URL.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
    site_id: Annotated[str | None, typer.Option("--id", help="Use this id.")] = None,
    region: Annotated[
        str | None, typer.Option(help="Kemendagri code of the area the site covers.")
    ] = None,
) -> None:
    """Probe a site (feeds, sitemaps, listings), propose a sites.yaml entry, write it."""
    from crawler.discovery import probe_site, propose_site
    from crawler.sites import add_site_entry, entry_yaml

    if not re.match(r"^https?://", url):
        raise typer.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    found = probe_site(url, settings())
    site = propose_site(found, [s.id for s in load_sites()])
    updates: dict[str, object] = {}
    if site_id:
        updates["id"] = site_id
    if region:
        updates["region"] = region
    if updates:
        site = SiteConfig.model_validate({**site.model_dump(), **updates})
    console.print(
        f"found {len(found.feeds)} feed(s), {len(found.sitemaps)} sitemap(s)"
        f" ({len(found.news_sitemaps)} news), {len(found.listings)} listing page(s),"
        f" {len(found.article_urls)} article URL(s)",
        highlight=False,
    )
    for problem in found.problems:
        console.print(f"[yellow]warning[/yellow] {escape(problem)}", markup=True, highlight=False)
    out.print(entry_yaml(site), markup=False, highlight=False)
    path = config_dir() / "sites.yaml"
    if not yes and not typer.confirm(f"Add this entry to {path}?", default=False):
        console.print("not written")
        raise typer.Exit(1)
    add_site_entry(path, site)
    console.print(f"added site {site.id!r} to {path}", highlight=False)


@sites_app.command("check")
def sites_check(
    site_id: Annotated[str | None, typer.Argument(help="Only this site.")] = None,
    discover: Annotated[
        bool, typer.Option("--discover/--no-discover", help="Also probe for new sources.")
    ] = True,
) -> None:
    """Fetch every configured source now and report what each yields."""
    from crawler.sites import check_site, undeclared_sources

    current = settings()
    chosen = [s for s in load_sites() if site_id in (None, s.id)]
    if site_id and not chosen:
        raise UnknownSiteError(f"{site_id!r} is not a site id in sites.yaml")
    table = TextTable("site", "kind", "source", "status", "links", "article-like", "newest")
    broken = 0
    for site in chosen:
        for report in check_site(site, current):
            broken += not report.status.startswith("ok")
            table.add_row(
                site.id,
                report.kind,
                report.url,
                report.status,
                str(report.links),
                str(report.matching),
                operator_time(report.newest, current.digest.timezone),
            )
        if discover:
            for extra in undeclared_sources(site, current):
                table.add_row(site.id, "new?", extra, "not in sites.yaml", "", "", "")
    out.print(table)
    if broken:
        raise typer.Exit(1)


@sites_app.command("list")
def sites_list(db: DbOption = None) -> None:
    """Configured sites with their sources and last crawl."""
    from pantau.core import store
    from pantau.core.store.crawls import last_run_per_site

    current = settings()
    path = database_path(db, current)
    last: dict[str, dict[str, object]] = {}
    if path.exists():
        database = store.open_db(path)
        last = last_run_per_site(database)
    table = TextTable(
        "id", "name", "enabled", "feeds", "sitemaps", "listings", "region", "last crawl"
    )
    for site in load_sites():
        run = last.get(site.id)
        table.add_row(
            site.id,
            site.name,
            "yes" if site.enabled else "no",
            str(len(site.feeds)),
            str(len(site.sitemaps)),
            str(len(site.listings)),
            site.region or "-",
            f"{run['status']} {operator_time(str(run['started_at']), current.digest.timezone)}"
            if run
            else "never",
        )
    out.print(table)
