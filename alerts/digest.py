"""One digest per office: select what is new in its area, render it, send it exactly once.

`run_digests` is what `pantau digest`, the demo and the scheduler call. One office's failure
(bad data, refused mail) is reported in its `OfficeReport` and never stops the others. The
exactly-once protocol (claim, write, send, settle, reconcile) lives in `alerts.ledger`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from alerts import ledger
from alerts.categories import Catalog, load_catalog
from alerts.mailer import DeliveryUncertain, MailError, SendAborted, send_message
from alerts.offices import min_score, recipients
from alerts.render import Rendered, build_message, render_digest
from alerts.selection import Selection, StoryPool, select_for_office, with_site_names
from pantau.core.calendar import operator_time
from pantau.core.settings import (
    ConfigError,
    OfficeConfig,
    PantauError,
    Settings,
    load_sites,
    resolve_path,
)

log = logging.getLogger(__name__)


class DigestError(PantauError):
    """The digest run cannot start (e.g. an unknown office id)."""


class Superseded(SendAborted):
    """This run was presumed dead and its digest reconciled by another: it must not send."""


@dataclass
class OfficeReport:
    office: str
    status: str  # "sent" | "dry-run" | "nothing-new" | "skipped" | "failed"
    stories: int = 0
    recipients: list[str] = field(default_factory=list)
    message_id: str | None = None
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    updates: int = 0
    held_back: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    retry_at: datetime | None = None


@dataclass
class _Run:
    db: Database
    settings: Settings
    catalog: Catalog
    now: datetime
    since: datetime | None
    out_dir: Path | None
    pool: StoryPool
    site_names: dict[str, str] = field(default_factory=dict)

    @property
    def policy(self) -> ledger.RetryPolicy:
        return ledger.RetryPolicy.of(self.settings.digest)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.digest.timezone)

    def local(self, moment: datetime) -> str:
        """A time as operators read it: in the digest's zone, named (WIB)."""
        return operator_time(moment, self.zone)

    @property
    def local_date(self) -> date:
        return self.now.astimezone(self.zone).date()


def run_digests(
    db: Database,
    settings: Settings,
    offices: list[OfficeConfig],
    *,
    office_id: str | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    out_dir: Path | None = None,
    now: datetime | None = None,
) -> list[OfficeReport]:
    """Build (and unless dry_run, send) each office's digest; one report per office."""
    chosen = offices if office_id is None else [o for o in offices if o.id == office_id]
    if office_id is not None and not chosen:
        raise DigestError(f"no office with id {office_id!r} in offices.yaml")
    run = _Run(
        db=db,
        settings=settings,
        catalog=load_catalog(),
        now=_aware(now or datetime.now(UTC)),
        since=_aware(since) if since else None,
        out_dir=out_dir,
        pool=StoryPool(db),
        site_names=site_names(),
    )
    notices = [] if dry_run else ledger.reconcile(db, run.now, run.policy)
    for notice in notices:
        log.warning("office %s, digest %s: %s", notice.office, notice.message_id, notice.detail)
    reports = []
    for office in chosen:
        try:
            report = _dry_run(run, office) if dry_run else _send_digest(run, office)
        except Exception as exc:  # one office's trouble never stops the others
            log.exception("digest for office %s failed", office.id)
            report = OfficeReport(office.id, "failed", error=f"{type(exc).__name__}: {exc}")
        earlier = [n.detail for n in notices if n.office == office.id]
        if earlier:
            report.error = "; ".join(filter(None, [report.error, *earlier]))
        reports.append(report)
    return reports


def site_names() -> dict[str, str]:
    """Site id -> the outlet's name in sites.yaml; a broken sites.yaml never stops a digest
    (the crawl reports it), the ids are shown instead."""
    try:
        return {site.id: site.name for site in load_sites()}
    except ConfigError as exc:
        log.warning("outlet names from sites.yaml unavailable: %s", exc)
        return {}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _select(run: _Run, office: OfficeConfig) -> Selection:
    return select_for_office(
        run.db,
        office,
        threshold=min_score(office, run.settings.digest.min_score),
        max_stories=run.settings.digest.max_stories,
        since=run.since,
        pool=run.pool,
    )


def _render(run: _Run, office: OfficeConfig, selection: Selection) -> Rendered:
    return render_digest(
        office,
        with_site_names(selection, run.site_names),
        catalog=run.catalog,
        day=run.local_date,
        generated_at=run.now,
        timezone=run.settings.digest.timezone,
        review_url=run.settings.digest.review_url,
    )


def _new_message_id(run: _Run, office: OfficeConfig) -> str:
    domain = parseaddr(run.settings.smtp.sender)[1].rpartition("@")[2] or "pantau.invalid"
    return make_msgid(domain=domain)


def _message(run: _Run, office: OfficeConfig, rendered: Rendered, message_id: str) -> EmailMessage:
    return build_message(
        rendered,
        office=office,
        sender=run.settings.smtp.sender,
        message_id=message_id,
        now=run.now,
    )


