"""coverage: outlets and recent articles per office area, and the areas nobody covers."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from pantau.commands import DbOption, FormatOption, TextTable, app, check_format, open_database, out
from pantau.core.settings import load_sites

if TYPE_CHECKING:
    from pantau.coverage import CoverageReport


@app.command()
def coverage(
    db: DbOption = None,
    fmt: FormatOption = "table",
    days: Annotated[int, typer.Option(min=1, help="Count articles of the last N days.")] = 7,
) -> None:
    """Show how many outlets cover each province and kabupaten/kota, and where none do."""
    check_format(fmt, ("table", "json"))
    from extract.regions import load_gazetteer
    from pantau.coverage import coverage_report

    report = coverage_report(open_database(db), load_sites(), load_gazetteer(), days)
    if fmt == "json":
        data = asdict(report)
        data["uncovered"] = [area.code for area in report.uncovered]
        out.print(json.dumps(data, ensure_ascii=False), markup=False)
        return
    out.print(provinces_table(report))
    uncovered = report.uncovered
    out.print(
        f"National outlets (cover every area): {len(report.national_outlets)}. "
        f"Areas with no outlet of their own or of their province: {len(uncovered)} "
        f"of {len(report.areas)}; `--format json` lists them."
    )


def provinces_table(report: CoverageReport) -> TextTable:
    table = TextTable("code", "province", "outlets", "kab/kota covered", f"articles {report.days}d")
    regencies = [a for a in report.areas if a.level == "kabkota"]
    for province in (a for a in report.areas if a.level == "provinsi"):
        inside = [a for a in regencies if a.code.startswith(province.code + ".")]
        covered = sum(1 for a in inside if a.outlets)
        table.add_row(
            province.code,
            province.name,
            str(len(province.outlets)),
            f"{covered}/{len(inside)}",
            str(province.articles),
        )
    return table
