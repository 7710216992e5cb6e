"""The whole schema as ordered migrations (sqlite-utils applies them in declaration order).

Declared in the order of their numbers; each one runs once per database file, so an
existing file is brought up to date by `open_db`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("pantau")


@migrations()
def m001_articles(db: Database) -> None:
    db.table("clusters").create(
        {
            "id": int,
            "first_article_id": int,
            "first_seen": str,
            "title": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "site": str,
            "source": str,
            "title": str,
            "text": str,
            "published": str,
            "author": str,
            "sitename": str,
            "lang": str,
            "fetched_at": str,
            "updated_at": str,
            "content_hash": str,
            "cluster_id": int,
            "html_gz": bytes,
            "etag": str,
            "last_modified": str,
            "source_date": str,
        },
        pk="id",
        not_null={"url", "site", "fetched_at"},
        foreign_keys=[("cluster_id", "clusters", "id")],
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["content_hash"])
    db.table("articles").create_index(["cluster_id"])
    db.table("articles").create_index(["site", "fetched_at"])
    # Other URLs seen for the same article (AMP copies, tracking variants, redirects),
    # so a known article is skipped before it is fetched again.
    db.table("article_urls").create(
        {"url": str, "article_id": int},
        pk="url",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("articles").enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")


@migrations()
def m002_findings(db: Database) -> None:
    db.table("findings").create(
        {
            "id": int,
            "article_id": int,
            "analyzer_version": str,
            "verdict": str,
            "score": float,
            "officials": str,
            "region_code": str,
            "region_name": str,
            "province": str,
            "violations": str,
            "evidence": str,
            "analyzed_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("findings").create_index(["article_id", "analyzer_version"], unique=True)
    db.table("findings").create_index(["verdict", "region_code"])
    db.table("reviews").create(
        {
            "id": int,
            "cluster_id": int,
            "status": str,
            "reviewer": str,
            "note": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("cluster_id", "clusters", "id")],
    )


@migrations()
def m003_dedup_index(db: Database) -> None:
    db.table("dedup_signatures").create(
        {"article_id": int, "scheme": str, "num_perm": int, "hashvalues": bytes},
        pk="article_id",
    )
    db.table("dedup_buckets").create({"band": int, "key": bytes, "article_id": int})
    db.table("dedup_buckets").create_index(["band", "key"])


@migrations()
def m004_crawl_runs(db: Database) -> None:
    db.table("crawl_runs").create(
        {
            "id": int,
            "site": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pid": int,
            "pages_fetched": int,
            "articles_new": int,
            "articles_updated": int,
            "articles_skipped": int,
            "failures": int,
            "failure_causes": str,
            "error": str,
        },
        pk="id",
    )
    db.table("crawl_runs").create_index(["site", "started_at"])
    db.table("crawl_errors").create(
        {"id": int, "run_id": int, "site": str, "url": str, "cause": str, "detail": str, "at": str},
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.table("crawl_errors").create_index(["site", "at"])


@migrations()
def m005_deliveries(db: Database) -> None:
    db.table("deliveries").create(
        {
            "id": int,
            "office": str,
            "cluster_id": int,
            "status": str,
            "message_id": str,
            "created_at": str,
            "sent_at": str,
            "attempts": int,
            "last_error": str,
        },
        pk="id",
        foreign_keys=[("cluster_id", "clusters", "id")],
    )
    db.table("deliveries").create_index(["office", "cluster_id"], unique=True)


@migrations()
def m010_http_cache(db: Database) -> None:
    """Validators (ETag / Last-Modified) of feeds, sitemaps and listings per site.

    A crawl sends them back as a conditional request; an unchanged source answers 304
    and costs no parsing. They are saved only after a crawl that ended 'ok', so a source
    whose articles partly failed is read in full again next time.
    """
    db.table("http_cache").create(
        {"url": str, "site": str, "etag": str, "last_modified": str, "checked_at": str},
        pk="url",
    )
    db.table("http_cache").create_index(["site"])


@migrations()
def m020_dedup_bands(db: Database) -> None:
    """A compact band table, the index's parameters, and why each article joined its story.

    m003's dedup_buckets (band, blob key, rowid + separate index) was never written by the
    placeholder index; it is replaced by one WITHOUT ROWID B-tree keyed by a 64-bit hash of
    (band number, band hash values): about a third of the bytes per row, and one lookup.
    An article's own rows are found again from its stored signature, so no second index.
    """
    db.execute("drop table if exists dedup_buckets")
    db.execute(
        "create table dedup_bands (key integer not null, article_id integer not null, "
        "primary key (key, article_id)) without rowid"
    )
    db.table("dedup_signatures").add_column("shingles", int)
    db.table("dedup_meta").create({"name": str, "value": str}, pk="name")
    db.table("dedup_matches").create(
        {
            "article_id": int,
            "cluster_id": int,
            "method": str,
            "matched_article_id": int,
            "jaccard": float,
            "containment": float,
            "joined_at": str,
        },
        pk="article_id",
    )
    db.table("articles").add_column("cluster_joined_at", str)


@migrations()
def m030_digests(db: Database) -> None:
    """One row per digest message, so a send can be reconciled after a crash.

    A digest is recorded (status 'sending', with its Message-ID) in the same transaction
    that claims its stories in `deliveries`; `delivery_articles` records which articles of
    each story an office has been told about, so later copies show up as updates.
    """
    db.table("digests").create(
        {
            "id": int,
            "office": str,
            "message_id": str,
            "status": str,
            "local_date": str,
            "stories": int,
            "updates": int,
            "recipients": str,
            "error": str,
            "eml_path": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"office", "message_id", "status"},
    )
    db.table("digests").create_index(["message_id"], unique=True)
    db.table("digests").create_index(["office", "status"])
    db.table("deliveries").add_column("digest_id", int)
    db.table("deliveries").add_column("next_attempt_at", str)
    db.table("delivery_articles").create(
        {"office": str, "article_id": int, "cluster_id": int, "digest_id": int, "created_at": str},
        pk=("office", "article_id"),
        foreign_keys=[("article_id", "articles", "id")],
    )


@migrations()
def m040_schedule_state(db: Database) -> None:
    """What the scheduler needs to rebuild its jobs after a restart.

    One row per job (`crawl:<site>` or `digest`): when it last started and finished, its
    last result, the digest slot last completed (so a missed morning runs once, and a
    restart never repeats it), and the next planned run for `pantau status`. `since` is
    when the job was first scheduled: digest slots before it were never missed.
    """
    db.table("schedule_state").create(
        {
            "job_id": str,
            "kind": str,
            "target": str,
            "since": str,
            "last_started_at": str,
            "last_finished_at": str,
            "last_result": str,
            "last_slot": str,
            "run_count": int,
            "next_run_at": str,
            "updated_at": str,
        },
        pk="job_id",
        defaults={"run_count": 0},
    )


@migrations()
def m050_fts_follows_text_only(db: Database) -> None:
    """Re-index an article's full text only when its title or text changes.

    sqlite-utils' update trigger fires on every UPDATE of the row, so joining a story
    (cluster_id) deleted and re-inserted the whole text in the FTS index: a third of the
    per-article SQLite work of an ingest.
    """
    db.execute("drop trigger if exists articles_au")
    db.execute(
        "create trigger articles_au after update of title, text on articles begin "
        "insert into articles_fts (articles_fts, rowid, title, text) "
        "values ('delete', old.rowid, old.title, old.text); "
        "insert into articles_fts (rowid, title, text) values (new.rowid, new.title, new.text); "
        "end"
    )


@migrations()
def m090_cases(db: Database) -> None:
    """Case threads: stories of one suspected breach across outlets and days.

    A case keeps its id while it grows (`pantau cases`, the digest), so an office is told
    of a case once as new and afterwards only of its progress. A story may belong to
    several cases (a round-up of two cases).
    """
    # AUTOINCREMENT: the id of a case that merged into another is never handed out again.
    db.execute(
        "create table cases (id integer primary key autoincrement, region_code text, "
        "region_name text, province text, accused text, violations text, stage text, "
        "first_seen text, updated_at text, created_at text)"
    )
    db.execute(
        "create table case_stories (case_id integer not null references cases(id), "
        "cluster_id integer not null references clusters(id), "
        "primary key (case_id, cluster_id)) without rowid"
    )
    db.execute("create index case_stories_cluster on case_stories (cluster_id)")
    db.table("case_events").create(
        {
            "case_id": int,
            "seq": int,
            "stage": str,
            "label": str,
            "date": str,
            "article_id": int,
            "url": str,
            "sentence": str,
        },
        pk=("case_id", "stage"),
        foreign_keys=[("case_id", "cases", "id")],
    )


# --- the review workspace (numbered from 100 so they sort after the pipeline's own) ------


@migrations()
def m095_dedup_sentences(db: Database) -> None:
    """Sentence keys for story clustering: partial copies share sentences, not shingles.

    Like dedup_bands, one WITHOUT ROWID B-tree of (key, article_id); an article's own keys
    are kept with its signature so an updated article's rows can be found and removed.
    Articles indexed before this migration have none until `pantau stories-reindex`.
    """
    db.execute(
        "create table dedup_sentences (key integer not null, article_id integer not null, "
        "primary key (key, article_id)) without rowid"
    )
    db.table("dedup_signatures").add_column("sentence_keys", bytes)


@migrations()
def m100_accounts(db: Database) -> None:
    """Workspace accounts, one office each, and every login attempt (for the lockout).

    Attempts are kept per e-mail address whether or not an account exists, so a locked
    address and an unknown one answer alike.
    """
    db.table("accounts").create(
        {
            "id": int,
            "email": str,
            "office": str,
            "password_hash": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"email", "office", "password_hash"},
    )
    db.table("accounts").create_index(["email"], unique=True)
    db.table("login_attempts").create(
        {"id": int, "email": str, "ok": int, "at": str}, pk="id", not_null={"email", "at"}
    )
    db.table("login_attempts").create_index(["email", "at"])


@migrations()
def m101_review_records(db: Database) -> None:
    """Review decisions as an append-only history.

    Each row is one action (confirm, dismiss, duplicate, note, follow_up) by a reviewer of an
    office, and carries the story's resulting `status` and `follow_up`, so the newest row of
    a story is its current state: the digest's "newest row says dismissed" rule keeps working
    unchanged. Triggers refuse UPDATE and DELETE: a decision is corrected by a newer one.
    """
    reviews = db.table("reviews")
    reviews.add_column("office", str)
    reviews.add_column("action", str)
    reviews.add_column("reason", str)
    reviews.add_column("duplicate_of", int)
    reviews.add_column("follow_up", str)
    reviews.create_index(["cluster_id", "id"])
    db.execute(
        "create trigger reviews_no_update before update on reviews begin "
        "select raise(abort, 'reviews are append-only'); end"
    )
    db.execute(
        "create trigger reviews_no_delete before delete on reviews begin "
        "select raise(abort, 'reviews are append-only'); end"
    )


@migrations()
def m110_crawl_retry_after(db: Database) -> None:
    """When a site asked the crawler to come back (Retry-After on a 429 or 503).

    The next crawl of the site waits until then (bounded by crawl.max_retry_after), so
    a site that asked for a pause is not hit again by the next scheduled run.
    """
    db.table("crawl_retry_after").create(
        {"site": str, "not_before": str, "noted_at": str}, pk="site"
    )


@migrations()
def m120_refused_recipients(db: Database) -> None:
    """A digest that reached some recipients but not others retries only the refused ones:
    `refused_next_at` is when (null: nothing left to retry), `refused_attempts` how often."""
    digests = db.table("digests")
    digests.add_column("refused_attempts", int, not_null_default=0)
    digests.add_column("refused_next_at", str)
    digests.create_index(["refused_next_at"])


@migrations()
def m130_crawl_requests(db: Database) -> None:
    """`pantau crawl SITE` handing its crawl to the running service (its warm crawl host).

    `status` goes pending -> taken (the service queued or joined a crawl of the site) ->
    done (`run_id` is the run that answered it) or `skipped` (the service did not crawl
    it); `abandoned` when the requesting command gave up waiting and crawled by itself,
    so the service never runs it later.
    """
    db.table("crawl_requests").create(
        {
            "id": int,
            "site": str,
            "requested_at": str,
            "requested_by": int,
            "status": str,
            "taken_at": str,
            "run_id": int,
            "done_at": str,
        },
        pk="id",
    )
    db.table("crawl_requests").create_index(["status"])
