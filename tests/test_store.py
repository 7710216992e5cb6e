"""The store: migrations, WAL, article upsert semantics, findings per analyzer version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from pantau.core import store


def test_new_database_is_in_wal_mode_with_every_table(db):
    assert db.journal_mode == "wal"
    for table in ("articles", "clusters", "findings", "crawl_runs", "deliveries", "reviews"):
        assert db[table].exists(), table
    assert db["articles_fts"].exists()


def test_opening_an_older_file_applies_only_the_missing_migrations(db_path: Path):
    old = Database(db_path)
    store.migrations.apply(old, stop_before="m003_dedup_index")
    old.close()
    assert not Database(db_path)["crawl_runs"].exists()
    upgraded = store.open_db(db_path)
    assert upgraded["crawl_runs"].exists()
    applied = [m.name for m in store.migrations.applied(upgraded)]
    assert applied == [m.name for m in store.migrations._migrations]


def test_a_file_that_is_not_sqlite_gives_a_store_error_naming_it(tmp_path: Path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not a database\n" * 100)
    with pytest.raises(store.StoreError, match="notes.db"):
        store.open_db(bogus)


def _record(url: str, text: str) -> dict:
    return {
        "url": url,
        "site": "s",
        "title": "T",
        "text": text,
        "fetched_at": "2024-04-24T00:00:00",
    }


def test_saving_the_same_text_twice_reports_unchanged_and_new_text_updated(db):
    first_id, status = store.save_article(db, _record("https://a.id/1", "isi berita"))
    assert status == "new"
    assert store.save_article(db, _record("https://a.id/1", "isi  Berita")) == (
        first_id,
        "unchanged",
    )
    assert store.save_article(db, _record("https://a.id/1", "isi baru")) == (first_id, "updated")
    assert db["articles"].count == 1


def _search(db, words: str) -> list[int]:
    return [
        row[0]
        for row in db.execute("select rowid from articles_fts where articles_fts match ?", [words])
    ]


def test_joining_a_story_leaves_the_full_text_index_alone(db):
    article_id, _ = store.save_article(db, _record("https://a.id/1", "kepala desa berkampanye"))
    story = store.insert_returning_id(
        db, "clusters", {"first_article_id": article_id, "title": "T", "first_seen": "2024-04-24"}
    )
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    store.set_cluster(db, article_id, story)
    db.conn.set_trace_callback(None)
    assert statements and not [s for s in statements if "articles_fts" in s]
    assert _search(db, "berkampanye") == [article_id]


def test_full_text_search_follows_a_changed_text(db):
    article_id, _ = store.save_article(db, _record("https://a.id/1", "kepala desa berkampanye"))
    store.save_article(db, _record("https://a.id/1", "camat menghadiri deklarasi"))
    assert _search(db, "berkampanye") == []
    assert _search(db, "deklarasi") == [article_id]


def test_an_alias_url_finds_its_article(db):
    article_id, _ = store.save_article(db, _record("https://a.id/1", "isi"))
    store.add_url_alias(db, "https://a.id/1/amp", article_id)
    assert store.article_id_for_url(db, "https://a.id/1/amp") == article_id
    assert store.article_id_for_url(db, "https://a.id/2") is None


def test_a_finding_is_replaced_per_analyzer_version_and_kept_across_versions(db):
    article_id, _ = store.save_article(db, _record("https://a.id/1", "isi"))
    finding = {
        "verdict": "other",
        "score": 0.1,
        "officials": [],
        "region": None,
        "violations": [],
        "evidence": [],
    }
    store.save_finding(db, article_id, finding, "v1")
    store.save_finding(db, article_id, {**finding, "verdict": "breach"}, "v1")
    store.save_finding(db, article_id, finding, "v2")
    assert db["findings"].count == 2
    latest = list(store.latest_findings(db))
    assert [(f["verdict"], f["analyzer_version"]) for f in latest] == [("other", "v2")]


def _analysed(db, article_id: int, verdict: str, version: str, at: str) -> None:
    """A detector run at a given time (save_finding stamps the clock's second)."""
    finding = {
        "verdict": verdict,
        "score": 0.9 if verdict == "breach" else 0.1,
        "officials": [{"name": "Hartono", "position": "Sekretaris Daerah"}],
        "region": {"code": "17.08", "name": "Kabupaten Kepahiang", "province": "Bengkulu"},
        "violations": [],
        "evidence": [],
    }
    store.save_finding(db, article_id, finding, version)
    db.execute(
        "update findings set analyzed_at = ? where article_id = ? and analyzer_version = ?",
        [at, article_id, version],
    )


def _rolled_back_article(db) -> int:
    """Analysed by 1.0 (breach), upgraded to 1.1 (other), rolled back and re-analysed by 1.0."""
    article_id, _ = store.save_article(db, _record("https://a.id/1", "isi"))
    db.table("clusters").insert({"id": 7, "title": "t", "first_article_id": article_id})
    store.set_cluster(db, article_id, 7)
    _analysed(db, article_id, "breach", "1.0", "2026-11-20T01:00:00+00:00")
    _analysed(db, article_id, "other", "1.1", "2026-11-21T01:00:00+00:00")
    _analysed(db, article_id, "breach", "1.0", "2026-11-22T01:00:00+00:00")
    return article_id


def test_after_a_rollback_and_reanalysis_the_findings_list_and_the_digest_agree(db):
    from alerts.selection import best_findings

    _rolled_back_article(db)
    listed = [(f["verdict"], f["analyzer_version"]) for f in store.latest_findings(db)]
    assert listed == [("breach", "1.0")]
    assert list(best_findings(db, threshold=0.5)) == [7]


def test_reanalysis_after_a_rollback_reruns_articles_whose_latest_finding_is_another_version(db):
    from pantau.core.store.findings import articles_to_analyze

    article_id, _ = store.save_article(db, _record("https://a.id/1", "isi"))
    _analysed(db, article_id, "breach", "1.0", "2026-11-20T01:00:00+00:00")
    _analysed(db, article_id, "other", "1.1", "2026-11-21T01:00:00+00:00")
    assert [row["id"] for row in articles_to_analyze(db, "1.0")] == [article_id]
    assert articles_to_analyze(db, "1.1") == []


def test_content_hash_ignores_case_and_any_run_of_whitespace():
    text = "Kepala Desa\u00a0hadir  di\tacara\n\nkampanye. "
    assert store.content_hash(text) == store.content_hash("kepala desa hadir di acara kampanye.")
    assert store.content_hash(text) != store.content_hash("Kepala Desa hadir di acara.")


def test_compressed_html_round_trips(db):
    html = "<html><body>Bupati — ñ ✓</body></html>"
    assert store.decompress_html(store.compress_html(html)).decode() == html


def test_concurrent_writers_wait_instead_of_failing(db_path: Path):
    one = store.open_db(db_path)
    two = store.open_db(db_path)
    one.execute("begin immediate")
    one.execute("insert into clusters (title) values ('x')")
    one.execute("commit")
    two["clusters"].insert({"title": "y"})
    assert two["clusters"].count == 2
    assert isinstance(one.conn, sqlite3.Connection)


def schema_of(database) -> list[tuple[str, str]]:
    rows = database.execute(
        "select name, sql from sqlite_master where sql is not null order by name"
    ).fetchall()
    return [(name, sql) for name, sql in rows]


def old_file(path: Path, names: list[str]) -> None:
    """A database written by a release that declared these migrations in this order."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from pantau.core.store import schema

    old = Migrations("pantau")
    for name in names:
        old()(getattr(schema, name))
    database = Database(path)
    old.apply(database)
    database.close()


OLD_ORDER = [
    "m001_articles",
    "m002_findings",
    "m003_dedup_index",
    "m004_crawl_runs",
    "m005_deliveries",
    "m030_digests",
    "m020_dedup_bands",
    "m040_schedule_state",
    "m010_http_cache",
    "m050_fts_follows_text_only",
]


def test_migrations_are_declared_in_the_order_of_their_numbers() -> None:
    from pantau.core.store import schema

    names = [migration.name for migration in schema.migrations._migrations]
    assert names == sorted(names)
    assert set(OLD_ORDER) <= set(names)  # later migrations add to these


@pytest.mark.parametrize("applied", [len(OLD_ORDER), 6], ids=["complete", "half-way"])
def test_a_file_migrated_in_the_old_order_ends_with_the_fresh_schema(
    tmp_path: Path, applied: int
) -> None:
    old_file(tmp_path / "old.db", OLD_ORDER[:applied])
    migrated = store.open_db(tmp_path / "old.db")
    fresh = store.open_db(tmp_path / "fresh.db")
    assert schema_of(migrated) == schema_of(fresh)


def test_a_region_clause_holds_codes_below_it_and_takes_wildcards_literally(db) -> None:
    from pantau.core.store.connection import region_clause

    db.execute("create table places (region_code text)")
    for code in ("17", "17.08", "17.080", "18.01", "1_.08"):
        db.execute("insert into places values (?)", [code])

    def within(*codes: str) -> list[str]:
        clause, params = region_clause(codes)
        rows = db.execute(f"select region_code from places where {clause} order by 1", params)
        return [code for (code,) in rows]

    assert within("17") == ["17", "17.08", "17.080"]
    assert within("17.08") == ["17.08"]
    assert within("%") == []
    assert within("1_") == ["1_.08"]
