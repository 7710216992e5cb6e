"""The scheduler's rules that need no running service: slots, restarts, the lock, stale runs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts.ledger import offices_due_for_retry
from pantau.core import store
from pantau.core.settings import ConfigError
from pantau.service.config import crawl_trigger, load_service_config
from pantau.service.crawls import close_interrupted_crawl_runs
from pantau.service.digests import NO_HISTORY, DigestRunner
from pantau.service.lock import AlreadyRunningError, InstanceLock, running_scheduler
from pantau.service.logs import JsonLogFormatter
from pantau.service.state import DIGEST_JOB_ID, ScheduleState
from pantau.service.timing import (
    first_crawl_time,
    keep_phase,
    latest_daily_slot,
    missed_digest_slot,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
SEVEN = time(7, 0)
GRACE = timedelta(hours=3)


def jakarta(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA)


# --- digest slots ---------------------------------------------------------------------


def test_latest_slot_before_seven_is_yesterdays_morning() -> None:
    assert latest_daily_slot(jakarta(6, 59), SEVEN, JAKARTA) == jakarta(7, 0, day=22)


def test_latest_slot_is_computed_in_jakarta_time_not_utc() -> None:
    now_utc = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta
    assert latest_daily_slot(now_utc, SEVEN, JAKARTA) == jakarta(7, 0)


def test_digest_missed_while_down_runs_when_back_within_grace() -> None:
    missed = missed_digest_slot(
        jakarta(8, 30), SEVEN, JAKARTA, GRACE, since=jakarta(6, 0, day=20), last_slot=None
    )
    assert missed == jakarta(7, 0)


def test_digest_already_sent_this_morning_is_not_repeated_after_restart() -> None:
    missed = missed_digest_slot(
        jakarta(8, 30), SEVEN, JAKARTA, GRACE, since=jakarta(6, 0, day=20), last_slot=jakarta(7)
    )
    assert missed is None


def test_digest_missed_beyond_grace_waits_for_tomorrow() -> None:
    missed = missed_digest_slot(
        jakarta(10, 1), SEVEN, JAKARTA, GRACE, since=jakarta(6, 0, day=20), last_slot=None
    )
    assert missed is None


def test_fresh_install_after_seven_has_missed_nothing() -> None:
    missed = missed_digest_slot(
        jakarta(8, 30), SEVEN, JAKARTA, GRACE, since=jakarta(8, 29), last_slot=None
    )
    assert missed is None


def test_yesterdays_digest_done_but_todays_missed_runs_once() -> None:
    missed = missed_digest_slot(
        jakarta(7, 5),
        SEVEN,
        JAKARTA,
        GRACE,
        since=jakarta(6, 0, day=1),
        last_slot=jakarta(7, 0, 22),
    )
    assert missed == jakarta(7, 0)


# --- crawl timing after a restart -----------------------------------------------------


def test_site_never_crawled_starts_within_the_jitter_window() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = first_crawl_time(IntervalTrigger(minutes=60), None, now, jitter_seconds=120)
    assert now <= first <= now + timedelta(seconds=120)


def test_busy_site_first_crawl_comes_within_its_own_interval_not_the_whole_jitter_window() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    quarter_hourly = IntervalTrigger(minutes=15)
    firsts = [first_crawl_time(quarter_hourly, None, now, jitter_seconds=3600) for _ in range(50)]
    assert max(firsts) <= now + timedelta(minutes=15)


def test_site_crawled_recently_keeps_its_interval_across_a_restart() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    last = now - timedelta(minutes=20)
    first = first_crawl_time(IntervalTrigger(minutes=60), last, now, jitter_seconds=120)
    assert first == last + timedelta(minutes=60)


def test_overdue_site_runs_soon_after_a_restart() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    last = now - timedelta(hours=5)
    first = first_crawl_time(IntervalTrigger(minutes=60), last, now, jitter_seconds=0)
    assert first == now


def test_cron_site_that_missed_its_time_while_down_runs_soon() -> None:
    trigger = CronTrigger.from_crontab("0 6 * * *", timezone=JAKARTA)
    now = jakarta(9).astimezone(UTC)
    last = jakarta(6, 0, day=22).astimezone(UTC)
    assert first_crawl_time(trigger, last, now, jitter_seconds=0) == now


def test_cron_site_crawled_at_its_time_waits_for_the_next_one() -> None:
    trigger = CronTrigger.from_crontab("0 6 * * *", timezone=JAKARTA)
    now = jakarta(9)
    last = jakarta(6, 0)
    assert first_crawl_time(trigger, last, now, jitter_seconds=0) == jakarta(6, 0, day=24)


# --- config ---------------------------------------------------------------------------


def test_an_interval_site_keeps_the_phase_of_its_first_crawl() -> None:
    first = jakarta(7, 13)
    trigger = keep_phase(IntervalTrigger(hours=1, jitter=120), first)
    after_first = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert after_first == jakarta(8, 13)  # every hour from the first crawl, no jitter drift
    cron = CronTrigger(hour=7, timezone=JAKARTA)
    assert keep_phase(cron, first) is cron


def write_config(directory: Path, sites: str, settings: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sites.yaml").write_text(sites, encoding="utf-8")
    (directory / "offices.yaml").write_text("offices: []\n", encoding="utf-8")
    (directory / "settings.yaml").write_text(settings, encoding="utf-8")
    return directory


def test_bad_cron_expression_names_the_site(tmp_path: Path) -> None:
    directory = write_config(
        tmp_path,
        "sites:\n  - {id: lampost, name: L, url: 'http://127.0.0.1/', cron: '61 * * * *'}\n",
    )
    with pytest.raises(ConfigError, match=r"sites.yaml: site 'lampost': cron '61 \* \* \* \*'"):
        load_service_config(directory)


def test_unknown_time_zone_is_a_config_error(tmp_path: Path) -> None:
    directory = write_config(tmp_path, "sites: []\n", "digest:\n  timezone: Asia/Jakrta\n")
    with pytest.raises(ConfigError, match="digest.timezone: unknown time zone 'Asia/Jakrta'"):
        load_service_config(directory)


def test_site_interval_in_seconds_beats_minutes_and_default(tmp_path: Path) -> None:
    directory = write_config(
        tmp_path,
        "sites:\n  - {id: a, name: A, url: 'http://127.0.0.1/', interval_seconds: 2,"
        " interval_minutes: 30}\n  - {id: b, name: B, url: 'http://127.0.0.1/'}\n",
        "crawl:\n  default_interval_minutes: 45\n  jitter_seconds: 0\n",
    )
    config = load_service_config(directory)
    a, b = (crawl_trigger(site, config) for site in config.sites)
    assert isinstance(a, IntervalTrigger) and a.interval == timedelta(seconds=2)
    assert isinstance(b, IntervalTrigger) and b.interval == timedelta(minutes=45)


# --- single instance ------------------------------------------------------------------


def test_second_lock_on_the_same_database_names_the_holder(db_path: Path) -> None:
    with (
        InstanceLock(db_path),
        pytest.raises(AlreadyRunningError, match=f"pid {os.getpid()} on "),
    ):
        InstanceLock(db_path).acquire(attempts=1)


def test_a_refused_lock_names_the_holders_start_in_the_operators_zone(db_path: Path) -> None:
    with (
        InstanceLock(db_path),
        pytest.raises(AlreadyRunningError, match=r", since \d{4}-\d\d-\d\d \d\d:\d\d WIB\)"),
    ):
        InstanceLock(db_path, JAKARTA).acquire(attempts=1)


def test_lock_is_free_again_after_release(db_path: Path) -> None:
    with InstanceLock(db_path):
        assert running_scheduler(db_path) is not None
    assert running_scheduler(db_path) is None
    with InstanceLock(db_path):
        pass


def test_lock_of_a_killed_process_does_not_block_a_new_start(db_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pantau.service.lock import "
            "InstanceLock; lock = InstanceLock(Path(sys.argv[1])); lock.acquire(); print('locked', "
            "flush=True); time.sleep(60)",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        found = running_scheduler(db_path)
        assert found is not None and found.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()
    with InstanceLock(db_path):
        pass


# --- crawl runs left open -------------------------------------------------------------


def test_crawl_run_of_a_dead_process_is_closed_as_interrupted(db) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    db.table("crawl_runs").insert(
        {"site": "a", "started_at": store.utcnow(), "status": "running", "pid": dead.pid}
    )
    db.table("crawl_runs").insert(
        {"site": "b", "started_at": store.utcnow(), "status": "running", "pid": os.getpid()}
    )
    assert close_interrupted_crawl_runs(db) == 1
    statuses = dict(db.execute("select site, status from crawl_runs").fetchall())
    assert statuses == {"a": "interrupted", "b": "running"}


# --- digest runner --------------------------------------------------------------------


def test_digest_slot_already_completed_is_skipped(tmp_path: Path, db_path: Path) -> None:
    store.open_db(db_path).close()
    config = load_service_config(write_config(tmp_path / "cfg", "sites: []\n"))
    state = ScheduleState(db_path)
    state.ensure(DIGEST_JOB_ID, "digest", "all offices")
    state.finished(DIGEST_JOB_ID, "1 sent", jakarta(7))
    runner = DigestRunner(db_path, state, config)
    assert runner.run(jakarta(7)) == "skipped"
    assert state.get(DIGEST_JOB_ID)["run_count"] == 1  # type: ignore[index]


def test_service_sends_no_digest_from_a_database_that_never_crawled_or_ingested(
    tmp_path: Path, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.open_db(db_path).close()
    config = load_service_config(write_config(tmp_path / "cfg", "sites: []\n"))
    state = ScheduleState(db_path)
    state.ensure(DIGEST_JOB_ID, "digest", "all offices")
    with caplog.at_level(logging.WARNING, logger="pantau.scheduler"):
        assert DigestRunner(db_path, state, config).run(jakarta(7)) == NO_HISTORY
    assert "never crawled or ingested" in caplog.text and str(db_path) in caplog.text
    assert state.get(DIGEST_JOB_ID)["last_slot"] is None  # type: ignore[index]


def test_service_digest_runs_once_the_database_has_crawled(tmp_path: Path, db_path: Path) -> None:
    db = store.open_db(db_path)
    db.table("crawl_runs").insert({"site": "a", "started_at": store.utcnow(), "status": "ok"})
    db.close()
    config = load_service_config(write_config(tmp_path / "cfg", "sites: []\n"))
    state = ScheduleState(db_path)
    state.ensure(DIGEST_JOB_ID, "digest", "all offices")
    assert DigestRunner(db_path, state, config).run(jakarta(7)) == "no offices"


def test_only_offices_whose_backoff_has_passed_are_retried(db) -> None:
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    rows = [
        ("a", "failed", now - timedelta(minutes=1)),
        ("b", "failed", now + timedelta(minutes=5)),
        ("c", "sent", None),
    ]
    for cluster_id, (office, status, due) in enumerate(rows, start=1):
        db.table("clusters").insert({"id": cluster_id, "title": "t"})
        db.table("deliveries").insert(
            {
                "office": office,
                "cluster_id": cluster_id,
                "status": status,
                "next_attempt_at": due.isoformat() if due else None,
            }
        )
    assert offices_due_for_retry(db, now) == {"a"}


def test_json_log_lines_parse_and_carry_the_exception() -> None:
    try:
        raise RuntimeError("smtp down")
    except RuntimeError:
        record = logging.getLogger("pantau.scheduler").makeRecord(
            "pantau.scheduler",
            logging.ERROR,
            __file__,
            1,
            "digest %s failed",
            ("x",),
            sys.exc_info(),
        )
    entry = json.loads(JsonLogFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["message"] == "digest x failed"
    assert "RuntimeError: smtp down" in entry["exception"]
