"""Store queries that their callers' tests do not reach, each on a real SQLite file."""

from __future__ import annotations

from pantau.core import store
from pantau.core.store import stories


def _article(db, url: str, published: str | None, cluster_id: int | None = None) -> int:
    article_id, _ = store.save_article(
        db,
        {
            "url": url,
            "site": "s",
            "title": f"Judul {url}",
            "text": f"isi {url}",
            "published": published,
            "fetched_at": "2024-10-21T09:00:00+07:00",
            "cluster_id": cluster_id,
        },
    )
    return article_id


def test_the_earliest_other_article_of_a_story_is_by_publication_then_fetch_time(db):
    original = _article(db, "https://a.id/1", "2024-10-21T08:00:00+07:00")
    story = stories.new_story(db, original, "Judul", "2024-10-21T08:00:00+07:00")
    store.set_cluster(db, original, story)
    _article(db, "https://b.id/1", "2024-10-21T10:00:00+07:00", story)  # ranks last
    undated = _article(db, "https://c.id/1", None, story)  # fetched 09:00: before `later`

    assert stories.earliest_article_but(db, story, original) == (
        undated,
        "Judul https://c.id/1",
        "2024-10-21T09:00:00+07:00",
    )
    assert stories.earliest_article_but(db, story, undated) == (
        original,
        "Judul https://a.id/1",
        "2024-10-21T08:00:00+07:00",
    )


def test_a_story_of_one_article_has_no_other_earliest_article(db):
    only = _article(db, "https://a.id/1", "2024-10-21T08:00:00+07:00")
    story = stories.new_story(db, only, "Judul", "2024-10-21T08:00:00+07:00")
    store.set_cluster(db, only, story)

    assert stories.earliest_article_but(db, story, only) is None
