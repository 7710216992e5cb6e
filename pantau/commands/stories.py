"""stories, stories-reindex: the story clusters (copies of one article across outlets)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlite_utils import Database

from pantau.commands import (
    DbOption,
    FormatOption,
    TextTable,
    app,
    check_format,
    open_database,
    out,
    settings,
)
from pantau.core import store
from pantau.core.store.findings import cluster_verdicts
from pantau.core.store.stories import (
    clear_dedup_index,
    copy_sources,
    dedup_matches,
    stories_with,
)

VERDICT_RANK = {"breach": 2, "advisory": 1, "other": 0}


def list_stories(db: Database, min_articles: int = 1) -> list[dict[str, Any]]:
    """Every story with at least `min_articles` articles, most recently grown first."""
    return [describe_story(db, cluster) for cluster in stories_with(db, min_articles)]


def describe_story(db: Database, cluster: dict[str, Any]) -> dict[str, Any]:
    articles = store.cluster_articles(db, cluster["id"])
    joined = dedup_matches(db, cluster["id"])
    first = next((a for a in articles if a["id"] == cluster["first_article_id"]), None)
    if first is None and articles:
        first = articles[0]
    copied = provenance(db, cluster["id"], articles)
    return {
        "id": cluster["id"],
        "title": cluster["title"],
        "first_seen": cluster["first_seen"],
        "updated_at": cluster["updated_at"],
        "first_article": _article(first, joined) if first else None,
        "articles": [_article(a, joined) | copied.get(a["id"], {}) for a in articles],
        "outlets": len({a["site"] for a in articles}),
        "finding": best_finding(db, cluster["id"]),
    }


def _article(row: dict[str, Any], joined: dict[int, dict[str, Any]]) -> dict[str, Any]:
    match = joined.get(row["id"], {})
    return {
        "id": row["id"],
        "url": row["url"],
        "site": row["site"],
        "title": row["title"],
        "published": row["published"] or row["fetched_at"],
        "joined_at": match.get("joined_at"),
        "match": match.get("method"),
        "jaccard": match.get("jaccard"),
        "containment": match.get("containment"),
    }


def provenance(
    db: Database, cluster_id: int, articles: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Per copy: the article it copied ("copied_from") and what it changed, sentence by
    sentence ("changes": added / removed). The earliest article copied nobody."""
    from extract.copies import diff_sentences
    from pantau.core.knowledge import load_furniture

    furniture = load_furniture().comparison
    by_id = {a["id"]: a for a in articles}
    texts: dict[int, str] = {}

    def text(article_id: int) -> str:
        if article_id not in texts:
            texts[article_id] = db.table("articles").get(article_id)["text"] or ""
        return texts[article_id]

    found: dict[int, dict[str, Any]] = {}
    for article_id, source_id in copy_sources(db, cluster_id).items():
        source = by_id.get(source_id)
        if source is None:
            continue
        diff = diff_sentences(text(source_id), text(article_id), furniture)
        found[article_id] = {
            "copied_from": {"id": source_id, "site": source["site"], "url": source["url"]},
            "changes": {"added": diff.added, "removed": diff.removed},
        }
    return found


def best_finding(db: Database, cluster_id: int) -> dict[str, Any] | None:
    """The strongest latest finding among the story's articles: what the story is about."""
    rows = cluster_verdicts(db, cluster_id)
    if not rows:
        return None
    best = max(rows, key=lambda r: (VERDICT_RANK.get(r["verdict"], 0), r["score"] or 0.0))
    return {"verdict": best["verdict"], "score": best["score"], "article_id": best["article_id"]}


def stories_table(stories: list[dict[str, Any]]) -> TextTable:
    table = TextTable("id", "title", "first source", "articles", "outlets", "verdict")
    for story in stories:
        first = story["first_article"] or {}
        finding = story["finding"] or {}
        table.add_row(
            str(story["id"]),
            story["title"] or "",
            f"{first.get('site', '')} {first.get('published') or ''}".strip(),
            str(len(story["articles"])),
            str(story["outlets"]),
            finding.get("verdict", ""),
        )
    return table


@app.command()
def stories(
    db: DbOption = None,
    fmt: FormatOption = "table",
    min_articles: Annotated[
        int, typer.Option("--min-articles", min=1, help="Only stories with this many articles.")
    ] = 1,
) -> None:
    """List stories: each article with every outlet that carried a copy of it."""
    check_format(fmt)
    found = list_stories(open_database(db), min_articles)
    if fmt == "jsonl":
        for story in found:
            out.print(json.dumps(story, ensure_ascii=False), markup=False)
    else:
        out.print(stories_table(found))


@app.command("stories-reindex")
def stories_reindex(db: DbOption = None) -> None:
    """Rebuild the copy-finding index from stored texts after changing dedup settings."""
    current = settings()
    database = open_database(db, current)
    clear_dedup_index(database)
    from extract.dedup import StoryIndex  # datasketch pulls in scipy: load only here

    count = StoryIndex(database, current.dedup).rebuild()
    out.print(f"reindexed {count} article(s); existing stories are unchanged")
