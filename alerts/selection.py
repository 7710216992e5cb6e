"""What an office should hear about: new stories in its area, and old ones with new outlets.

A story is a dedup cluster. Its best finding (the newest analysis of each article, verdict
breach, highest score) decides whether it is serious enough and where it happened; the office
gets it when that region lies in its scope and it has not been told before. Stories already
sent come back as updates when outlets that were not in the earlier digest carried them since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from alerts.categories import Catalog, load_catalog
from alerts.offices import covers
from pantau.core import store
from pantau.core.settings import OfficeConfig

# The newest analysis of each article wins: re-analysis with better rules replaces old verdicts.
LATEST_FINDING = """
    f.id = (select f2.id from findings f2 where f2.article_id = a.id
            order by f2.analyzed_at desc, f2.id desc limit 1)
"""

DISMISSED_CLUSTERS = """
    select r.cluster_id from reviews r
    where r.id = (select max(r2.id) from reviews r2 where r2.cluster_id = r.cluster_id)
      and r.status = 'dismissed'
"""


@dataclass(frozen=True)
class Outlet:
    article_id: int
    site: str
    sitename: str | None
    url: str
    title: str | None
    published: str | None
    fetched_at: str | None

    @property
    def name(self) -> str:
        return self.sitename or self.site

    @property
    def seen_at(self) -> str | None:
        return self.published or self.fetched_at


@dataclass(frozen=True)
class Accused:
    name: str | None
    position: str | None
    region: str | None = None
    kind: str | None = None  # asn, honorer, village, tni, polri (which laws bind them)


@dataclass
class Story:
    cluster_id: int
    title: str
    score: float
    region_code: str | None
    region_name: str | None
    province: str | None
    accused: list[Accused]
    violations: list[str]
    evidence: list[str]
    outlets: list[Outlet]

    @property
    def first(self) -> Outlet | None:
        return self.outlets[0] if self.outlets else None

    @property
    def others(self) -> list[Outlet]:
        return self.outlets[1:]

    @property
    def article_ids(self) -> list[int]:
        return [outlet.article_id for outlet in self.outlets]

    @property
    def first_seen(self) -> str | None:
        return self.first.seen_at if self.first else None


@dataclass
class StoryUpdate:
    story: Story
    new_outlets: list[Outlet]
    claimed_article_ids: list[int]
    sent_at: str | None


@dataclass
class Selection:
    stories: list[Story] = field(default_factory=list)
    updates: list[StoryUpdate] = field(default_factory=list)
    held_back: int = 0
    qualifying: set[int] = field(default_factory=set)  # every cluster due, held back included

    @property
    def is_empty(self) -> bool:
        return not self.stories and not self.updates


def parse_time(value: str | None) -> datetime | None:
    """ISO text from the store as an aware datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _seriousness(story: Story, catalog: Catalog) -> tuple[float, ...]:
    """Most serious act first (SKB sanction level), then the surest accusation."""
    from alerts.weight import confidence, seriousness_rank

    return (
        -seriousness_rank(story, catalog),
        -confidence(story),
        -story.score,
        -len({o.site for o in story.outlets}),
        -len(story.accused),
    )


class StoryPool:
    """The stories of one run, shared by every office so each is read from the store once.

    What depends on the office (its scope, what it was already sent) is decided per office;
    the best finding of a cluster and its articles are the same for all of them.
    """

    def __init__(self, db: Database):
        self.db = db
        self._best: dict[float, dict[int, dict[str, Any]]] = {}
        self._stories: dict[int, Story] = {}

    def best(self, threshold: float) -> dict[int, dict[str, Any]]:
        if threshold not in self._best:
            self._best[threshold] = best_findings(self.db, threshold=threshold)
        return self._best[threshold]

    def story(self, row: dict[str, Any]) -> Story:
        cluster_id = row["cluster_id"]
        if cluster_id not in self._stories:
            self._stories[cluster_id] = _story(self.db, row)
        return self._stories[cluster_id]


def taken_clusters(db: Database, office: str) -> set[int]:
    """Clusters the office has been sent, is being sent, or may have been sent."""
    return {
        row[0]
        for row in db.execute(
            "select cluster_id from deliveries "
            "where office = ? and status not in ('failed', 'withdrawn')",
            [office],
        ).fetchall()
    }


