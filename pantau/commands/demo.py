"""`pantau demo`: what `make demo` runs, the first thing a newcomer sees."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pantau.commands import TextTable, app, console, out
from pantau.core.settings import project_root
from pantau.demo.data import DEFAULT_PORT_BASE, DEMO_DIR
from pantau.demo.run import DemoOptions, DemoResult, run_demo


@app.command()
def demo(
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite file (default: data/demo.db, apart from production)."),
    ] = None,
    outbox: Annotated[
        Path | None,
        typer.Option("--outbox", help="Where every digest is written (default: data/outbox)."),
    ] = None,
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            min=1024,
            max=65000,
            help="The outlets listen on 127.0.0.1 at this port +1, +2, +3.",
        ),
    ] = DEFAULT_PORT_BASE,
    keep_serving: Annotated[
        bool,
        typer.Option("--keep-serving", help="Keep the outlets and SMTP sink up until Ctrl-C."),
    ] = False,
) -> None:
    """Serve the bundled demo outlets on loopback, crawl them, deliver each office's digest."""
    options = DemoOptions(
        db=db,
        outbox=outbox,
        port_base=port_base,
        keep_serving=keep_serving,
        progress=console.is_terminal,
    )

    def say(message: str) -> None:
        console.print(f"pantau demo: {message}", highlight=False, soft_wrap=True)

    result = run_demo(options, say, print_summary)
    if any(c.status == "failed" for c in result.crawl) or any(
        o.status == "failed" for o in result.offices
    ):
        raise typer.Exit(1)


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def summary_console() -> Console:
    """The shared stdout console, but not squeezed to 80 columns when piped to a file."""
    return (
        out
        if out.is_terminal
        else Console(soft_wrap=True, highlight=False, markup=False, width=132)
    )


def print_summary(result: DemoResult) -> None:
    screen = summary_console()
    screen.print(outlets_table(result))
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(result.verdicts.items())) or "none"
    screen.print(f"Findings (newest verdict per article): {verdicts}")
    screen.print(stories_table(result))
    screen.print(digests_table(result))
    for office in result.offices:
        for path in office.files:
            if path.suffix == ".eml":
                screen.print(f"  {office.office.id}: {shown(path)}", highlight=False)
    sent = sum(1 for o in result.offices if o.status == "sent")
    screen.print(
        f"{sent} digest(s) sent, {result.mails_received} message(s) received by the SMTP sink; "
        f"database {shown(result.db_path)}, outbox {shown(result.outbox)}; "
        f"finished in {result.seconds:.1f} s "
        f"(crawl {result.timings.get('crawl', 0):.1f} s, "
        f"digests {result.timings.get('digest', 0):.1f} s).",
        highlight=False,
    )
    earlier = sum(o.delivered_total for o in result.offices)
    if sent == 0 and earlier:
        screen.print(
            f"Nothing new to deliver: the {earlier} story deliveries on record were made by an "
            "earlier run, and a story goes to an office only once."
        )
    elif sent == 0:
        screen.print("No suspected breach reached the digest threshold, so nothing was sent.")
    print_workspace_hint(screen, result)


def print_workspace_hint(screen: Console, result: DemoResult) -> None:
    """How to open the review workspace on the demo database (the demo starts nothing more)."""
    from pantau.commands.workspace import ensure_demo_account

    office = next((o.office for o in result.offices if o.office.level == "ri"), None)
    if office is None:
        return
    email, password = ensure_demo_account(result.db_path, office.id)
    options = f"--db {shown(result.db_path)} --offices {shown(DEMO_DIR / 'offices.yaml')}"
    for line in (
        "Review workspace (the page the digests link to), on the demo database:",
        f"  .venv/bin/pantau serve {options}",
        f"  then open http://127.0.0.1:8000/findings and log in as {email} / {password}"
        f" ({office.name}); `pantau users add EMAIL --office ID {options}` adds another.",
    ):
        screen.print(line, highlight=False, markup=False)


def outlets_table(result: DemoResult) -> TextTable:
    ports = [o.port for o in result.outlets]
    title = f"Demo outlets on 127.0.0.1:{min(ports)}-{max(ports)}" if ports else "Demo outlets"
    table = TextTable(title=title, title_justify="left")
    table.add_column("outlet")
    table.add_column("discovery")
    table.add_column("status")
    for column in ("pages served", "fetched", "new articles", "known", "stored"):
        table.add_column(column, justify="right")
    table.add_column("failures")
    crawl = {c.site: c for c in result.crawl}
    for outlet in result.outlets:
        summary = crawl.get(outlet.id)
        failures = summary.failures if summary else {}
        table.add_row(
            f"{outlet.name} (:{outlet.port})",
            outlet.style.discovery,
            summary.status if summary else "not run",
            str(result.pages_built.get(outlet.id, 0)),
            str(summary.pages_fetched) if summary else "-",
            str(summary.articles_new) if summary else "-",
            str(summary.articles_skipped) if summary else "-",
            str(result.articles_per_site.get(outlet.id, 0)),
            ", ".join(f"{cause} {n}" for cause, n in failures.items()) or "-",
        )
    return table


def stories_table(result: DemoResult) -> TextTable:
    table = TextTable(title="Stories carried by more than one outlet", title_justify="left")
    table.add_column("story", justify="right")
    table.add_column("first headline")
    table.add_column("outlets, first source first")
    for story in result.shared_stories:
        table.add_row(str(story["cluster_id"]), story["title"], ", ".join(story["sites"]))
    if not result.shared_stories:
        table.add_row("-", "(no story was carried by two outlets)", "")
    return table


def digests_table(result: DemoResult) -> TextTable:
    table = TextTable(title="Digests", title_justify="left")
    table.add_column("office")
    table.add_column("status")
    table.add_column("stories", justify="right")
    table.add_column("recipients", justify="right")
    table.add_column("SMTP sink")
    table.add_column("accused named in the digest")
    for office in result.offices:
        table.add_row(
            office.office.name,
            office.status + (f" ({office.error})" if office.error else ""),
            str(office.stories),
            str(len(office.recipients)),
            "received" if office.received else "-",
            "; ".join(office.accused) or "-",
        )
    return table
