"""digest, offices: send each Bawaslu office its digest; manage the list of offices."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from alerts import ledger
from alerts.digest import OfficeReport, run_digests
from alerts.offices import covers, generate_offices, offices_yaml, recipients
from alerts.resend import resend_refused
from pantau.commands import (
    DbOption,
    TextTable,
    app,
    console,
    existing_database_path,
    open_database,
    operator_time,
    out,
    settings,
)
from pantau.core import store
from pantau.core.settings import OfficeConfig, OfficesFile, PantauError, load_model, load_offices
from pantau.core.store.articles import has_crawl_or_ingest_history

OfficesOption = Annotated[
    Path | None,
    typer.Option("--offices", help="offices.yaml to use (default: config/offices.yaml)."),
]

offices_app = typer.Typer(help="The Bawaslu offices that receive digests.", no_args_is_help=True)
app.add_typer(offices_app, name="offices")


def _offices(path: Path | None) -> list[OfficeConfig]:
    return load_model(path, OfficesFile).offices if path else load_offices()


def parse_since(value: str | None, timezone: str) -> datetime | None:
    """A date means its midnight in the digest time zone; a full timestamp is taken as is."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone))
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


class NoHistoryError(PantauError):
    """The digest was about to send from a database with no crawl or ingest history."""


@app.command()
def digest(
    office: Annotated[str | None, typer.Option(help="Only this office id.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only stories first reported since this date (YYYY-MM-DD)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write .eml and .html files, send nothing.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Also write every message here (.eml, .html).")
    ] = None,
    offices_file: OfficesOption = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Send even from a database that has never crawled or ingested."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Send each office the suspected breaches in its area it has not been sent yet."""
    current = settings()
    since_moment = parse_since(since, current.digest.timezone)
    offices = _offices(offices_file)
    path = existing_database_path(db, current)
    database = store.open_db(path)
    if not dry_run and not yes and not has_crawl_or_ingest_history(database):
        raise NoHistoryError(
            f"{path}: this database has never crawled or ingested anything (a new or wrong "
            "--db?); nothing is sent from it without --yes"
        )
    from pantau.case_threads import refresh_cases  # the case linker loads only here

    refresh_cases(database)  # a later report of a known case is its progress, not news
    reports = run_digests(
        database,
        current,
        offices,
        office_id=office,
        since=since_moment,
        dry_run=dry_run,
        out_dir=out_dir,
    )
    out.print(summary_table(reports))
    if not dry_run:
        for resend in resend_refused(database, current):
            out.print(
                f"{resend.office}: {resend.message_id} resent to refused recipients: "
                f"{len(resend.accepted)} accepted, {len(resend.refused)} still refused"
                + (
                    f" (next try {operator_time(resend.retry_at, current.digest.timezone)})"
                    if resend.retry_at
                    else ""
                )
            )
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    out.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no offices")
    if any(report.status == "failed" for report in reports):
        raise typer.Exit(1)


def summary_table(reports: list[OfficeReport]) -> TextTable:
    table = TextTable("office", "status", "stories", "updates", "recipients", "detail")
    for report in reports:
        detail = report.error or ""
        if report.files and report.status in ("sent", "dry-run"):
            detail = "; ".join(filter(None, [detail, str(report.files[0])]))
        if report.held_back:
            detail = "; ".join(filter(None, [detail, f"{report.held_back} held for next digest"]))
        table.add_row(
            report.office,
            report.status,
            str(report.stories),
            str(report.updates),
            ", ".join(report.recipients),
            detail,
        )
    return table


@app.command("digest-log")
def digest_log(
    office: Annotated[str | None, typer.Option(help="Only this office id.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many digests, newest first.")] = 20,
    db: DbOption = None,
) -> None:
    """Show the latest digests: status, stories, recipients' results, outbox file."""
    current = settings()
    database = open_database(db, current)
    table = TextTable("created", "office", "status", "stories", "updates", "Message-ID", "detail")
    for row in ledger.history(database, office, limit):
        detail = row["error"] or ""
        if row["recipients"]:
            refused = {
                address: result
                for address, result in json.loads(row["recipients"]).items()
                if result != "accepted"
            }
            if refused:
                detail = "; ".join(filter(None, [detail, f"refused: {refused}"]))
        if row["status"] in ("unknown", "failed") and row["eml_path"]:
            detail = "; ".join(filter(None, [detail, str(row["eml_path"])]))
        table.add_row(
            operator_time(row["created_at"], current.digest.timezone),
            row["office"],
            row["status"],
            str(row["stories"]),
            str(row["updates"]),
            row["message_id"],
            detail,
        )
    out.print(table)


@app.command("digest-release")
def digest_release(
    message_id: Annotated[
        str, typer.Argument(help="Message-ID of a digest whose delivery is unknown.")
    ],
    db: DbOption = None,
) -> None:
    """Resend the stories of an 'unknown' digest after checking it never arrived."""
    database = open_database(db)
    released = ledger.release(database, message_id, datetime.now(UTC))
    out.print(
        f"{released} story(ies) of {message_id} are pending again; `pantau digest` sends them"
    )


@offices_app.command("generate")
def offices_generate(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Write the national list (1 RI, 38 provinsi, 514 kabupaten/kota) without recipients."""
    from extract.regions import load_gazetteer

    gazetteer = load_gazetteer()
    offices = generate_offices(gazetteer.provinces, gazetteer.regencies)
    text = offices_yaml(offices)
    if out_file is None:
        out.print(text, markup=False, end="")
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    levels = {level: sum(o.level == level for o in offices) for level in ("ri", "provinsi")}
    kabkota = len(offices) - sum(levels.values())
    console.print(
        f"wrote {len(offices)} offices ({levels['ri']} RI, {levels['provinsi']} provinsi, "
        f"{kabkota} kabupaten/kota) to {out_file}; fill in their recipients",
        highlight=False,
    )


@offices_app.command("list")
def offices_list(offices_file: OfficesOption = None) -> None:
    """Show each configured office, its scope and recipients."""
    table = TextTable("id", "name", "level", "regions", "to", "cc", "min score", "empty days")
    for office in _offices(offices_file):
        table.add_row(
            office.id,
            office.name,
            office.level,
            "semua" if covers(office, None) else ", ".join(office.regions),
            ", ".join(office.to) or ("-" if recipients(office) else "(none: skipped)"),
            ", ".join(office.cc),
            "" if office.min_score is None else f"{office.min_score:.2f}",
            "yes" if office.send_empty else "no",
        )
    out.print(table)
