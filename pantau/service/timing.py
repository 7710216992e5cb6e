"""When jobs run after a (re)start: pure functions of the clock and the last runs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger


def latest_daily_slot(now: datetime, at: dt_time, timezone: ZoneInfo) -> datetime:
    """The most recent moment at or before `now` when the daily job was due."""
    local_now = now.astimezone(timezone)
    slot = datetime.combine(local_now.date(), at, tzinfo=timezone)
    if slot > local_now:
        slot = datetime.combine(local_now.date() - timedelta(days=1), at, tzinfo=timezone)
    return slot


def missed_digest_slot(
    now: datetime,
    at: dt_time,
    timezone: ZoneInfo,
    grace: timedelta,
    since: datetime | None,
    last_slot: datetime | None,
) -> datetime | None:
    """The digest slot to run now because the service was down at its time, if any.

    Missed means: due after the digest was first scheduled (`since`; a fresh install has
    missed nothing), not completed yet, and no more than `grace` ago.
    """
    slot = latest_daily_slot(now, at, timezone)
    if since is None or slot <= since:
        return None
    if last_slot is not None and last_slot >= slot:
        return None
    if now - slot > grace:
        return None
    return slot


def first_crawl_time(
    trigger: BaseTrigger, last_started: datetime | None, now: datetime, jitter_seconds: int
) -> datetime:
    """When a site's crawl should first run after a (re)start.

    A site keeps its rhythm across restarts: if its next run after the last crawl is still
    ahead, wait for it; if it is overdue (or never crawled, or cut off mid-crawl) run soon,
    spread over the jitter window so sites do not all start at once. The window is never
    longer than the site's own interval: a busy portal crawled every 15 minutes whose
    first crawl waited a whole hour-long window would lose what its 20-item feed dropped.
    """
    soon = now + timedelta(seconds=random.uniform(0, spread_window(trigger, jitter_seconds)))
    if last_started is None:
        return soon
    due = trigger.get_next_fire_time(last_started, last_started)
    if due is None or due <= now:
        return soon
    return due


def spread_window(trigger: BaseTrigger, jitter_seconds: int) -> float:
    """The jitter window of a first crawl, at most one interval of an interval site."""
    if isinstance(trigger, IntervalTrigger):
        return min(float(jitter_seconds), trigger.interval_length)
    return float(jitter_seconds)


def keep_phase(trigger: BaseTrigger, first_run: datetime) -> BaseTrigger:
    """An interval site's later crawls follow its first one, every interval exactly.

    APScheduler counts an interval from when the job was added, so every site started with
    the service would fall due at the same moments, spread again only by the jitter, which
    also makes the gap between two crawls of one site vary by up to twice the jitter. Counted
    from each site's own (jittered) first run, sites stay spread and each keeps its interval.
    A cron site keeps its clock times and its jitter.
    """
    if not isinstance(trigger, IntervalTrigger):
        return trigger
    return IntervalTrigger(
        seconds=trigger.interval_length, start_date=first_run, timezone=trigger.timezone
    )
