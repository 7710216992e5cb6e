"""The digest job: each day's digest once, and retries of offices whose send failed."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pantau.core import store
from pantau.core.store.articles import has_crawl_or_ingest_history
from pantau.service.config import ServiceConfig
from pantau.service.state import DIGEST_JOB_ID, ScheduleState, parse_time
from pantau.service.timing import latest_daily_slot

log = logging.getLogger("pantau.scheduler")

NO_HISTORY = "skipped: no crawl or ingest history"


@dataclass
class DigestRunner:
    """Runs each day's digest once: a slot already completed is never run again."""

    db_path: Path
    state: ScheduleState
    config: ServiceConfig
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, slot: datetime | None = None) -> str:
        config = self.config
        with self._lock:
            if slot is None:
                slot = latest_daily_slot(
                    datetime.now(UTC), config.settings.digest.time, config.timezone
                )
            row = self.state.get(DIGEST_JOB_ID) or {}
            done = parse_time(row.get("last_slot"))
            if done is not None and done >= slot:
                log.info("digest for %s already ran; skipped", slot.isoformat())
                return "skipped"
            if not self._has_history():
                # A new or mistyped database would propose every story again: offices
                # would get again what they already received. The slot stays open, so
                # the digest goes out once this database has crawled or ingested.
                log.warning(
                    "digest for %s not sent: %s has never crawled or ingested anything "
                    "(a new or wrong database?)",
                    slot.isoformat(),
                    self.db_path,
                )
                return NO_HISTORY
            self.state.started(DIGEST_JOB_ID)
            log.info("digest for %s started", slot.isoformat())
            try:
                result = self._send(config)
            except Exception as exc:  # one bad run never stops the service
                log.exception("digest for %s failed", slot.isoformat())
                result = f"error: {exc}"
            self.state.finished(DIGEST_JOB_ID, result, slot)
            log.info("digest for %s finished: %s", slot.isoformat(), result)
            return result

    def _has_history(self) -> bool:
        db = store.open_db(self.db_path, migrate=False)
        try:
            return has_crawl_or_ingest_history(db)
        finally:
            db.close()

    def retry_failed(self) -> None:
        """Offices whose morning send failed are tried again once alerts' backoff allows.

        alerts keeps the failed stories pending with a `next_attempt_at`; without this job
        they would wait for tomorrow's digest. Recipients that refused a digest the others
        received get it on their own, on the same backoff.
        """
        from alerts.digest import run_digests
        from alerts.ledger import offices_due_for_retry
        from alerts.resend import resend_refused
        from pantau.case_threads import refresh_cases

        config = self.config
        with self._lock:
            db = store.open_db(self.db_path, migrate=False)
            try:
                due = offices_due_for_retry(db, datetime.now(UTC))
                if due:
                    refresh_cases(db)
                for office in [o for o in config.offices if o.id in due]:
                    log.info("retrying the digest for office %s", office.id)
                    for report in run_digests(
                        db, config.settings, config.offices, office_id=office.id
                    ):
                        log.info(
                            "digest retry for %s: %s%s",
                            report.office,
                            report.status,
                            f" ({report.error})" if report.error else "",
                        )
                resend_refused(db, config.settings)
            except Exception:  # the next check tries again
                log.exception("digest retry failed")
            finally:
                db.close()

    def _send(self, config: ServiceConfig) -> str:
        from alerts.digest import run_digests
        from pantau.case_threads import refresh_cases

        db = store.open_db(self.db_path, migrate=False)
        try:
            refresh_cases(db)  # a later report of a known case is its progress, not news
            reports = run_digests(db, config.settings, config.offices)
        finally:
            db.close()
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.status] = counts.get(report.status, 0) + 1
            if report.error:
                log.warning("digest for office %s: %s", report.office, report.error)
        return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no offices"
