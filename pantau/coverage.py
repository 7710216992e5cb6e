"""Which office areas Pantau watches, and where an operator should add outlets.

An area (a province or a kabupaten/kota) is covered by the enabled outlets registered for
it in sites.yaml (`region`), and more loosely by its province's outlets and the national
ones (no `region`). Articles are counted by the region detection gave them, so an area
with outlets but no articles is visible too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from extract.models import Region
from extract.regions import Gazetteer
from pantau.core.settings import SiteConfig
from pantau.core.store.coverage import recent_articles_by_region, recent_articles_by_site


@dataclass
class AreaCoverage:
    code: str
    name: str
    province: str
    level: str  # "provinsi" | "kabkota"
    outlets: list[str] = field(default_factory=list)
    province_outlets: list[str] = field(default_factory=list)
    articles: int = 0
    articles_from_outlets: int = 0

    @property
    def uncovered(self) -> bool:
        """No outlet of its own nor of its province: only national outlets could report it."""
        return not self.outlets and not self.province_outlets


@dataclass
class CoverageReport:
    days: int
    generated_at: str
    national_outlets: list[str]
    areas: list[AreaCoverage]

    @property
    def uncovered(self) -> list[AreaCoverage]:
        return [area for area in self.areas if area.uncovered]


def coverage_report(
    db: Database, sites: list[SiteConfig], gazetteer: Gazetteer, days: int = 7
) -> CoverageReport:
    now = datetime.now(UTC)
    since = (now - timedelta(days=days)).isoformat(timespec="seconds")
    by_region = recent_articles_by_region(db, since)
    by_site = recent_articles_by_site(db, since)
    enabled = [site for site in sites if site.enabled]
    outlets: dict[str, list[str]] = {}
    for site in enabled:
        if site.region:
            outlets.setdefault(site.region, []).append(site.id)
    areas = [
        area_coverage(region, "provinsi", outlets, by_region, by_site)
        for region in gazetteer.provinces
    ] + [
        area_coverage(region, "kabkota", outlets, by_region, by_site)
        for region in gazetteer.regencies
    ]
    return CoverageReport(
        days=days,
        generated_at=now.isoformat(timespec="seconds"),
        national_outlets=[site.id for site in enabled if not site.region],
        areas=sorted(areas, key=lambda area: area.code),
    )


def area_coverage(
    region: Region,
    level: str,
    outlets: dict[str, list[str]],
    by_region: Counter[str],
    by_site: Counter[str],
) -> AreaCoverage:
    code = region.code
    own = sorted(outlets.get(code, []))
    province_code = code[:2]
    provincial = sorted(outlets.get(province_code, [])) if level == "kabkota" else []
    if level == "provinsi":
        articles = sum(n for c, n in by_region.items() if c == code or c.startswith(code + "."))
        own = sorted(s for c, ids in outlets.items() if c.startswith(code) for s in ids)
    else:
        articles = by_region.get(code, 0)
    return AreaCoverage(
        code=code,
        name=region.name,
        province=region.province,
        level=level,
        outlets=own,
        province_outlets=provincial,
        articles=articles,
        articles_from_outlets=sum(by_site.get(site, 0) for site in own),
    )
