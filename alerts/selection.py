"""What an office should hear about: new stories in its area, and old ones with new outlets.

A story is a dedup cluster. Its best finding (the newest analysis of each article, verdict
breach, highest score) decides whether it is serious enough and where it happened; the office
gets it when that region lies in its scope and it has not been told before. Stories already
sent come back as updates when outlets that were not in the earlier digest carried them since.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from alerts.categories import Catalog, load_catalog
from alerts.offices import covers
from pantau.core import store
from pantau.core.calendar import parse_iso
from pantau.core.settings import OfficeConfig
from pantau.core.store import cases, deliveries, stories


@dataclass(frozen=True)
class Outlet:
    article_id: int
    site: str
    sitename: str | None
    url: str
    title: str | None
    published: str | None
    fetched_at: str | None
    copied_from: str | None = None  # the outlet whose article this one copied

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
class CaseProgress:
    """A new story of a case the office already heard of: its progress, not a new breach."""

    story: Story
    case_id: int
    stage: str
    stage_label: str
    stage_date: str | None


@dataclass
class Selection:
    stories: list[Story] = field(default_factory=list)
    updates: list[StoryUpdate] = field(default_factory=list)
    progress: list[CaseProgress] = field(default_factory=list)
    held_back: int = 0
    qualifying: set[int] = field(default_factory=set)  # every cluster due, held back included

    @property
    def is_empty(self) -> bool:
        return not self.stories and not self.updates and not self.progress

    @property
    def claimed_stories(self) -> list[Story]:
        """Every story this digest takes for the office: new ones and case progress."""
        return [*self.stories, *(item.story for item in self.progress)]


def with_site_names(selection: Selection, names: dict[str, str]) -> Selection:
    """Outlets without a name of their own (no og:site_name on the page), and the outlets a
    copy copied, are shown by the name sites.yaml gives their site, not by its id."""

    def named(outlet: Outlet) -> Outlet:
        sitename = outlet.sitename or names.get(outlet.site)
        copied = names.get(outlet.copied_from or "", outlet.copied_from)
        return replace(outlet, sitename=sitename, copied_from=copied)

    def story(item: Story) -> Story:
        return replace(item, outlets=[named(o) for o in item.outlets])

    return replace(
        selection,
        stories=[story(s) for s in selection.stories],
        updates=[
            replace(u, story=story(u.story), new_outlets=[named(o) for o in u.new_outlets])
            for u in selection.updates
        ],
        progress=[replace(p, story=story(p.story)) for p in selection.progress],
    )


def parse_time(value: str | None) -> datetime | None:
    """ISO text from the store as an aware datetime (naive values are taken as UTC)."""
    return parse_iso(value)


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
    return deliveries.taken_clusters(db, office)


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
    candidates = []
    for cluster_id, row in pool.best(threshold).items():
        if cluster_id in taken or not covers(office, row["region_code"]):
            continue
        story = pool.story(row)
        first_seen = parse_time(story.first_seen)
        if since and first_seen and first_seen < since:
            continue
        candidates.append(story)
    stories, progress = split_case_progress(db, candidates, taken)
    catalog = load_catalog()
    stories.sort(key=lambda s: (*_seriousness(s, catalog), s.first_seen or "", s.cluster_id))
    return Selection(
        stories=stories[:max_stories],
        updates=updates_for_office(db, office),
        progress=progress,
        held_back=max(0, len(stories) - max_stories),
        qualifying={story.cluster_id for story in candidates},
    )


def split_case_progress(
    db: Database, candidates: list[Story], taken: set[int]
) -> tuple[list[Story], list[CaseProgress]]:
    """New cases stay new stories; a story of a case already sent (or already new in this
    digest) is that case's progress, so an office never gets one case twice as new."""
    in_cases = cases.cases_of_stories(db, [s.cluster_id for s in candidates])
    told = {
        place.case_id for places in cases.cases_of_stories(db, taken).values() for place in places
    }
    stories: list[Story] = []
    progress: list[CaseProgress] = []
    for story in sorted(candidates, key=lambda s: (s.first_seen or "", s.cluster_id)):
        places = in_cases.get(story.cluster_id, [])
        known = [place for place in places if place.case_id in told]
        if known:
            place = known[0]
            progress.append(
                CaseProgress(story, place.case_id, place.stage, place.label, place.date)
            )
        else:
            stories.append(story)
        told.update(place.case_id for place in places)
    return stories, progress


def best_findings(
    db: Database,
    *,
    threshold: float,
    exclude_sent_to: str | None = None,
    cluster_ids: list[int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per cluster, the highest-scoring latest breach finding at or above the threshold
    (the store's one definition of an article's latest finding).

    Ties go to a finding that names a region, then to the earliest article.
    """
    return stories.best_breach_findings(
        db, threshold=threshold, exclude_sent_to=exclude_sent_to, cluster_ids=cluster_ids
    )


def _story(db: Database, row: dict[str, Any]) -> Story:
    articles = store.cluster_articles(db, row["cluster_id"])
    names = {a["id"]: a["sitename"] or a["site"] for a in articles}
    sources = stories.copy_sources(db, row["cluster_id"])
    outlets = [
        Outlet(
            article_id=a["id"],
            site=a["site"],
            sitename=a["sitename"],
            url=a["url"],
            title=a["title"],
            published=a["published"],
            fetched_at=a["fetched_at"],
            copied_from=names.get(sources.get(a["id"], -1)),
        )
        for a in articles
    ]
    first_title = outlets[0].title if outlets and outlets[0].title else None
    return Story(
        cluster_id=row["cluster_id"],
        title=first_title or row["title"] or "",
        score=float(row["score"] or 0.0),
        region_code=row["region_code"],
        region_name=row["region_name"],
        province=row["province"],
        accused=[_accused(o) for o in store.json_list(row["officials"]) if isinstance(o, dict)],
        violations=[str(v) for v in store.json_list(row["violations"])],
        evidence=[str(e) for e in store.json_list(row["evidence"])],
        outlets=outlets,
    )


def _accused(raw: dict[str, Any]) -> Accused:
    return Accused(
        name=raw.get("name"),
        position=raw.get("position"),
        region=raw.get("region"),
        kind=raw.get("kind"),
    )


def updates_for_office(db: Database, office: OfficeConfig) -> list[StoryUpdate]:
    """Stories this office already received that new outlets have carried since."""
    sent_at = deliveries.sent_clusters_with_untold_articles(db, office.id)
    if not sent_at:
        return []
    best = best_findings(db, threshold=0.0, cluster_ids=list(sent_at))
    told = deliveries.told_articles(db, office.id)
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
