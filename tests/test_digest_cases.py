"""The digest uses cases: a later report of a case an office heard of is its progress."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from smtp_server import SmtpServer
from test_alerts_support import fixture_offices, make_settings, office
from test_cases_cli import add_thread_story

from alerts.digest import run_digests
from pantau.case_threads import refresh_cases

NOW = datetime(2024, 12, 1, 1, 0, tzinfo=UTC)
PROVINCE = "prov-17"  # Bawaslu Provinsi Bengkulu: Seluma (17.05) is in its area


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def digest(db, server, tmp_path) -> str:
    """Refresh the cases as the application does, send the office's digest, return its text."""
    refresh_cases(db)
    before = len(server.messages)
    offices = [office(fixture_offices(), PROVINCE)]
    settings = make_settings(tmp_path, port=server.port)
    (report,) = run_digests(db, settings, offices, now=NOW)
    assert report.error is None, report.error
    received = server.messages[before:]
    return received[-1].part("plain") if received else ""


def new_section(text: str) -> str:
    return text.split("PERKEMBANGAN KASUS")[0].split("PEMBARUAN")[0]


def test_a_later_report_of_a_sent_case_comes_as_its_progress(db, server, tmp_path) -> None:
    add_thread_story(db, "camat-report")
    first = digest(db, server, tmp_path)
    assert "https://camat-report.example/0" in new_section(first)
    add_thread_story(db, "camat-summoned")
    second = digest(db, server, tmp_path)
    assert "PERKEMBANGAN KASUS" in second
    progress = second.split("PERKEMBANGAN KASUS")[1]
    assert "https://camat-summoned.example/0" in progress
    assert "Klarifikasi / pemeriksaan" in progress
    assert "https://camat-summoned.example/0" not in new_section(second)
    assert "Tidak ada dugaan pelanggaran baru" in second


def test_a_case_progress_is_sent_once(db, server, tmp_path) -> None:
    add_thread_story(db, "camat-report")
    digest(db, server, tmp_path)
    add_thread_story(db, "camat-summoned")
    digest(db, server, tmp_path)
    third = digest(db, server, tmp_path)
    assert "camat-summoned" not in third


def test_two_new_reports_of_one_case_are_one_new_item_and_its_progress(
    db, server, tmp_path
) -> None:
    add_thread_story(db, "camat-report")
    add_thread_story(db, "camat-sanctioned")
    text = digest(db, server, tmp_path)
    assert "https://camat-report.example/0" in new_section(text)
    assert "https://camat-sanctioned.example/0" in text.split("PERKEMBANGAN KASUS")[1]
    assert "Sanksi" in text.split("PERKEMBANGAN KASUS")[1]


def test_another_case_of_the_same_office_stays_a_new_item(db, server, tmp_path) -> None:
    add_thread_story(db, "camat-report")
    digest(db, server, tmp_path)
    add_thread_story(db, "heru-other-act")
    text = digest(db, server, tmp_path)
    assert "https://heru-other-act.example/0" in new_section(text)
    assert "PERKEMBANGAN KASUS" not in text
