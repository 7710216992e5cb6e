"""The overview: charts of the area's open and confirmed breaches, and how its outlets crawl.

Dismissed stories are left out so the charts show what the office still stands behind; the
health table tells whether a quiet chart means a quiet area or a crawler that stopped.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from alerts.render import clean_text, format_moment, short_date
from pantau.core.store import worklist
from pantau.core.store.coverage import recent_articles_by_site
from pantau.core.store.crawls import last_run_per_site
from pantau.core.store.worklist import StoryQuery
from pantau.workspace import charts, labels
from pantau.workspace.auth import User
from pantau.workspace.kinds import load_kinds
from pantau.workspace.pages import Workspace


class OverviewPage:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def page(self, request: Request) -> Response:
        with self.workspace.database() as db:
            user = self.workspace.user(request, db)
            region = request.query_params.get("wilayah") or None
            if region is not None and not user.may_filter_by(region):
                raise HTTPException(404)
            rows = [
                row
                for row in worklist.find_stories(
                    db, StoryQuery(scope=user.scope, region=region, verdict="breach")
                )
                if row.review_status != "dismissed"
            ]
            since = (datetime.now(UTC) - timedelta(days=7)).isoformat(timespec="seconds")
            last_runs = last_run_per_site(db)
            recent = recent_articles_by_site(db, since)
        health = [
            self._health_line(site, last_runs.get(site), recent[site])
            for site in self._sites_for(user, rows)
        ]
        context = {"user": user, "total": len(rows), "charts": self._charts(rows), "health": health}
        return self.workspace.render(request, "overview.html.j2", context)

    def _charts(self, rows: list[worklist.StoryRow]) -> list[charts.Chart]:
        catalog = self.workspace.catalog()
        kinds = load_kinds()
        zone = self.workspace.zone
        # The twelve weeks up to the latest story, so a quiet spell or an archive still shows
        # its shape; "until" says which weeks they are.
        today = datetime.now(zone).date()
        days = [d for d in (_day(row.first_seen, zone) for row in rows) if d]
        last = min(today, max(days, default=today))
        by_category = Counter(catalog.get(c).label for row in rows for c in row.violations)
        by_kind = Counter(
            kinds.kind_of(person.get("position")) for row in rows for person in row.officials
        )
        by_region = Counter(clean_text(row.region_name) or "Tidak teridentifikasi" for row in rows)
        return [
            charts.week_chart(
                f"Temuan per minggu (12 minggu sampai {short_date(last)})", days, last
            ),
            charts.row_chart("Menurut kategori pelanggaran", by_category),
            charts.row_chart("Menurut jenis terduga", by_kind),
            charts.row_chart("Menurut kabupaten/kota", by_region),
        ]

    def _sites_for(self, user: User, rows: list[worklist.StoryRow]) -> list[str]:
        """Outlets covering the area: those placed in it, and those that carried its stories."""
        sites = self.workspace.config.sites
        placed = [s.id for s in sites if user.scope is None or user.covers(s.region)]
        carried = [site for row in rows for site in row.sites]
        return sorted(set(placed) | set(carried))

    def _health_line(
        self, site: str, last_run: dict[str, Any] | None, recent: int
    ) -> dict[str, Any]:
        names = {entry.id: entry.name for entry in self.workspace.config.sites}
        run = last_run or {}
        return {
            "name": clean_text(names.get(site, site)),
            "status": labels.label(labels.CRAWL_STATUSES, run.get("status"), "belum dirayapi"),
            "status_code": run.get("status") or "none",
            "last": format_moment(
                run.get("finished_at") or run.get("started_at"), self.workspace.zone
            )
            if run
            else "-",
            "failures": run.get("failures") or 0,
            "recent": recent,
        }


def _day(value: str | None, zone: ZoneInfo) -> date | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()
