"""Story clustering. (Interface placeholder: exact copies only; the dedup helper deepens it.)"""

from __future__ import annotations

from sqlite_utils import Database

from pantau.settings import DedupSettings
from pantau.store import content_hash, insert_returning_id, utcnow


class StoryIndex:
    def __init__(self, db: Database, settings: DedupSettings):
        self.db = db
        self.settings = settings

    def assign(self, article_id: int, title: str, text: str, first_seen: str) -> int:
        """Put an article into a story cluster and return the cluster id."""
        row = self.db.execute(
            "select cluster_id from articles where content_hash = ? and id != ? "
            "and cluster_id is not null limit 1",
            [content_hash(text), article_id],
        ).fetchone()
        if row:
            cluster_id = int(row[0])
        else:
            cluster_id = insert_returning_id(
                self.db,
                "clusters",
                {
                    "first_article_id": article_id,
                    "first_seen": first_seen,
                    "title": title,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                },
            )
        self.db.table("articles").update(article_id, {"cluster_id": cluster_id})
        return cluster_id
