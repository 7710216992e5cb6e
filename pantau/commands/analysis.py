"""analyze, ingest, findings, reanalyze: the contracts in DESIGN.md."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress

from extract.models import Article
from pantau.commands import (
    DbOption,
    FormatOption,
    TextTable,
    app,
    check_format,
    console,
    open_database,
    open_or_create_database,
    out,
    settings,
)
from pantau.core import store
from pantau.core.store.findings import articles_to_analyze

log = logging.getLogger(__name__)

# The stages (spaCy, trafilatura, datasketch) are imported inside each command, so that
# `pantau --help`, `pantau status` and every scheduled subprocess start fast.

PathsArgument = Annotated[
    list[Path], typer.Argument(help=".html or .txt files, or folders of them.")
]


def expand_paths(paths: list[Path]) -> list[Path]:
    """Folders expand to the .html/.htm/.txt files inside them, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*")) if p.suffix.lower() in {".html", ".htm", ".txt"}
            )
        else:
            files.append(path)
    return files


def print_jsonl(obj: dict[str, Any]) -> None:
    out.print(json.dumps(obj, ensure_ascii=False), markup=False)


ExplainOption = Annotated[
    bool,
    typer.Option(
        "--explain", help="Add each person found, the role they got (accused or not) and why."
    ),
]


@app.command()
def analyze(
    paths: PathsArgument, fmt: FormatOption = "jsonl", explain: ExplainOption = False
) -> None:
    """Detect suspected breaches in local article files and print one finding per file."""
    from extract.text import ExtractionError, read_document

    check_format(fmt)
    detector = None  # loaded (seconds) once a file has passed reading: bad input fails fast
    failures = 0
    rows: list[dict[str, Any]] = []
    for path in expand_paths(paths):
        try:
            _, article = read_document(path)
        except ExtractionError as exc:
            console.print(f"[red]skipped[/red] {escape(str(exc))}", markup=True, highlight=False)
            failures += 1
            continue
        if detector is None:
            detector = _load_detector()
        explained = detector.explain(article) if article.is_indonesian else None
        result: dict[str, Any] = {"source": str(path), "title": article.title, "lang": article.lang}
        result.update((explained.finding if explained else _unanalysed(detector.version)).to_dict())
        if explain:
            result["people"] = [p.to_dict() for p in explained.people] if explained else []
        if fmt == "jsonl":
            print_jsonl(result)
        else:
            rows.append(result)
    if fmt == "table":
        out.print(findings_table(rows))
        if explain:
            out.print(people_table(rows))
    if failures:
        raise typer.Exit(1)


def _load_detector() -> Any:
    """Imported and loaded only when a file needs it: spaCy and the rules take seconds."""
    from extract.detect import load_detector

    return load_detector()


def _unanalysed(version: str) -> Any:
    from extract.models import Finding

    return Finding.not_analysed(version)


def findings_table(rows: list[dict[str, Any]]) -> TextTable:
    table = TextTable("source", "verdict", "score", "accused", "region", "violations")
    for row in rows:
        accused = "; ".join(
            ", ".join(x for x in (o.get("name"), o.get("position")) if x) for o in row["officials"]
        )
        region = (row.get("region") or {}).get("name", "")
        table.add_row(
            str(row.get("source") or row.get("url")),
            row["verdict"],
            f"{row['score']:.2f}",
            accused,
            region,
            ", ".join(row["violations"]),
        )
    return table


def people_table(rows: list[dict[str, Any]]) -> TextTable:
    table = TextTable("source", "person", "role", "why", "sentence", title="people and their roles")
    for row in rows:
        for person in row.get("people", []):
            who = ", ".join(x for x in (person["name"], person["position"]) if x)
            table.add_row(
                str(row["source"]), who, person["role"], person["reason"], person["sentence"]
            )
    return table


@app.command()
def ingest(paths: PathsArgument, db: DbOption = None, site: str = "local") -> None:
    """Store local article files through the same chain as crawled pages."""
    from extract.text import ExtractionError, read_document
    from pantau.ingest import Ingestor

    current = settings()
    database = open_or_create_database(db, current)
    ingestor = Ingestor(database, current)
    counts = {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
    files = expand_paths(paths)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for path in files:
            try:
                page, article = read_document(path, site=site)
                result = ingestor.ingest_article(page, article)
                counts[result.status] += 1
            except ExtractionError as exc:
                console.print(
                    f"[red]skipped[/red] {escape(str(exc))}", markup=True, highlight=False
                )
                counts["failed"] += 1
            progress.advance(task)
    out.print(
        f"ingested {len(files)} file(s): {counts['new']} new, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['failed']} failed"
    )
    if counts["failed"]:
        raise typer.Exit(1)


@app.command()
def findings(
    db: DbOption = None,
    fmt: FormatOption = "table",
    verdict: Annotated[
        list[str] | None, typer.Option(help="Only these verdicts (repeatable).")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Kemendagri code, e.g. 17 or 17.08.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published since (ISO date).")
    ] = None,
) -> None:
    """Print stored findings with their story cluster and every URL in it."""
    check_format(fmt)
    database = open_database(db)
    rows = []
    clusters: dict[int, list[dict[str, Any]]] = {}
    for row in store.latest_findings(
        database, verdicts=tuple(verdict) if verdict else None, region_prefix=region, since=since
    ):
        cluster_id = row["cluster_id"]
        if cluster_id is not None and cluster_id not in clusters:
            clusters[cluster_id] = store.cluster_articles(database, cluster_id)
        articles = clusters.get(cluster_id, [])
        row["source"] = row["url"]
        row["cluster"] = {
            "id": cluster_id,
            "outlets": len({a["site"] for a in articles}),
            "articles": [
                {
                    "url": a["url"],
                    "site": a["site"],
                    "title": a["title"],
                    "published": a["published"],
                }
                for a in articles
            ],
        }
        row["cluster_urls"] = [a["url"] for a in articles]
        rows.append(row)
        if fmt == "jsonl":
            print_jsonl(row)
    if fmt == "table":
        out.print(findings_table(rows))


@app.command()
def reanalyze(
    db: DbOption = None,
    all_versions: Annotated[
        bool, typer.Option("--all", help="Re-run even articles already analysed by this version.")
    ] = False,
) -> None:
    """Run the current detector over stored articles (no recrawl after a rule change)."""
    from extract.detect import load_detector

    database = open_database(db)
    detector = load_detector()
    articles = articles_to_analyze(database, detector.version, every=all_versions)
    verdicts: dict[str, int] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reanalyzing", total=len(articles))
        for row in articles:
            article = Article(url=row["url"], title=row["title"] or "", text=row["text"] or "")
            finding = detector.analyze(article)
            store.save_finding(database, row["id"], finding.to_dict(), detector.version)
            verdicts[finding.verdict] = verdicts.get(finding.verdict, 0) + 1
            progress.advance(task)
    summary = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) or "nothing to do"
    out.print(f"reanalyzed {len(articles)} article(s) with detector {detector.version}: {summary}")
