"""The SQLite store every stage shares: the schema as ordered migrations and every query.

Query modules by table or idea: `connection` (open, write lock), `articles`, `findings`
(and the one definition of an article's latest finding), `stories`, `dedup` (the
copy-finding index), `deliveries` and `digests` (the delivery ledger's rows; its
claim/settle protocol stays in alerts/ledger.py), `schedule`, `crawls`; `schema` holds the
migrations. Rows go in and out as plain dicts and primitives so the store depends on no
stage. `from pantau.core import store` then `store.save_article(...)` keeps working: the
common queries are re-exported here.
"""

from __future__ import annotations

from pantau.core.store.articles import (
    SaveStatus,
    add_url_alias,
    article_id_for_url,
    cluster_articles,
    cluster_of,
    compress_html,
    content_hash,
    decompress_html,
    iter_articles,
    save_article,
    set_cluster,
    stored_text_hash,
    update_article,
)
from pantau.core.store.connection import (
    StoreError,
    insert_returning_id,
    json_list,
    open_db,
    utcnow,
    write_transaction,
)
from pantau.core.store.findings import LATEST_FINDING, latest_findings, save_finding
from pantau.core.store.schema import migrations

__all__ = [
    "LATEST_FINDING",
    "SaveStatus",
    "StoreError",
    "add_url_alias",
    "article_id_for_url",
    "cluster_articles",
    "cluster_of",
    "compress_html",
    "content_hash",
    "decompress_html",
    "insert_returning_id",
    "iter_articles",
    "json_list",
    "latest_findings",
    "migrations",
    "open_db",
    "save_article",
    "save_finding",
    "set_cluster",
    "stored_text_hash",
    "update_article",
    "utcnow",
    "write_transaction",
]
