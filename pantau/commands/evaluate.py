"""pantau eval: score the detector on a folder of labelled articles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pantau.commands import TextTable, app, check_format, out

if TYPE_CHECKING:
    from extract.evaluate import EvalReport, ItemResult


@app.command("eval")
def evaluate(
    directory: Annotated[
        Path, typer.Argument(help="Folder with .txt/.html articles + labels.jsonl.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = "table",
) -> None:
    """Print accused precision (people wrongly named) first, then accused recall, breach
    precision/recall/F1, verdict and region accuracy, and each mistake with its sentence."""
    from extract.evaluate import evaluate_directory  # loads spaCy: only when evaluating

    check_format(fmt, ("table", "json"))
    report = evaluate_directory(directory)
    if fmt == "json":
        out.print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), markup=False)
        return
    print_report(report)


def print_report(report: EvalReport) -> None:
    metrics = report.metrics()
    breach = metrics["breach"]
    accused = metrics["accused"]
    summary = TextTable("metric", "value", title=f"pantau eval {report.directory}")
    rows: list[tuple[str, Any]] = [
        ("accused precision", accused["precision"]),
        (
            "people wrongly named",
            f"{metrics['wrongly_named']} ({metrics['wrongly_named_per_100']} per 100 articles)",
        ),
        ("accused recall", accused["recall"]),
        ("items", metrics["items"]),
        ("breach precision", breach["precision"]),
        ("breach recall", breach["recall"]),
        ("breach F1", breach["f1"]),
        ("verdict accuracy", metrics["verdict_accuracy"]),
        ("advisory classed as breach", metrics["advisory_as_breach"]),
        ("quoted reported as accused", accused["quoted_as_accused"]),
        ("region accuracy", metrics["region_accuracy"]),
    ]
    if metrics["errors"]:
        rows.append(("unreadable items", metrics["errors"]))
    for name, value in rows:
        summary.add_row(name, str(value))
    out.print(summary)
    mistakes = report.mistakes()
    if not mistakes:
        return
    table = TextTable(
        "id", "expected", "predicted", "score", "accused missed", "accused wrong", "region"
    )
    for item in mistakes:
        region = "" if item.region_ok else f"{item.predicted_region} != {item.expected_region}"
        table.add_row(
            item.id,
            item.expected,
            item.predicted if not item.error else f"error: {item.error}",
            f"{item.score:.2f}",
            ", ".join(item.missed_officials),
            ", ".join(item.wrong_officials),
            region,
        )
    out.print(table)
    print_people(mistakes)


def print_people(mistakes: list[ItemResult]) -> None:
    """Each wrongly named and each missed person with the sentence that decided it."""
    lines = [
        (item.id, kind, why)
        for item in mistakes
        for kind, whys in (("wrongly named", item.wrong_why), ("missed", item.missed_why))
        for why in whys
    ]
    if not lines:
        return
    table = TextTable("id", "person", "why | sentence", title="people wrongly named or missed")
    for item_id, kind, why in lines:
        table.add_row(item_id, kind, why)
    out.print(table)
