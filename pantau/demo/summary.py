"""What the demo's summary shows, read from the store the stages wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pantau.core import store
from pantau.core.settings import OfficeConfig
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


def _site_filter(outlets: list[Outlet]) -> tuple[str, list[str]]:
    ids = [o.id for o in outlets]
    return f"a.site in ({', '.join('?' for _ in ids)})", ids


def verdict_counts(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    """The newest verdict of every demo article, counted."""
    where, params = _site_filter(outlets)
    rows = db.execute(
        "select f.verdict, count(*) from articles a join findings f on f.article_id = a.id "
        f"where {where} and f.id = (select max(id) from findings where article_id = a.id) "
        "group by f.verdict",
        params,
    )
    return dict(rows.fetchall())


def articles_per_site(db: Any, outlets: list[Outlet]) -> dict[str, int]:
    where, params = _site_filter(outlets)
    rows = db.execute(f"select site, count(*) from articles a where {where} group by site", params)
    return dict(rows.fetchall())


def shared_stories(db: Any, outlets: list[Outlet]) -> list[dict[str, Any]]:
    """Stories (clusters) carried by more than one demo outlet, with their outlets."""
    where, params = _site_filter(outlets)
    rows = db.execute(
        f"select a.cluster_id from articles a where {where} and a.cluster_id is not null "
        "group by a.cluster_id having count(distinct a.site) > 1 order by a.cluster_id",
        params,
    ).fetchall()
    stories = []
    for (cluster_id,) in rows:
        articles = store.cluster_articles(db, cluster_id)
        stories.append(
            {
                "cluster_id": cluster_id,
                "title": articles[0]["title"] if articles else "",
                "sites": [a["site"] for a in articles],
            }
        )
    return stories


def accused_in_digest(db: Any, message_id: str | None) -> list[str]:
    """Who the digest names as accused: the best finding of every story it carried."""
    if not message_id:
        return []
    from alerts.selection import best_findings

    clusters = [
        row[0]
        for row in db.execute(
            "select d.cluster_id from deliveries d join digests g on g.id = d.digest_id "
            "where g.message_id = ?",
            [message_id],
        ).fetchall()
    ]
    if not clusters:
        return []
    names: list[str] = []
    for row in best_findings(db, threshold=0.0, cluster_ids=clusters).values():
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
    row = db.execute(
        "select count(*) from deliveries where office = ? and status = 'sent'", [office_id]
    ).fetchone()
    return int(row[0]) if row else 0
