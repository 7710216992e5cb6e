"""`pantau status`: each site's last crawls, each office's pending digest, the next runs."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from pantau.core.settings import OfficeConfig, Settings
from pantau.core.store import crawls, deliveries, schedule
from pantau.core.store.articles import articles_fetched_since
from pantau.service.config import ServiceConfig
from pantau.service.lock import LockHolder, running_scheduler
from pantau.service.state import CRAWL_JOB_PREFIX, DIGEST_JOB_ID, iso
from pantau.service.usage import ServiceUsage, service_usage

log = logging.getLogger("pantau.scheduler")


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
    usage: ServiceUsage | None = None  # the running service's CPU and memory

    def to_dict(self) -> dict[str, Any]:
        usage = self.usage.__dict__ if self.usage else None
        return {
            "scheduler": (
                {"running": True, **self.scheduler.__dict__, "usage": usage}
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
    runs = crawls.recent_runs(db, site)
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
    today = articles_fetched_since(db, site, iso(since))
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
    counts = deliveries.status_counts(db, office.id)
    last_sent = deliveries.last_sent_at(db, office.id)
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
    return len(selection.stories) + len(selection.updates) + len(selection.progress)


def service_status(
    db: Database, db_path: Path, config: ServiceConfig, now: datetime | None = None
) -> ServiceStatus:
    now = now or datetime.now(UTC)
    since = local_day_start(now, config.timezone)
    states = {row["job_id"]: row for row in schedule.all_jobs(db)}
    configured = {site.id: site.enabled for site in config.sites}
    crawled = crawls.crawled_sites(db)
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
    holder = running_scheduler(db_path)
    usage = service_usage(holder.pid) if holder and holder.host == socket.gethostname() else None
    return ServiceStatus(holder, sites, offices, digest, usage)