def select_for_office(
    db: Database,
    office: OfficeConfig,
    *,
    threshold: float,
    max_stories: int,
    since: datetime | None = None,
    pool: StoryPool | None = None,
) -> Selection:
    """New stories (most serious first, capped) and updates for one office.

    What the office was already sent is read here, so when this runs inside the claiming
    transaction the answer cannot change before the claim.
    """
    pool = pool or StoryPool(db)
    taken = taken_clusters(db, office.id)
    stories = []
    for cluster_id, row in pool.best(threshold).items():
        if cluster_id in taken or not covers(office, row["region_code"]):
            continue
        story = pool.story(row)
        first_seen = parse_time(story.first_seen)
        if since and first_seen and first_seen < since:
            continue
        stories.append(story)
    catalog = load_catalog()
    stories.sort(key=lambda s: (*_seriousness(s, catalog), s.first_seen or "", s.cluster_id))
    return Selection(
        stories=stories[:max_stories],
        updates=updates_for_office(db, office),
        held_back=max(0, len(stories) - max_stories),
        qualifying={story.cluster_id for story in stories},
    )


def best_findings(
    db: Database,
    *,
    threshold: float,
    exclude_sent_to: str | None = None,
    cluster_ids: list[int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per cluster, the highest-scoring current breach finding at or above the threshold.

    Ties go to a finding that names a region, then to the earliest article.
    """
    where = ["a.cluster_id is not null", "f.verdict = 'breach'", "f.score >= ?", LATEST_FINDING]
    params: list[Any] = [threshold]
    where.append(f"a.cluster_id not in ({DISMISSED_CLUSTERS})")
    if exclude_sent_to is not None:
        where.append(
            "a.cluster_id not in (select cluster_id from deliveries "
            "where office = ? and status not in ('failed', 'withdrawn'))"
        )
        params.append(exclude_sent_to)
    if cluster_ids is not None:
        where.append(f"a.cluster_id in ({', '.join('?' for _ in cluster_ids)})")
        params.extend(cluster_ids)
    sql = f"""
        select a.id as article_id, a.cluster_id, a.title, f.score, f.officials, f.region_code,
               f.region_name, f.province, f.violations, f.evidence,
               coalesce(a.published, a.fetched_at) as seen
        from articles a join findings f on f.article_id = a.id
        where {" and ".join(where)}
        order by a.cluster_id, f.score desc, (f.region_code is null), seen, a.id
    """
    best: dict[int, dict[str, Any]] = {}
    for row in db.query(sql, params):
        best.setdefault(row["cluster_id"], row)
    return best


def _story(db: Database, row: dict[str, Any]) -> Story:
    outlets = [
        Outlet(
            article_id=a["id"],
            site=a["site"],
            sitename=a["sitename"],
            url=a["url"],
            title=a["title"],
            published=a["published"],
            fetched_at=a["fetched_at"],
        )
        for a in store.cluster_articles(db, row["cluster_id"])
    ]
    first_title = outlets[0].title if outlets and outlets[0].title else None
    return Story(
        cluster_id=row["cluster_id"],
        title=first_title or row["title"] or "",
        score=float(row["score"] or 0.0),
        region_code=row["region_code"],
        region_name=row["region_name"],
        province=row["province"],
        accused=[_accused(o) for o in _json_list(row["officials"]) if isinstance(o, dict)],
        violations=[str(v) for v in _json_list(row["violations"])],
        evidence=[str(e) for e in _json_list(row["evidence"])],
        outlets=outlets,
    )


def _accused(raw: dict[str, Any]) -> Accused:
    return Accused(
        name=raw.get("name"),
        position=raw.get("position"),
        region=raw.get("region"),
        kind=raw.get("kind"),
    )


def _json_list(value: str | None) -> list[Any]:
    try:
        loaded = json.loads(value or "[]")
    except ValueError:
        return []
    return loaded if isinstance(loaded, list) else []


def updates_for_office(db: Database, office: OfficeConfig) -> list[StoryUpdate]:
    """Stories this office already received that new outlets have carried since."""
    rows = list(
        db.query(
            """
            select d.cluster_id, d.sent_at from deliveries d
            where d.office = ? and d.status = 'sent'
              and exists (
                select 1 from articles a where a.cluster_id = d.cluster_id
                and a.id not in (select article_id from delivery_articles where office = ?))
            order by d.cluster_id
            """,
            [office.id, office.id],
        )
    )
    if not rows:
        return []
    sent_at = {row["cluster_id"]: row["sent_at"] for row in rows}
    best = best_findings(db, threshold=0.0, cluster_ids=list(sent_at))
    told = {
        row["article_id"]
        for row in db.query(
            "select article_id from delivery_articles where office = ?", [office.id]
        )
    }
    updates = []
    for cluster_id, row in best.items():
        story = _story(db, row)
        new = [o for o in story.outlets if o.article_id not in told]
        known_sites = {o.site for o in story.outlets if o.article_id in told}
        new_outlets = [o for o in new if o.site not in known_sites]
        if new_outlets:
            updates.append(
                StoryUpdate(
                    story=story,
                    new_outlets=new_outlets,
                    claimed_article_ids=[o.article_id for o in new],
                    sent_at=sent_at[cluster_id],
                )
            )
    updates.sort(key=lambda u: (-u.story.score, u.story.cluster_id))
    return updates
