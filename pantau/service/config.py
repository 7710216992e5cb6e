"""What the service reads from config/, validated together, and the triggers it builds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pantau.core.settings import (
    ConfigError,
    OfficeConfig,
    Settings,
    SiteConfig,
    config_dir,
    load_offices,
    load_settings,
    load_sites,
)


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service reads from config/, validated together so a bad reload is
    refused as a whole and the running schedule stays."""

    directory: Path
    settings: Settings
    sites: list[SiteConfig]
    offices: list[OfficeConfig]
    timezone: ZoneInfo

    @property
    def enabled_sites(self) -> list[SiteConfig]:
        return [site for site in self.sites if site.enabled]


def load_service_config(directory: Path | None = None) -> ServiceConfig:
    chosen = config_dir(directory)
    settings = load_settings(chosen)
    try:
        timezone = ZoneInfo(settings.digest.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{chosen / 'settings.yaml'}: digest.timezone: unknown time zone "
            f"{settings.digest.timezone!r}"
        ) from None
    sites = load_sites(chosen)
    config = ServiceConfig(chosen, settings, sites, load_offices(chosen), timezone)
    for site in config.enabled_sites:
        crawl_trigger(site, config)  # a bad cron expression fails the load, naming the site
    return config


def crawl_trigger(site: SiteConfig, config: ServiceConfig) -> BaseTrigger:
    """cron beats interval_seconds beats interval_minutes beats the default interval."""
    jitter = config.settings.crawl.jitter_seconds or None
    if site.cron:
        try:
            trigger = CronTrigger.from_crontab(site.cron, timezone=config.timezone)
            trigger.jitter = jitter  # from_crontab takes no jitter argument
            return trigger
        except ValueError as exc:
            raise ConfigError(
                f"{config.directory / 'sites.yaml'}: site {site.id!r}: cron {site.cron!r}: {exc}"
            ) from None
    if site.interval_seconds:
        return IntervalTrigger(seconds=site.interval_seconds, jitter=jitter)
    minutes = site.interval_minutes or config.settings.crawl.default_interval_minutes
    return IntervalTrigger(minutes=minutes, jitter=jitter)


def digest_trigger(config: ServiceConfig) -> CronTrigger:
    at = config.settings.digest.time
    return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=config.timezone)
