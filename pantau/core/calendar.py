"""Indonesian calendar knowledge: day and month names Pantau writes, and the time zones.

The names are kept apart from `config/extraction.yaml`, which lists the spellings the date
*parser* accepts (abbreviations, typos); these are the one spelling Pantau writes. The time
zones (config/timezones.yaml) serve both directions: reading "13:00 WITA" and writing a
digest's times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, get_day_names, get_month_names
from pydantic import Field, field_validator, model_validator

from pantau.core.knowledge import config_file
from pantau.core.settings import StrictModel, load_model

# Indonesian as CLDR writes it (Babel's locale data, shipped with the package): Senin..Minggu,
# Januari..Desember. Babel rather than hand-kept tables: one source for the names.
LOCALE = "id"
DAYS = tuple(get_day_names("wide", locale=LOCALE)[weekday] for weekday in range(7))  # Monday first
MONTHS = tuple(get_month_names("wide", locale=LOCALE)[month] for month in range(1, 13))


def long_date(day: date) -> str:
    """'Rabu, 24 April 2024'."""
    return format_date(day, "EEEE, d MMMM y", locale=LOCALE)


# --- ISO 8601 text -----------------------------------------------------------------------

_DAY_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")


def operator_time(moment: datetime | str | None, zone: str | tzinfo) -> str:
    """Every time an operator reads, in one zone (the digest's, WIB by default) and named:
    `2026-11-23 07:00 WIB`. Stored times (ISO text, UTC) and aware datetimes alike."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return str(moment)
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return local.strftime("%Y-%m-%d %H:%M %Z")


def parse_iso(
    value: object, *, naive: tzinfo | None = UTC, day_prefix: bool = False
) -> datetime | None:
    """ISO 8601 text ("2024-04-24", "2024-04-24T13:00:00+0700", "...Z") as a datetime.

    Anything else (not text, blank, not ISO) gives None. A value without an offset is taken
    in `naive` (the store writes UTC), or left naive with `naive=None`. With `day_prefix`,
    text that only starts with a date (a feed's "2024-04-24 13.00 WIB") gives that day's
    midnight.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if not (day_prefix and (found := _DAY_PREFIX.match(text))):
            return None
        try:
            moment = datetime.fromisoformat(found.group())
        except ValueError:
            return None
    if moment.tzinfo is None and naive is not None:
        return moment.replace(tzinfo=naive)
    return moment


# --- config/timezones.yaml --------------------------------------------------------------


class ZoneEntry(StrictModel):
    abbreviation: str = Field(pattern=r"^[A-Z]{2,6}$")
    utc_offset: int = Field(ge=-12, le=14)
    iana: list[str] = []

    @model_validator(mode="after")
    def _iana_zones_agree(self) -> ZoneEntry:
        for name in self.iana:
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{name!r} is not an IANA time zone") from None
            offset = zone.utcoffset(datetime(2024, 1, 1)) or timedelta(0)
            if offset != timedelta(hours=self.utc_offset):
                hours = offset.total_seconds() / 3600
                raise ValueError(f"{name} is UTC{hours:+g}, not UTC{self.utc_offset:+d}")
        return self


class ZonesFile(StrictModel):
    zones: list[ZoneEntry] = Field(min_length=1)
    default: str

    @field_validator("zones")
    @classmethod
    def _unique(cls, zones: list[ZoneEntry]) -> list[ZoneEntry]:
        seen = [zone.abbreviation for zone in zones]
        if twice := sorted({name for name in seen if seen.count(name) > 1}):
            raise ValueError(f"{', '.join(twice)} listed twice")
        return zones

    @model_validator(mode="after")
    def _default_is_listed(self) -> ZonesFile:
        if self.default not in {zone.abbreviation for zone in self.zones}:
            raise ValueError(f"default {self.default!r} is not one of the zones")
        return self


@dataclass(frozen=True)
class Zones:
    """Indonesian time-zone abbreviations both ways: "WITA" -> UTC+8, Asia/Makassar -> "WITA"."""

    offsets: dict[str, timezone]  # by abbreviation, upper case
    default: str
    abbreviations: dict[str, str]  # by IANA name

    def of(self, abbreviation: str | None) -> timezone:
        """The fixed offset of an abbreviation; none means the default zone."""
        return self.offsets[(abbreviation or self.default).upper()]

    def abbreviation(self, iana_name: str) -> str | None:
        return self.abbreviations.get(iana_name)


def load_zones(directory: Path | None = None) -> Zones:
    return _zones(config_file("timezones.yaml", directory))


@lru_cache(maxsize=4)
def _zones(path: Path) -> Zones:
    loaded = load_model(path, ZonesFile)
    return Zones(
        offsets={
            zone.abbreviation: timezone(timedelta(hours=zone.utc_offset)) for zone in loaded.zones
        },
        default=loaded.default,
        abbreviations={name: zone.abbreviation for zone in loaded.zones for name in zone.iana},
    )
