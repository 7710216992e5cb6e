"""Indonesian day and month names, for what Bawaslu staff read (digests, demo pages).

Kept apart from `config/extraction.yaml`, which lists the spellings the date *parser*
accepts (abbreviations, typos); these are the one spelling Pantau writes.
"""

from __future__ import annotations

from datetime import date

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def long_date(day: date) -> str:
    """'Rabu, 24 April 2024'."""
    return f"{DAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"
