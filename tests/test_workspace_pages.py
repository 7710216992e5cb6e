"""The workspace over real HTTP: login, scope per office, list, story page, reviews, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from test_alerts_support import add_story, fixture_offices, load_fixture_stories, office, story
from test_workspace_support import (
    EMAILS,
    PASSWORD,
    add_accounts,
    client,
    csrf_of,
    log_in,
    review,
    serve_workspace,
    try_login,
    workspace_config,
)

from alerts.selection import select_for_office
from pantau.core.store import reviews


@pytest.fixture
def clusters(db) -> dict[str, int]:
    stored = load_fixture_stories(db)
    add_accounts(db)
    return stored


@pytest.fixture
def site(db_path, clusters):
    with serve_workspace(workspace_config(db_path)) as running:
        yield running.url


def story_ids(html: str) -> set[int]:
    import re

    return {int(n) for n in re.findall(r'id="cerita-(\d+)"', html)}


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# --- logging in ---------------------------------------------------------------------------


def test_every_page_sends_a_visitor_without_a_session_to_the_login_form(site, clusters):
    anonymous = client(site)
    for path in ("/findings", f"/findings/{clusters['sekda-kepahiang']}", "/overview"):
        response = anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    assert anonymous.get("/findings.csv").status_code == 303


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(site):
    browser = client(site)
    email = EMAILS["kabkota-17.08"]
    first = try_login(browser, email, "salah-sandi-123")
    assert first.status_code == 400 and "Email atau kata sandi salah" in first.text
    try_login(browser, email, "salah-sandi-123")
    third = try_login(browser, email, "salah-sandi-123")
    assert "dikunci" in third.text
    locked = try_login(browser, email, PASSWORD)
    assert locked.status_code == 400 and "dikunci" in locked.text
    assert browser.get("/findings").status_code == 303


def test_a_login_form_without_its_csrf_token_is_refused(site):
    browser = client(site)
    browser.get("/login")
    response = browser.post(
        "/login", data={"email": EMAILS["ri"], "password": PASSWORD, "csrf": "forged"}
    )
    assert response.status_code == 400
    assert browser.get("/findings").status_code == 303


def test_after_login_the_officer_lands_where_they_were_going_but_never_on_another_site(site):
    browser = client(site)
    browser.get("/login?next=/overview")
    token = csrf_of(browser.get("/login").text)
    data = {"email": EMAILS["ri"], "password": PASSWORD, "csrf": token, "next": "/overview"}
    assert browser.post("/login", data=data).headers["location"] == "/overview"
    other = client(site)
    token = csrf_of(other.get("/login").text)
    data.update(csrf=token, next="//evil.example/x")
    assert other.post("/login", data=data).headers["location"] == "/findings"


def test_logout_ends_the_session(site):
    browser = log_in(site, "ri")
    token = csrf_of(browser.get("/findings").text)
    assert browser.post("/logout", data={"csrf": token}).status_code == 303
    assert browser.get("/findings").status_code == 303


def test_a_new_password_ends_sessions_opened_with_the_old_one(site, db):
    from pantau.core.store import accounts

    browser = log_in(site, "ri")
    accounts.set_password(db, EMAILS["ri"], "kata-sandi-baru-2", cost=2**10)
    assert browser.get("/findings").status_code == 303


# --- scope --------------------------------------------------------------------------------


def test_each_office_lists_only_the_stories_of_its_area(site, clusters):
    def listed(office_id: str) -> set[int]:
        browser = log_in(site, office_id)
        ids: set[int] = set()
        for page in (1, 2, 3):
            ids |= story_ids(browser.get(f"/findings?putusan=&halaman={page}").text)
        return ids

    kepahiang = {clusters[k] for k in ("sekda-kepahiang", "ditolak-kepahiang")}
    kepahiang.add(clusters["sosialisasi-kepahiang"])
    assert listed("kabkota-17.08") == kepahiang
    assert listed("kabkota-33.10") == {clusters["kades-klaten"]}
    bengkulu = kepahiang | {clusters["camat-bengkulu"], clusters["skor-rendah-rejang"]}
    assert listed("prov-17") == bengkulu
    assert len(listed("ri")) == 7


def test_a_story_outside_the_area_answers_404_on_every_page_and_export(site, clusters, db):
    klaten = clusters["kades-klaten"]
    browser = log_in(site, "kabkota-17.08")
    token = csrf_of(browser.get("/findings").text)
    outside = {
        "story page": browser.get(f"/findings/{klaten}"),
        "old digest link": browser.get(f"/findings?cluster={klaten}", follow_redirects=True),
        "review": browser.post(
            f"/findings/{klaten}/review", data={"csrf": token, "aksi": "confirm"}
        ),
        "duplicate of an outside story": browser.post(
            f"/findings/{clusters['sekda-kepahiang']}/review",
            data={"csrf": token, "aksi": "duplicate", "duplikat_dari": str(klaten)},
        ),
        "list filtered to its region": browser.get("/findings?wilayah=33.10"),
        "CSV filtered to its region": browser.get("/findings.csv?wilayah=33.10"),
        "overview of its region": browser.get("/overview?wilayah=33.10"),
        "a story that does not exist": browser.get("/findings/99999"),
    }
    for what, response in outside.items():
        assert response.status_code == 404, what
    assert "tidak ditemukan" in outside["story page"].text
    assert reviews.history(db, klaten) == []
    assert reviews.history(db, clusters["sekda-kepahiang"]) == []
    exported = csv_rows(browser.get("/findings.csv?putusan=").text)
    assert str(klaten) not in {row["id_cerita"] for row in exported}
    searched = browser.get("/findings?q=Sutrisno&putusan=").text
    assert story_ids(searched) == set()
    overview = browser.get("/overview").text
    assert "Klaten" not in overview


def test_a_provincial_office_may_narrow_to_one_of_its_kabupaten(site, clusters):
    browser = log_in(site, "prov-17")
    listed = story_ids(browser.get("/findings?wilayah=17.71").text)
    assert listed == {clusters["camat-bengkulu"]}
    assert browser.get("/findings?wilayah=33").status_code == 404


# --- list, search, story page -------------------------------------------------------------


def test_the_list_filters_by_verdict_status_outlet_category_and_date(site, clusters, db):
    browser = log_in(site, "ri")
    assert story_ids(browser.get("/findings?putusan=advisory").text) == {
        clusters["sosialisasi-kepahiang"]
    }
    assert story_ids(browser.get("/findings?status=dismissed").text) == {
        clusters["ditolak-kepahiang"]
    }
    jateng = story_ids(browser.get("/findings?media=jateng-pos").text)
    assert jateng == {clusters["kades-klaten"]}
    social = story_ids(browser.get("/findings?kategori=media_sosial&putusan=").text)
    assert clusters["camat-bengkulu"] in social and clusters["sekda-kepahiang"] not in social
    assert story_ids(browser.get("/findings?dari=2099-01-01").text) == set()


def test_the_list_is_sorted_by_seriousness_and_paged(site, clusters):
    browser = log_in(site, "ri")
    first = browser.get("/findings").text
    assert "halaman 1 dari 2" in first
    assert first.index(f'id="cerita-{clusters["sekda-kepahiang"]}"') < first.index(
        f'id="cerita-{clusters["kades-klaten"]}"'
    )
    second = browser.get("/findings?halaman=2").text
    assert story_ids(first).isdisjoint(story_ids(second))


def test_full_text_search_finds_stories_by_words_of_their_articles(site, clusters, db):
    add_story(
        db,
        story("kades-klaten")["finding"],
        [
            {
                "site": "klaten-today",
                "url": "https://klaten.example.id/baru",
                "title": "Rapat di Balai Desa",
                "text": "Perangkat desa diminta memilih calon tertentu oleh kepala desa Wonosari.",
                "published": "2024-10-21T09:00:00+07:00",
            }
        ],
    )
    browser = log_in(site, "ri")
    found = story_ids(browser.get("/findings?q=Wonosari").text)
    assert len(found) == 1 and max(clusters.values()) < next(iter(found))
    assert story_ids(browser.get('/findings?q="Wonosari OR"').text) == set()


def test_the_story_page_shows_accused_region_legal_basis_evidence_outlets_and_text(site, clusters):
    page = log_in(site, "kabkota-17.08").get(f"/findings/{clusters['sekda-kepahiang']}").text
    assert "Darmawan, Sekretaris Daerah" in page
    assert "Kabupaten Kepahiang, Bengkulu" in page
    assert "Dasar hukum:" in page and "PP 94/2021" in page
    assert "<mark>Darmawan</mark>" in page
    for outlet in ("Kepahiang Pos", "Bengkulu Ekspres", "Rakyat Bengkulu"):
        assert outlet in page
    assert 'href="https://kepahiangpos.example.id/2024/10/sekda-hadiri-kampanye"' in page
    assert "Teks berita" in page


def test_scraped_markup_is_shown_as_text_never_run(site, db):
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    cluster = add_story(
        db,
        {
            "verdict": "breach",
            "score": 0.9,
            "officials": [{"name": hostile, "position": "Camat"}],
            "region": {"code": "17.08", "name": "Kabupaten Kepahiang", "province": "Bengkulu"},
            "violations": ["kampanye"],
            "evidence": [f"Camat {hostile} hadir."],
        },
        [
            {
                "site": "x",
                "url": "javascript:alert(1)",
                "title": hostile,
                "text": hostile,
                "published": "2024-10-21",
            }
        ],
    )
    browser = log_in(site, "kabkota-17.08")
    for page in (browser.get(f"/findings/{cluster}").text, browser.get("/findings").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page
    assert 'href="javascript:' not in browser.get(f"/findings/{cluster}").text


# --- reviews ------------------------------------------------------------------------------


def test_review_actions_are_appended_to_a_history_shown_on_the_story_page(site, clusters, db):
    cluster = clusters["sekda-kepahiang"]
    browser = log_in(site, "kabkota-17.08")
    assert review(browser, cluster, "confirm").status_code == 303
    assert review(browser, cluster, "follow_up", tindak_lanjut="under_study").status_code == 303
    note = "Sudah dikonfirmasi ke BKPSDM.\n<b>bukan tag</b>"
    assert review(browser, cluster, "note", catatan=note).status_code == 303
    history = reviews.history(db, cluster)
    assert [r.action for r in history] == ["confirm", "follow_up", "note"]
    assert {r.reviewer for r in history} == {EMAILS["kabkota-17.08"]}
    assert {r.office for r in history} == {"kabkota-17.08"}
    assert history[-1].status == "confirmed" and history[-1].follow_up == "under_study"
    page = browser.get(f"/findings/{cluster}").text
    assert "Dikonfirmasi" in page and "Dalam kajian" in page
    assert "(Bawaslu Kabupaten Kepahiang)" in page
    assert "&lt;b&gt;bukan tag&lt;/b&gt;" in page


def test_a_dismissal_needs_a_reason_from_the_list(site, clusters, db):
    browser = log_in(site, "ri")
    refused = review(browser, clusters["camat-bengkulu"], "dismiss", alasan="karena saja")
    assert refused.status_code == 400 and "Pilih alasan" in refused.text
    assert reviews.history(db, clusters["camat-bengkulu"]) == []


def test_a_review_without_the_csrf_token_is_refused(site, clusters, db):
    browser = log_in(site, "ri")
    response = browser.post(
        f"/findings/{clusters['camat-bengkulu']}/review", data={"aksi": "confirm"}
    )
    assert response.status_code == 400
    assert reviews.history(db, clusters["camat-bengkulu"]) == []


def test_dismissed_and_duplicate_stories_leave_the_next_digest(site, clusters, db):
    bengkulu = office(fixture_offices(), "prov-17")

    def due() -> set[int]:
        selection = select_for_office(db, bengkulu, threshold=0.5, max_stories=50)
        return {s.cluster_id for s in selection.stories}

    assert due() == {clusters["sekda-kepahiang"], clusters["camat-bengkulu"]}
    browser = log_in(site, "prov-17")
    review(browser, clusters["camat-bengkulu"], "dismiss", alasan="not_asn", catatan="honorer?")
    review(
        browser,
        clusters["sekda-kepahiang"],
        "duplicate",
        duplikat_dari=str(clusters["ditolak-kepahiang"]),
    )
    assert due() == set()
    review(browser, clusters["camat-bengkulu"], "confirm")
    assert due() == {clusters["camat-bengkulu"]}


def test_a_note_after_a_dismissal_keeps_the_story_dismissed(site, clusters, db):
    browser = log_in(site, "ri")
    review(browser, clusters["kades-klaten"], "dismiss", alasan="wrong_person")
    review(browser, clusters["kades-klaten"], "note", catatan="orangnya Sutrisno yang lain")
    assert reviews.current_state(db, clusters["kades-klaten"]).status == "dismissed"
    ri = office(fixture_offices(), "ri")
    selection = select_for_office(db, ri, threshold=0.5, max_stories=50)
    assert clusters["kades-klaten"] not in {s.cluster_id for s in selection.stories}


NEW_ARTICLE = {"site": "kepahiang-pos", "url": "https://k.example.id/baru", "title": "Baru"}


# --- exports and overview -----------------------------------------------------------------


def test_the_csv_has_one_row_per_accused_per_story_of_the_filtered_list(site, db):
    two = add_story(
        db,
        {
            "verdict": "breach",
            "score": 0.8,
            "officials": [
                {"name": "Hendra", "position": "Camat Kepahiang"},
                {"name": "=HYPERLINK(1)", "position": "Lurah"},
            ],
            "region": {"code": "17.08", "name": "Kabupaten Kepahiang", "province": "Bengkulu"},
            "violations": ["kampanye", "media_sosial"],
            "evidence": ["Camat Hendra hadir."],
        },
        [{"site": "kepahiang-pos", "url": "https://k.example.id/2", "title": "Dua ASN"}],
    )
    response = log_in(site, "kabkota-17.08").get("/findings.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = [row for row in csv_rows(response.text) if row["id_cerita"] == str(two)]
    assert [row["nama_terduga"] for row in rows] == ["Hendra", "'=HYPERLINK(1)"]
    assert rows[0]["kode_wilayah"] == "17.08" and rows[0]["kode_provinsi"] == "17"
    assert rows[0]["kode_kategori"] == "kampanye;media_sosial"
    assert rows[0]["status_tinjauan"] == "open" and rows[0]["media"] == "kepahiang-pos"
    assert rows[0]["tautan_cerita"].endswith(f"/findings/{two}")


def test_the_overview_draws_charts_and_the_crawl_health_of_the_area(site, clusters, db):
    db.table("crawl_runs").insert(
        {
            "site": "kepahiang-pos",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "failed",
            "failures": 4,
        }
    )
    add_story(db, story("sekda-kepahiang")["finding"], [{**NEW_ARTICLE, "published": None}])
    page = log_in(site, "kabkota-17.08").get("/overview").text
    assert page.count("<svg") == 4
    assert "Temuan per minggu" in page and "Kabupaten Kepahiang: 2" in page
    assert "kepahiang-pos" in page and "gagal" in page
    assert "klaten-today" not in page


def test_an_old_digest_link_opens_the_story_page(site, clusters):
    browser = log_in(site, "ri")
    response = browser.get(f"/findings?cluster={clusters['kades-klaten']}")
    assert response.status_code == 302
    assert response.headers["location"] == f"/findings/{clusters['kades-klaten']}"


def test_the_digest_review_link_opens_the_story_page(site, clusters):
    from alerts.render import review_link

    link = review_link(f"{site}/findings", clusters["kades-klaten"])
    assert link is not None
    page = log_in(site, "kabkota-33.10").get(link.removeprefix(site))
    assert page.status_code == 200 and "Kades di Klaten" in page.text


def test_pages_forbid_scripts_and_framing(site):
    headers = client(site).get("/login").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_the_story_page_shows_the_case_thread_and_its_timeline(site, clusters, db):
    from pantau.case_threads import refresh_cases

    refresh_cases(db)
    page = log_in(site, "kabkota-17.08").get(f"/findings/{clusters['sekda-kepahiang']}").text
    assert "Kasus " in page and "Dilaporkan / ditemukan" in page
    assert 'id="kasus-' in page


def test_an_empty_database_shows_empty_pages_not_errors(db, db_path):
    add_accounts(db, "kabkota-17.08")
    with serve_workspace(workspace_config(db_path)) as running:
        browser = log_in(running.url, "kabkota-17.08")
        listing = browser.get("/findings")
        assert listing.status_code == 200 and "Tidak ada cerita" in listing.text
        overview = browser.get("/overview")
        assert overview.status_code == 200 and "Belum ada data" in overview.text
        assert csv_rows(browser.get("/findings.csv").text) == []


@pytest.mark.parametrize(
    ("position", "kind"),
    [
        ("Bhabinkamtibmas Desa Jembayan", "TNI / Polri"),
        ("Kepala Desa Karanganom", "Kepala desa / perangkat desa"),
        ("Pj Bupati Kepahiang", "Penjabat kepala daerah"),
        ("Tenaga Honorer Dinas Pendidikan", "Honorer / non-ASN"),
        ("Sekretaris Daerah", "ASN / pegawai pemerintah"),
        (None, "ASN / pegawai pemerintah"),
    ],
)
def test_the_overview_sorts_the_accused_into_kinds_from_config(position, kind):
    from pantau.workspace.kinds import load_kinds

    assert load_kinds().kind_of(position) == kind


def test_a_broken_kinds_file_is_refused_naming_the_file_and_the_entry(tmp_path):
    from pantau.core.settings import ConfigError
    from pantau.workspace.kinds import load_kinds

    path = tmp_path / "accused_kinds.yaml"
    path.write_text("fallback: ASN\nkinds:\n  - label: TNI\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"accused_kinds.yaml: kinds\[0\].*words"):
        load_kinds(path)
