"""Calendar helpers: one reading of ISO text for every stage; dates as Bawaslu staff read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from pantau.core.calendar import long_date, parse_iso

WIB = timezone(timedelta(hours=7))


def test_iso_text_with_an_offset_keeps_it():
    assert parse_iso("2024-04-24T13:00:00+07:00") == datetime(2024, 4, 24, 13, tzinfo=WIB)
    assert parse_iso("2024-04-24T13:00:00+0700") == datetime(2024, 4, 24, 13, tzinfo=WIB)
    assert parse_iso("2024-04-24T06:00:00Z") == datetime(2024, 4, 24, 6, tzinfo=UTC)


def test_naive_iso_text_is_utc_unless_asked_to_stay_naive():
    assert parse_iso("2024-04-24T06:00:00") == datetime(2024, 4, 24, 6, tzinfo=UTC)
    assert parse_iso("2024-04-24T06:00:00", naive=None) == datetime(2024, 4, 24, 6)
    assert parse_iso("2024-04-24", naive=WIB) == datetime(2024, 4, 24, tzinfo=WIB)


def test_text_that_is_not_iso_gives_none():
    for value in (None, "", "  ", 20240424, "24/04/2024", "2024-02-30", "kemarin"):
        assert parse_iso(value) is None


def test_a_day_prefix_counts_only_when_asked():
    assert parse_iso("2024-04-24 13.00 WIB") is None
    assert parse_iso("2024-04-24 13.00 WIB", day_prefix=True) == datetime(2024, 4, 24, tzinfo=UTC)
    assert parse_iso("2024-13-24 13.00 WIB", day_prefix=True) is None


def test_long_date_is_written_in_indonesian():
    assert long_date(date(2024, 4, 24)) == "Rabu, 24 April 2024"
    assert long_date(date(2024, 6, 2)) == "Minggu, 2 Juni 2024"