def _write_files(
    directory: Path, stem: str, message: EmailMessage, rendered: Rendered
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    eml = directory / f"{stem}.eml"
    html = directory / f"{stem}.html"
    eml.write_bytes(message.as_bytes())
    html.write_text(rendered.html, encoding="utf-8")
    return [eml, html]


def _unsendable(office: OfficeConfig) -> OfficeReport | None:
    """An office without recipients is skipped (malformed addresses fail at load)."""
    if not recipients(office):
        log.warning("office %s (%s) has no recipients: skipped", office.id, office.name)
        return OfficeReport(office.id, "skipped", error="no recipients (to/cc) in offices.yaml")
    return None


def _dry_run(run: _Run, office: OfficeConfig) -> OfficeReport:
    if unsendable := _unsendable(office):
        return unsendable
    selection = _select(run, office)
    if selection.is_empty and not office.send_empty:
        return OfficeReport(office.id, "nothing-new", recipients=recipients(office))
    rendered = _render(run, office, selection)
    message = _message(run, office, rendered, _new_message_id(run, office))
    directory = run.out_dir or resolve_path(run.settings.outbox_dir) / "dry-run"
    stem = f"{office.id}-{run.local_date.isoformat()}-dry-run"
    return OfficeReport(
        office.id,
        "dry-run",
        stories=len(selection.stories),
        updates=len(selection.updates) + len(selection.progress),
        held_back=selection.held_back,
        recipients=recipients(office),
        message_id=str(message["Message-ID"]),
        files=_write_files(directory, stem, message, rendered),
    )


def _send_digest(run: _Run, office: OfficeConfig) -> OfficeReport:
    if unsendable := _unsendable(office):
        return unsendable
    to = recipients(office)
    if wait := ledger.retry_at(run.db, office.id, run.now):
        attempts = ledger.attempts_so_far(run.db, office.id)
        return OfficeReport(
            office.id,
            "skipped",
            recipients=to,
            error=f"{attempts} failed attempt(s); next retry after {run.local(wait)}",
            retry_at=wait,
        )
    message_id = _new_message_id(run, office)
    local_date = run.local_date.isoformat()
    with ledger.immediate(run.db):
        selection = _select(run, office)
        if run.since is None:  # with --since, older pending stories are only out of view
            ledger.withdraw_failures(run.db, office.id, selection.qualifying, run.now)
        if selection.is_empty and (
            not office.send_empty or ledger.digest_exists_on(run.db, office.id, local_date)
        ):
            return OfficeReport(office.id, "nothing-new", recipients=to)
        rendered = _render(run, office, selection)
        message = _message(run, office, rendered, message_id)
        digest_id = ledger.claim(
            run.db, office.id, selection, message_id=message_id, local_date=local_date, now=run.now
        )
    report = OfficeReport(
        office.id,
        "failed",
        stories=len(selection.stories),
        updates=len(selection.updates) + len(selection.progress),
        held_back=selection.held_back,
        recipients=to,
        message_id=message_id,
    )
    stem = f"{office.id}-{local_date}-{digest_id}"
    try:
        outbox = _write_files(
            resolve_path(run.settings.outbox_dir) / office.id, stem, message, rendered
        )
        ledger.record_outbox_file(run.db, digest_id, str(outbox[0]))
        if run.out_dir is not None:
            report.files = _write_files(run.out_dir, stem, message, rendered)
        else:
            report.files = outbox
    except OSError as exc:
        report.retry_at = ledger.mark_failed(
            run.db, digest_id, f"outbox: {exc}", run.now, run.policy
        )
        report.error = f"cannot write the outbox copy: {exc}"
        return report
    return _deliver(run, digest_id, message, report)


def _deliver(
    run: _Run, digest_id: int, message: EmailMessage, report: OfficeReport
) -> OfficeReport:
    def before_data() -> None:
        if not ledger.mark_transmitting(run.db, digest_id):
            raise Superseded(f"digest {digest_id} was reconciled by another run")

    try:
        result = send_message(
            message, run.settings.smtp, report.recipients, before_data=before_data
        )
    except MailError as exc:
        report.retry_at = ledger.mark_failed(run.db, digest_id, str(exc), run.now, run.policy)
        report.error = f"{exc}; stories stay pending, retry after {run.local(report.retry_at)}"
        log.warning("office %s: digest not sent: %s", report.office, exc)
        return report
    except DeliveryUncertain as exc:
        detail = f"{exc}; it may have been delivered, so its stories are not resent"
        ledger.mark_unknown(run.db, digest_id, detail)
        report.error = detail
        log.error("office %s: %s", report.office, detail)
        return report
    except Superseded as exc:
        report.error = str(exc)
        return report
    note = None
    if result.refused:
        note = "refused: " + "; ".join(f"{r} ({why})" for r, why in result.refused.items())
        log.warning("office %s: some recipients refused: %s", report.office, note)
    ledger.mark_sent(run.db, digest_id, result.as_record(), run.now, note, run.policy)
    report.status = "sent"
    report.recipients = result.accepted
    report.refused = result.refused
    report.error = note
    return report
