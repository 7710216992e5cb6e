"""cases: case threads (one suspected breach across outlets and days) with their stages."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

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
from pantau.core.store.cases import CaseRecord, saved_cases, story_articles

REGION_CODE = re.compile(r"^\d{2}(\.\d{2})?$")


@app.command()
def cases(
    db: DbOption = None,
    fmt: FormatOption = "table",
    region: Annotated[
        str | None,
        typer.Option(help="Kemendagri code of a province (NN) or kabupaten/kota (NN.NN)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only cases with a report on or after this date.")
    ] = None,
) -> None:
    """List case threads: each suspected breach with its accused, stages and every article."""
    check_format(fmt)
    if region and not REGION_CODE.match(region):
        raise typer.BadParameter(
            f"{region!r} is not a region code like 17 or 17.05", param_hint="--region"
        )
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(
                f"{since!r} is not an ISO date", param_hint="--since"
            ) from None
    from pantau.case_threads import refresh_cases  # the linker loads only when listing

    database = open_database(db)
    refresh_cases(database)
    found = [case_json(database, case) for case in saved_cases(database, region, since)]
    if fmt == "jsonl":
        for case in found:
            out.print(json.dumps(case, ensure_ascii=False), markup=False)
    else:
        out.print(cases_table(found))


def case_json(db: Any, case: CaseRecord) -> dict[str, Any]:
    articles = [
        {
            "story": cluster_id,
            "url": row["url"],
            "site": row["site"],
            "title": row["title"],
            "published": row["published"],
        }
        for cluster_id in case.cluster_ids
        for row in story_articles(db, cluster_id)
    ]
    return {
        "id": case.id,
        "accused": case.accused,
        "region": {"code": case.region_code, "name": case.region_name, "province": case.province}
        if case.region_code
        else None,
        "violations": case.violations,
        "stage": case.stage,
        "first_seen": case.first_seen,
        "updated_at": case.updated_at,
        "stories": case.cluster_ids,
        "timeline": [
            {key: event[key] for key in ("stage", "label", "date", "url", "sentence")}
            for event in case.events
        ],
        "articles": sorted(articles, key=lambda a: (a["published"] or "", a["url"])),
    }


def cases_table(found: list[dict[str, Any]]) -> TextTable:
    table = TextTable("id", "accused", "region", "stage", "stories", "articles", "first seen")
    for case in found:
        accused = "; ".join(
            ", ".join(part for part in (p.get("name"), p.get("position")) if part)
            for p in case["accused"]
        )
        table.add_row(
            str(case["id"]),
            accused,
            (case["region"] or {}).get("name") or "",
            case["stage"],
            str(len(case["stories"])),
            str(len(case["articles"])),
            (case["first_seen"] or "")[:10],
        )
    return table


@app.command("eval-cases")
def eval_cases(
    directory: Annotated[
        Path, typer.Argument(help="Folder of article files + labels.jsonl (url, copy_of, case).")
    ],
    fmt: FormatOption = "table",
) -> None:
    """Score copy folding and case linking on a labelled folder (a fresh temporary store)."""
    check_format(fmt, ("table", "json"))
    from pantau.case_eval import evaluate_cases  # loads the detector: only when evaluating

    scores = evaluate_cases(directory, settings())
    if fmt == "json":
        out.print(json.dumps(asdict(scores) | {"figures": scores.figures()}), markup=False)
        return
    for name, value in scores.figures().items():
        out.print(f"{name.replace('_', ' ')}: {value}", markup=False)
    for name in ("missed_copies", "false_folds", "missed_links", "false_links", "not_stored"):
        items = getattr(scores, name)
        if items:
            shown = ", ".join("-".join(i) if isinstance(i, tuple) else i for i in items[:30])
            out.print(f"{name.replace('_', ' ')}: {shown}", markup=False)
