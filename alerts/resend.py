"""Recipients a sent digest could not reach get the same message later, on their own.

A digest that some recipients refused is still 'sent' (the others have it); the ledger keeps
the refused addresses with a growing delay. Here the saved .eml (same Message-ID) goes to
just those addresses; whoever got it the first time never gets it twice.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sqlite_utils import Database

from alerts import ledger
from alerts.mailer import DeliveryUncertain, MailError, send_message
from pantau.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ResendReport:
    office: str
    message_id: str
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    retry_at: datetime | None = None


def saved_message(path: str | None) -> EmailMessage | None:
    if not path or not Path(path).is_file():
        return None
    parsed = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    return parsed if isinstance(parsed, EmailMessage) else None


def resend_refused(
    db: Database, settings: Settings, now: datetime | None = None
) -> list[ResendReport]:
    """Try every due refused recipient again; one report per digest."""
    now = now or datetime.now(UTC)
    reports = []
    for resend in ledger.claim_refused(db, now):
        report = ResendReport(resend.office, resend.message_id)
        message = saved_message(resend.eml_path)
        if message is None:
            results = dict.fromkeys(resend.addresses, "not resent: the outbox copy is gone")
        else:
            results = _send(message, settings, resend.addresses)
        report.accepted = [a for a, result in results.items() if result == ledger.ACCEPTED]
        report.refused = {a: r for a, r in results.items() if r != ledger.ACCEPTED}
        report.retry_at = ledger.settle_refused(
            db, resend, results, now, ledger.RetryPolicy.of(settings.digest), final=message is None
        )
        log.info(
            "digest %s to refused recipients of %s: %d accepted, %d refused",
            resend.message_id,
            resend.office,
            len(report.accepted),
            len(report.refused),
        )
        reports.append(report)
    return reports


def _send(message: EmailMessage, settings: Settings, addresses: list[str]) -> dict[str, str]:
    try:
        result = send_message(message, settings.smtp, addresses)
    except MailError as exc:
        return {address: str(exc) for address in addresses}
    except DeliveryUncertain as exc:
        # It may have arrived: never risk a second copy, stop retrying these addresses.
        return dict.fromkeys(addresses, f"{ledger.UNKNOWN}: {exc}")
    return {**dict.fromkeys(result.accepted, ledger.ACCEPTED), **result.refused}
