"""The copy-finding index (`dedup_meta`, `dedup_signatures`, `dedup_bands`,
`dedup_sentences`) and why each article joined its story (`dedup_matches`).

extract/dedup.py decides what is a copy; these queries only keep its index. Signatures and
sentence keys come and go as bytes: the store knows nothing of MinHash or numpy. The
lookups on the hot path of an ingest use the connection directly, without sqlite-utils'
wrapper.
"""

from __future__ import annotations

import functools

from sqlite_utils import Database

from pantau.core.store.connection import utcnow


def index_parameters(db: Database) -> dict[str, str]:
    """The parameters the index was built with (scheme, permutations, bands, rows...)."""
    return {row["name"]: row["value"] for row in db.query("select * from dedup_meta")}


def set_index_parameters(db: Database, parameters: dict[str, str]) -> None:
    for name, value in parameters.items():
        db.execute("insert or replace into dedup_meta (name, value) values (?, ?)", [name, value])


def index_is_empty(db: Database) -> bool:
    """Has no article been indexed yet? Then parameters may change without a rebuild."""
    return db.execute("select 1 from dedup_signatures limit 1").fetchone() is None


def signature(db: Database, article_id: int) -> tuple[bytes, int] | None:
    """An indexed article's MinHash values and its number of shingles."""
    row = db.conn.execute(
        "select hashvalues, shingles from dedup_signatures where article_id = ?", [article_id]
    ).fetchone()
    return (row[0], row[1] or 0) if row else None


def indexed_keys(db: Database, article_id: int) -> tuple[bytes, bytes] | None:
    """An indexed article's MinHash values and its sentence keys, from which its band and
    sentence rows are found again."""
    row = db.execute(
        "select hashvalues, sentence_keys from dedup_signatures where article_id = ?",
        [article_id],
    ).fetchone()
    return (row[0], row[1] or b"") if row else None


def band_neighbours(db: Database, keys: list[int], article_id: int, limit: int) -> list[int]:
    """Other articles in the band buckets of these keys, one entry per shared key (each
    bucket read capped at `limit`, newest first)."""
    return _bucket_members(db, "dedup_bands", keys, article_id, limit)


def sentence_neighbours(db: Database, keys: list[int], article_id: int, limit: int) -> list[int]:
    """Other articles sharing these sentence keys, one entry per shared key (each key's
    articles capped at `limit`, newest first)."""
    return _bucket_members(db, "dedup_sentences", keys, article_id, limit)


def _bucket_members(
    db: Database, table: str, keys: list[int], article_id: int, limit: int
) -> list[int]:
    if not keys:
        return []
    params: list[int] = []
    for key in keys:
        params += [key, article_id, limit]
    return [candidate for (candidate,) in db.conn.execute(_bucket_sql(len(keys), table), params)]


@functools.lru_cache(maxsize=64)
def _bucket_sql(keys: int, table: str) -> str:
    """One statement reading every key's bucket (each capped): one round trip, not one per
    key."""
    bucket = (
        f"select * from (select article_id from {table} where key = ? "
        "and article_id != ? order by article_id desc limit ?)"
    )
    return " union all ".join([bucket] * keys)


def index_article(
    db: Database,
    article_id: int,
    *,
    scheme: str,
    num_perm: int,
    hashvalues: bytes,
    shingles: int,
    band_keys: list[int],
    sentence_keys: list[int],
    packed_sentence_keys: bytes,
) -> None:
    """Store an article's signature and put it into its band and sentence buckets."""
    db.execute(
        "insert or replace into dedup_signatures (article_id, scheme, num_perm, "
        "hashvalues, shingles, sentence_keys) values (?, ?, ?, ?, ?, ?)",
        [article_id, scheme, num_perm, hashvalues, shingles, packed_sentence_keys],
    )
    db.conn.executemany(
        "insert or ignore into dedup_bands (key, article_id) values (?, ?)",
        [(key, article_id) for key in band_keys],
    )
    db.conn.executemany(
        "insert or ignore into dedup_sentences (key, article_id) values (?, ?)",
        [(key, article_id) for key in sentence_keys],
    )


def unindex_article(
    db: Database, article_id: int, band_keys: list[int], sentence_keys: list[int]
) -> None:
    """Take an article out of its buckets (given its keys) and forget its signature."""
    db.conn.executemany(
        "delete from dedup_bands where key = ? and article_id = ?",
        [(key, article_id) for key in band_keys],
    )
    db.conn.executemany(
        "delete from dedup_sentences where key = ? and article_id = ?",
        [(key, article_id) for key in sentence_keys],
    )
    db.execute("delete from dedup_signatures where article_id = ?", [article_id])


def clear_index(db: Database) -> None:
    """Empty every index table and its parameters (before a rebuild)."""
    for table in ("dedup_bands", "dedup_sentences", "dedup_signatures", "dedup_meta"):
        db.execute(f"delete from {table}")


# --- dedup_matches ----------------------------------------------------------------------


def save_match(
    db: Database,
    article_id: int,
    cluster_id: int,
    *,
    method: str,
    matched_article_id: int | None,
    jaccard: float | None,
    containment: float | None,
    joined_at: str | None,
) -> None:
    """Record how the article joined its story; without `joined_at`, the time it first
    joined (kept from its previous record) stays."""
    if joined_at is None:
        row = db.execute(
            "select joined_at from dedup_matches where article_id = ?", [article_id]
        ).fetchone()
        joined_at = row[0] if row else utcnow()
    db.execute(
        "insert or replace into dedup_matches (article_id, cluster_id, method, "
        "matched_article_id, jaccard, containment, joined_at) values (?, ?, ?, ?, ?, ?, ?)",
        [article_id, cluster_id, method, matched_article_id, jaccard, containment, joined_at],
    )
