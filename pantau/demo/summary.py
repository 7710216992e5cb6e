"""What the demo's summary shows, read from the store the stages wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pantau.core.settings import OfficeConfig
from pantau.core.store import articles, deliveries, findings, stories
from pantau.demo.data import Outlet
from pantau.demo.servers import ReceivedMail


@dataclass
class OfficeResult:
    office: OfficeConfig
    status: str
    stories: int
    recipients: list[str]
    files: list[Path]
    message_id: str | None
    received: bool
    accused: list[str]
    error: str | None
    delivered_total: int


def verdict_counts(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    """The latest verdict of every demo article, counted."""
    return findings.verdict_counts(db, [o.id for o in outlets])


def articles_per_site(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    return articles.articles_per_site(db, [o.id for o in outlets])


def shared_stories(db: Any, outlets: list[Outlet]) -> list[dict[str, Any]]:
    """Stories (clusters) carried by more than one demo outlet, with their outlets."""
    shared = []
    for cluster_id in stories.shared_clusters(db, [o.id for o in outlets]):
        carried = articles.cluster_articles(db, cluster_id)
        shared.append(
            {
                "cluster_id": cluster_id,
                "title": carried[0]["title"] if carried else "",
                "sites": [a["site"] for a in carried],
            }
        )
    return shared


def accused_in_digest(db: Any, message_id: str | None) -> list[str]:
    """Who the digest names as accused: the best finding of every story it carried."""
    if not message_id:
        return []
    clusters = deliveries.clusters_of_message(db, message_id)
    if not clusters:
        return []
    names: list[str] = []
    for row in stories.best_breach_findings(db, threshold=0.0, cluster_ids=clusters).values():
        for official in json.loads(row["officials"] or "[]"):
            label = official.get("name") or official.get("position") or "?"
            names.append(str(label))
    return sorted(dict.fromkeys(names))


def office_results(
    db: Any, offices: list[OfficeConfig], reports: list[Any], received: list[ReceivedMail]
) -> list[OfficeResult]:
    by_office = {o.id: o for o in offices}
    seen_ids = {mail.message_id for mail in received if mail.message_id}
    results = []
    for report in reports:
        results.append(
            OfficeResult(
                office=by_office[report.office],
                status=report.status,
                stories=report.stories,
                recipients=list(report.recipients),
                files=list(report.files),
                message_id=report.message_id,
                received=report.message_id in seen_ids,
                accused=accused_in_digest(db, report.message_id) if report.status == "sent" else [],
                error=report.error,
                delivered_total=stories_delivered(db, report.office),
            )
        )
    return results


def stories_delivered(db: Any, office_id: str) -> int:
    """Stories this office has been sent so far, by this run or earlier ones."""
    return deliveries.status_counts(db, office_id).get("sent", 0)
