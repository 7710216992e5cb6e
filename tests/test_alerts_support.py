"""Builders shared by the alerts tests (no tests here): store state and settings.

Stories are written straight into a real SQLite file through `pantau.core.store`, so the digest
tests need neither the detector nor the crawler. The data lives in tests/fixtures/alerts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from pantau.core import store
from pantau.core.settings import (
    DigestSettings,
    OfficeConfig,
    OfficesFile,
    Settings,
    SmtpSettings,
    load_model,
)

ALERTS_FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
ANALYZER = "test-1"


def fixture_stories() -> list[dict[str, Any]]:
    data = yaml.safe_load((ALERTS_FIXTURES / "stories.yaml").read_text(encoding="utf-8"))
    return list(data["stories"])


def fixture_offices() -> list[OfficeConfig]:
    path = ALERTS_FIXTURES / "offices.yaml"
    return load_model(path, OfficesFile).offices


def office(offices: list[OfficeConfig], office_id: str) -> OfficeConfig:
    return next(o for o in offices if o.id == office_id)


def add_article(
    db: Database, cluster_id: int, article: dict[str, Any], finding: dict[str, Any]
) -> int:
    record = {
        "url": article["url"],
        "site": article["site"],
        "sitename": article.get("sitename"),
        "title": article["title"],
        "text": article.get("text") or f"{article['title']}. " * 3,
        "published": article.get("published"),
        "fetched_at": article.get("fetched_at") or article.get("published") or store.utcnow(),
        "lang": "id",
        "source": "crawl",
    }
    article_id, _ = store.save_article(db, record)
    store.set_cluster(db, article_id, cluster_id)
    store.save_finding(db, article_id, finding, ANALYZER)
    return article_id


def add_story(
    db: Database,
    finding: dict[str, Any],
    articles: list[dict[str, Any]],
    *,
    dismissed: bool = False,
) -> int:
    first = articles[0]
    cluster_id = store.insert_returning_id(
        db,
        "clusters",
        {
            "first_seen": first.get("published"),
            "title": first["title"],
            "created_at": store.utcnow(),
            "updated_at": store.utcnow(),
        },
    )
    ids = [add_article(db, cluster_id, article, finding) for article in articles]
    db.table("clusters").update(cluster_id, {"first_article_id": ids[0]})
    if dismissed:
        db.table("reviews").insert(
            {
                "cluster_id": cluster_id,
                "status": "dismissed",
                "reviewer": "analis",
                "note": "bukan ASN",
                "created_at": store.utcnow(),
            }
        )
    return cluster_id


def load_fixture_stories(db: Database) -> dict[str, int]:
    """Every story of stories.yaml into the store; returns key -> cluster id."""
    return {
        story["key"]: add_story(
            db, story["finding"], story["articles"], dismissed=story.get("dismissed", False)
        )
        for story in fixture_stories()
    }


def story(key: str) -> dict[str, Any]:
    return next(s for s in fixture_stories() if s["key"] == key)


def make_settings(tmp_path: Path, port: int = 25, **smtp: Any) -> Settings:
    return Settings(
        outbox_dir=str(tmp_path / "outbox"),
        smtp=SmtpSettings(host="127.0.0.1", port=port, timeout=5, **smtp),
        digest=DigestSettings(min_score=0.5, review_url="http://127.0.0.1:8000/findings"),
    )
