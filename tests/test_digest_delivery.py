"""Digests reach each office exactly once, through a real SMTP server on loopback."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from smtp_server import SmtpServer
from test_alerts_support import (
    add_article,
    fixture_offices,
    load_fixture_stories,
    make_settings,
    office,
    story,
)

from alerts import ledger
from alerts.digest import DigestError, run_digests
from alerts.offices import recipients
from alerts.resend import resend_refused
from alerts.selection import select_for_office
from pantau.core import store
from pantau.core.settings import Settings

NOW = datetime(2024, 10, 22, 1, 0, tzinfo=UTC)  # 08.00 WIB, the morning after the stories

EXPECTED = {
    "ri": {"sekda-kepahiang", "camat-bengkulu", "kades-klaten", "tanpa-wilayah"},
    "prov-17": {"sekda-kepahiang", "camat-bengkulu"},
    "kabkota-17.08": {"sekda-kepahiang"},
    "kabkota-33.10": {"kades-klaten"},
}
ADDRESS = {
    "ri": "pengawasan@ri.example.id",
    "prov-17": "ppp@bengkulu.example.id",
    "kabkota-17.08": "kepahiang@example.id",
    "kabkota-33.10": "klaten@example.id",
}


@pytest.fixture
def clusters(db) -> dict[str, int]:
    return load_fixture_stories(db)


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


def story_keys_in(text: str) -> set[str]:
    """Which fixture stories a received digest mentions (by the first outlet's URL)."""
    keys = {"sekda-kepahiang", "camat-bengkulu", "kades-klaten", "tanpa-wilayah"}
    keys |= {"sosialisasi-kepahiang", "skor-rendah-rejang", "ditolak-kepahiang"}
    return {key for key in keys if story(key)["articles"][0]["url"] in text}


def delivered(server: SmtpServer) -> dict[str, list[set[str]]]:
    """Per office: the stories of each message it received."""
    result: dict[str, list[set[str]]] = {}
    for received in server.messages:
        office_id = str(received.message["X-Pantau-Office"])
        result.setdefault(office_id, []).append(story_keys_in(received.part("plain")))
    return result


def test_each_office_receives_one_message_with_the_stories_of_its_area(
    db, clusters, server, tmp_path
):
    reports = run_digests(db, make_settings(tmp_path, server.port), fixture_offices(), now=NOW)
    by_office = {r.office: r for r in reports}
    assert delivered(server) == {office_id: [keys] for office_id, keys in EXPECTED.items()}
    for office_id, keys in EXPECTED.items():
        assert by_office[office_id].status == "sent"
        assert by_office[office_id].stories == len(keys)
        assert server.received_by(ADDRESS[office_id])


def test_the_ri_digest_goes_to_to_and_cc_and_lists_the_most_serious_story_first(
    db, clusters, server, tmp_path
):
    run_digests(db, make_settings(tmp_path, server.port), fixture_offices(), now=NOW)
    [received] = server.received_by("humas@ri.example.id")
    assert set(received.recipients) == {"pengawasan@ri.example.id", "humas@ri.example.id"}
    assert received.message["Cc"] == "humas@ri.example.id"
    text = received.part("plain")
    order = [
        text.index(story(k)["articles"][0]["url"]) for k in ("kades-klaten", "sekda-kepahiang")
    ]
    assert order == sorted(order)  # mobilisasi (usually berat) before kampanye (sedang)


def test_a_second_run_sends_nothing_already_sent(db, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    offices = [o for o in fixture_offices() if not o.send_empty]
    run_digests(db, settings, offices, now=NOW)
    count = len(server.messages)
    again = run_digests(db, settings, offices, now=NOW + timedelta(days=1))
    assert len(server.messages) == count
    assert {r.status for r in again if r.office in EXPECTED} == {"nothing-new"}


def test_a_new_story_arrives_in_the_next_digest_alone(db, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    run_digests(db, settings, fixture_offices(), office_id="kabkota-33.10", now=NOW)
    finding = dict(story("kades-klaten")["finding"], score=0.95)
    articles = [
        {
            "site": "solo-pos",
            "sitename": "Solo Pos",
            "url": "https://solopos.example.id/klaten/lurah-bagi-kalender",
            "title": "Lurah di Klaten Diduga Bagikan Kalender Bergambar Calon",
            "published": "2024-10-22T09:00:00+07:00",
        }
    ]
    from test_alerts_support import add_story

    add_story(db, finding, articles)
    run_digests(db, settings, fixture_offices(), office_id="kabkota-33.10", now=NOW)
    second = server.received_by("klaten@example.id")[-1].part("plain")
    assert "lurah-bagi-kalender" in second
    assert "kades-arahkan-warga" not in second


def test_an_office_without_recipients_is_skipped_with_a_warning(
    db, clusters, server, tmp_path, caplog
):
    caplog.set_level(logging.WARNING)
    [report] = run_digests(
        db,
        make_settings(tmp_path, server.port),
        fixture_offices(),
        office_id="kabkota-17.01",
        now=NOW,
    )
    assert report.status == "skipped"
    assert "no recipients" in (report.error or "")
    assert "kabkota-17.01" in caplog.text
    assert server.messages == []


def test_an_unknown_office_id_is_an_error_naming_it(db, tmp_path):
    with pytest.raises(DigestError, match="nope"):
        run_digests(db, make_settings(tmp_path), fixture_offices(), office_id="nope", now=NOW)


def test_stories_wait_while_the_server_is_down_and_arrive_once_when_it_is_back(
    db, clusters, tmp_path
):
    down = SmtpServer.reserve()
    settings = make_settings(tmp_path, down.port)
    offices = [office(fixture_offices(), "prov-17")]

    [first] = run_digests(db, settings, offices, now=NOW)
    assert first.status == "failed"
    assert first.retry_at is not None and first.retry_at > NOW
    assert "stay pending" in (first.error or "")

    [second] = run_digests(db, settings, offices, now=first.retry_at + timedelta(seconds=1))
    assert second.status == "failed"
    assert second.retry_at is not None
    assert second.retry_at - first.retry_at > first.retry_at - NOW  # backoff grows

    with down.start() as server:
        later = second.retry_at + timedelta(seconds=1)
        [third] = run_digests(db, settings, offices, now=later)
        [fourth] = run_digests(db, settings, offices, now=later + timedelta(hours=1))
    assert third.status == "sent"
    assert fourth.status == "nothing-new"
    assert delivered(server) == {"prov-17": [EXPECTED["prov-17"]]}
    attempts = {row["attempts"] for row in db.query("select attempts from deliveries")}
    assert attempts == {3}


def test_the_retry_backoff_is_the_operators_setting(db, clusters, tmp_path):
    down = SmtpServer.reserve()
    defaults = make_settings(tmp_path, down.port)
    settings = defaults.model_copy(
        update={
            "digest": defaults.digest.model_copy(
                update={"retry_backoff_minutes": 2, "retry_backoff_max_minutes": 3}
            )
        }
    )
    offices = [office(fixture_offices(), "prov-17")]
    [first] = run_digests(db, settings, offices, now=NOW)
    assert first.retry_at == NOW + timedelta(minutes=2)
    [second] = run_digests(db, settings, offices, now=first.retry_at)
    assert second.retry_at == first.retry_at + timedelta(minutes=3)  # 4, capped at 3


def test_a_failed_office_is_not_retried_before_its_backoff_expires(db, clusters, tmp_path):
    down = SmtpServer.reserve()
    settings = make_settings(tmp_path, down.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    [failed] = run_digests(db, settings, offices, now=NOW)
    with down.start() as server:
        [waiting] = run_digests(db, settings, offices, now=NOW + timedelta(minutes=1))
        assert waiting.status == "skipped"
        assert waiting.retry_at == failed.retry_at
        assert server.messages == []


def test_login_is_used_when_the_server_requires_it(db, clusters, tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "rahasia")
    with SmtpServer(users={"pantau": "rahasia"}) as server:
        settings = make_settings(tmp_path, server.port, username="pantau")
        [report] = run_digests(db, settings, fixture_offices(), office_id="kabkota-17.08", now=NOW)
    assert report.status == "sent"
    assert len(server.messages) == 1


def test_a_refused_login_leaves_the_stories_pending(db, clusters, tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "salah")
    offices = [office(fixture_offices(), "kabkota-17.08")]
    with SmtpServer(users={"pantau": "rahasia"}) as server:
        settings = make_settings(tmp_path, server.port, username="pantau")
        [refused] = run_digests(db, settings, offices, now=NOW)
        assert refused.status == "failed"
        assert "535" in (refused.error or "")
        monkeypatch.setenv("PANTAU_SMTP_PASSWORD", "rahasia")
        assert refused.retry_at is not None
        [retried] = run_digests(db, settings, offices, now=refused.retry_at)
    assert retried.status == "sent"
    assert delivered(server) == {"kabkota-17.08": [EXPECTED["kabkota-17.08"]]}


def test_a_missing_password_is_reported_without_contacting_recipients(
    db, clusters, tmp_path, monkeypatch
):
    monkeypatch.delenv("PANTAU_SMTP_PASSWORD", raising=False)
    with SmtpServer(users={"pantau": "rahasia"}) as server:
        settings = make_settings(tmp_path, server.port, username="pantau")
        [report] = run_digests(db, settings, fixture_offices(), office_id="prov-17", now=NOW)
    assert report.status == "failed"
    assert "PANTAU_SMTP_PASSWORD" in (report.error or "")
    assert server.messages == []


def test_a_refused_recipient_is_recorded_and_the_others_still_receive_it(db, clusters, tmp_path):
    with SmtpServer(refuse={"humas@ri.example.id"}) as server:
        settings = make_settings(tmp_path, server.port)
        [report] = run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
        [again] = run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
    assert report.status == "sent"
    assert report.recipients == ["pengawasan@ri.example.id"]
    assert set(report.refused) == {"humas@ri.example.id"}
    assert again.status == "nothing-new"
    [received] = server.messages
    assert received.recipients == ["pengawasan@ri.example.id"]
    row = next(db.query("select recipients, status from digests"))
    assert row["status"] == "sent"
    assert json.loads(row["recipients"]) == {
        "pengawasan@ri.example.id": "accepted",
        "humas@ri.example.id": "550 5.1.1 mailbox unavailable",
    }


def test_a_refused_recipient_gets_the_same_message_on_its_own_once_the_server_takes_it(
    db, clusters, tmp_path
):
    with SmtpServer(refuse={"humas@ri.example.id"}) as server:
        settings = make_settings(tmp_path, server.port)
        [report] = run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
        assert report.retry_at is None  # the digest itself was sent
        assert resend_refused(db, settings, now=NOW) == []  # its backoff has not passed
        later = NOW + timedelta(minutes=settings.digest.retry_backoff_minutes)
        [still] = resend_refused(db, settings, now=later)
        assert set(still.refused) == {"humas@ri.example.id"} and still.retry_at is not None
        server.refuse.clear()
        [resent] = resend_refused(db, settings, now=still.retry_at)
        assert resent.accepted == ["humas@ri.example.id"], resent
        assert resent.retry_at is None
        assert resend_refused(db, settings, now=still.retry_at + timedelta(days=1)) == []
    first, *_, last = server.messages
    assert last.recipients == ["humas@ri.example.id"]
    assert last.message["Message-ID"] == first.message["Message-ID"]
    assert len(server.received_by("pengawasan@ri.example.id")) == 1


def test_refused_recipients_are_tried_at_most_the_settings_number_of_times(db, clusters, tmp_path):
    with SmtpServer(refuse={"humas@ri.example.id"}) as server:
        defaults = make_settings(tmp_path, server.port)
        settings = defaults.model_copy(
            update={"digest": defaults.digest.model_copy(update={"refused_max_attempts": 2})}
        )
        run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
        moment, tries = NOW, 0
        while resend_refused(db, settings, now=moment + timedelta(days=1)):
            moment, tries = moment + timedelta(days=1), tries + 1
            assert tries <= 5, "refused recipients retried without end"
    assert tries == 2
    assert len(server.received_by("humas@ri.example.id")) == 0


def test_when_every_recipient_is_refused_the_stories_stay_pending(db, clusters, tmp_path):
    offices = [office(fixture_offices(), "kabkota-33.10")]
    with SmtpServer(refuse={"klaten@example.id"}) as server:
        settings = make_settings(tmp_path, server.port)
        [refused] = run_digests(db, settings, offices, now=NOW)
        server.refuse.clear()
        assert refused.retry_at is not None
        [retried] = run_digests(db, settings, offices, now=refused.retry_at)
    assert refused.status == "failed"
    assert "klaten@example.id" in (refused.error or "")
    assert retried.status == "sent"
    assert delivered(server) == {"kabkota-33.10": [EXPECTED["kabkota-33.10"]]}


def test_concurrent_runs_send_each_story_once(db_path, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    offices = [o for o in fixture_offices() if not o.send_empty]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        connection = store.open_db(db_path)
        try:
            start.wait()
            run_digests(connection, settings, offices, now=NOW)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = {k: [v] for k, v in EXPECTED.items() if k != "kabkota-17.08"}
    assert delivered(server) == expected


def test_a_story_that_gains_new_outlets_comes_back_once_as_an_update(
    db, clusters, server, tmp_path
):
    settings = make_settings(tmp_path, server.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    run_digests(db, settings, offices, now=NOW)
    copy = {
        "site": "radar-solo",
        "sitename": "Radar Solo",
        "url": "https://radarsolo.example.id/kades-karanganom-arahkan-warga",
        "title": "Kades Karanganom Diduga Arahkan Warga",
        "published": "2024-10-22T10:00:00+07:00",
    }
    add_article(db, clusters["kades-klaten"], copy, story("kades-klaten")["finding"])
    [update] = run_digests(db, settings, offices, now=NOW + timedelta(days=1))
    [quiet] = run_digests(db, settings, offices, now=NOW + timedelta(days=2))
    assert (update.status, update.stories, update.updates) == ("sent", 0, 1)
    assert quiet.status == "nothing-new"
    text = server.messages[-1].part("plain")
    assert "PEMBARUAN" in text
    assert "Radar Solo" in text
    assert "1 pembaruan" in str(server.messages[-1].message["Subject"])


def test_a_copy_from_an_outlet_already_listed_is_not_an_update(db, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    run_digests(db, settings, offices, now=NOW)
    same_outlet = {
        "site": "klaten-today",
        "sitename": "Klaten Today",
        "url": "https://klatentoday.example.id/berita/kades-arahkan-warga-lanjutan",
        "title": "Kades Karanganom Dipanggil Bawaslu",
        "published": "2024-10-22T10:00:00+07:00",
    }
    add_article(db, clusters["kades-klaten"], same_outlet, story("kades-klaten")["finding"])
    [report] = run_digests(db, settings, offices, now=NOW + timedelta(days=1))
    assert report.status == "nothing-new"


def test_a_run_that_died_after_handing_over_the_message_never_resends_it(
    db, clusters, server, tmp_path
):
    """Simulates a crash between DATA and recording 'sent': the digest stays 'transmitting'."""
    settings = make_settings(tmp_path, server.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    with ledger.immediate(db):
        selection = select_for_office(db, offices[0], threshold=0.5, max_stories=50)
        digest_id = ledger.claim(
            db, "kabkota-33.10", selection, message_id="<x@t>", local_date="2024-10-22", now=NOW
        )
    assert ledger.mark_transmitting(db, digest_id)

    later = NOW + timedelta(minutes=Settings().digest.stale_after_minutes) + timedelta(minutes=1)
    [report] = run_digests(db, settings, offices, now=later)
    assert server.messages == []
    assert report.status == "nothing-new"
    assert "may have been delivered" in (report.error or "")
    assert next(db.query("select status from digests"))["status"] == "unknown"


def test_a_run_that_died_before_sending_is_sent_by_the_next_run(db, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    with ledger.immediate(db):
        selection = select_for_office(db, offices[0], threshold=0.5, max_stories=50)
        ledger.claim(
            db, "kabkota-33.10", selection, message_id="<y@t>", local_date="2024-10-22", now=NOW
        )
    [early] = run_digests(db, settings, offices, now=NOW + timedelta(minutes=1))
    assert early.status == "nothing-new"  # another run may still be sending it
    later = NOW + timedelta(minutes=Settings().digest.stale_after_minutes) + timedelta(minutes=1)
    [report] = run_digests(db, settings, offices, now=later)
    assert report.status == "sent"
    assert delivered(server) == {"kabkota-33.10": [EXPECTED["kabkota-33.10"]]}


def test_a_connection_lost_during_the_body_is_not_retried(db, clusters, tmp_path):
    offices = [office(fixture_offices(), "kabkota-33.10")]
    with SmtpServer(drop_during_data=True) as server:
        settings = make_settings(tmp_path, server.port)
        [lost] = run_digests(db, settings, offices, now=NOW)
        server.drop_during_data = False
        [after] = run_digests(db, settings, offices, now=NOW + timedelta(days=1))
    assert lost.status == "failed"
    assert "may have been delivered" in (lost.error or "")
    assert after.status == "nothing-new"
    statuses = {row["status"] for row in db.query("select status from deliveries")}
    assert statuses == {"unknown"}


def test_an_office_that_wants_empty_days_gets_one_short_email_per_day(db, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    offices = [office(fixture_offices(), "kabkota-17.08")]
    [first] = run_digests(db, settings, offices, now=NOW)
    [same_day] = run_digests(db, settings, offices, now=NOW + timedelta(hours=2))
    [next_day] = run_digests(db, settings, offices, now=NOW + timedelta(days=1))
    assert (first.status, same_day.status, next_day.status) == ("sent", "nothing-new", "sent")
    assert "tidak ada temuan baru" in str(server.messages[0].message["Subject"])
    assert "Tidak ada dugaan pelanggaran baru" in server.messages[0].part("plain")


def test_dry_run_writes_eml_and_html_and_sends_or_claims_nothing(db, clusters, server, tmp_path):
    out = tmp_path / "preview"
    settings = make_settings(tmp_path, server.port)
    reports = run_digests(db, settings, fixture_offices(), dry_run=True, out_dir=out, now=NOW)
    assert server.messages == []
    assert db.table("deliveries").count == 0
    dry = [r for r in reports if r.status == "dry-run"]
    assert {r.office for r in dry} == set(EXPECTED)
    for report in dry:
        assert [p.suffix for p in report.files] == [".eml", ".html"]
        assert all(p.parent == out and p.stat().st_size > 0 for p in report.files)
    real = run_digests(db, settings, fixture_offices(), now=NOW)
    assert {r.office for r in real if r.status == "sent"} == set(EXPECTED)


def test_sent_messages_are_kept_in_the_outbox_and_copied_to_out(db, clusters, server, tmp_path):
    out = tmp_path / "copies"
    settings = make_settings(tmp_path, server.port)
    [report] = run_digests(
        db, settings, fixture_offices(), office_id="prov-17", out_dir=out, now=NOW
    )
    outbox = list((tmp_path / "outbox" / "prov-17").glob("*.eml"))
    assert len(outbox) == 1
    assert report.files[0].parent == out
    assert report.message_id is not None
    assert report.message_id.encode() in outbox[0].read_bytes()
    assert str(server.messages[0].message["Message-ID"]).strip() == report.message_id


def test_since_leaves_out_stories_first_reported_earlier(db, clusters, server, tmp_path):
    settings = make_settings(tmp_path, server.port)
    since = datetime(2024, 10, 21, 0, 0, tzinfo=UTC)
    [report] = run_digests(db, settings, fixture_offices(), office_id="ri", since=since, now=NOW)
    assert delivered(server) == {"ri": [{"sekda-kepahiang", "camat-bengkulu"}]}
    assert report.stories == 2


def test_stories_beyond_the_cap_wait_for_the_next_digest(db, clusters, server, tmp_path):
    base = make_settings(tmp_path, server.port)
    settings = base.model_copy(update={"digest": base.digest.model_copy(update={"max_stories": 3})})
    [first] = run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
    [second] = run_digests(db, settings, fixture_offices(), office_id="ri", now=NOW)
    assert (first.stories, first.held_back, second.stories) == (3, 1, 1)
    assert delivered(server)["ri"][1] == {"tanpa-wilayah"}  # the least serious waited


def test_an_office_minimum_score_overrides_the_default(db, clusters, server, tmp_path):
    strict = office(fixture_offices(), "ri").model_copy(update={"min_score": 0.8})
    run_digests(db, make_settings(tmp_path, server.port), [strict], now=NOW)
    assert delivered(server) == {"ri": [{"sekda-kepahiang", "kades-klaten"}]}


def test_the_newest_analysis_of_an_article_decides(db, clusters, server, tmp_path):
    article_id = next(
        db.query("select id from articles where cluster_id = ?", [clusters["camat-bengkulu"]])
    )["id"]
    store.save_finding(db, article_id, {"verdict": "other", "score": 0.1}, "test-2")
    run_digests(db, make_settings(tmp_path, server.port), fixture_offices(), now=NOW)
    assert delivered(server)["prov-17"] == [{"sekda-kepahiang"}]


def test_a_broken_office_does_not_stop_the_others(db, clusters, server, tmp_path):
    offices = fixture_offices()
    broken = office(offices, "prov-17")
    server.refuse.update(recipients(broken))  # every recipient refused: this office fails
    reports = run_digests(
        db,
        make_settings(tmp_path, server.port),
        [broken, office(offices, "kabkota-33.10")],
        now=NOW,
    )
    assert reports[0].status == "failed"
    assert reports[1].status == "sent"


def test_a_failed_story_dismissed_before_the_retry_is_withdrawn_not_retried(db, clusters, tmp_path):
    down = SmtpServer.reserve()
    settings = make_settings(tmp_path, down.port)
    offices = [office(fixture_offices(), "kabkota-33.10")]
    [failed] = run_digests(db, settings, offices, now=NOW)
    db.table("reviews").insert(
        {"cluster_id": clusters["kades-klaten"], "status": "dismissed", "created_at": "x"}
    )
    assert failed.retry_at is not None
    with down.start() as server:
        [after] = run_digests(db, settings, offices, now=failed.retry_at)
        assert ledger.retry_at(db, "kabkota-33.10", failed.retry_at) is None
        db.table("reviews").insert(
            {"cluster_id": clusters["kades-klaten"], "status": "confirmed", "created_at": "y"}
        )
        [confirmed] = run_digests(db, settings, offices, now=failed.retry_at)
    assert after.status == "nothing-new"
    statuses = [r["status"] for r in db.query("select status from deliveries")]
    assert statuses == ["sent"]
    assert confirmed.status == "sent"
    assert delivered(server) == {"kabkota-33.10": [EXPECTED["kabkota-33.10"]]}


def test_an_unknown_digest_released_by_the_operator_is_sent_again_once(db, clusters, tmp_path):
    offices = [office(fixture_offices(), "kabkota-33.10")]
    with SmtpServer(drop_during_data=True) as server:
        settings = make_settings(tmp_path, server.port)
        [lost] = run_digests(db, settings, offices, now=NOW)
        server.drop_during_data = False
        assert lost.message_id is not None
        assert ledger.release(db, lost.message_id, NOW) == 1
        [resent] = run_digests(db, settings, offices, now=NOW)
        [again] = run_digests(db, settings, offices, now=NOW)
    assert (resent.status, again.status) == ("sent", "nothing-new")
    assert delivered(server) == {"kabkota-33.10": [EXPECTED["kabkota-33.10"]]}
    with pytest.raises(ledger.NotReleasable, match="'sent'"):
        ledger.release(db, str(resent.message_id), NOW)
