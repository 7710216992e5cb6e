"""What the digest says and how: Indonesian, safe with untrusted text, readable in mail clients."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from smtp_server import SmtpServer
from test_alerts_support import add_story, fixture_offices, load_fixture_stories, make_settings
from test_alerts_support import office as office_named

from alerts.categories import Catalog, Category, load_catalog
from alerts.digest import run_digests
from alerts.render import (
    build_message,
    clean_text,
    format_moment,
    highlight,
    render_digest,
    review_link,
    safe_url,
    shorten,
)
from alerts.selection import Accused, Outlet, Selection, Story, select_for_office

NOW = datetime(2024, 10, 22, 1, 0, tzinfo=UTC)
HOSTILE_TITLE = (
    "Kades <script>alert('x')</script> Diduga\r\nBcc: korban@example.id\r\n\r\nKampanye "
    + "sangat panjang " * 140
)
assert len(HOSTILE_TITLE) > 2000


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch) -> Catalog:
    rules = tmp_path / "config" / "rules"
    rules.mkdir(parents=True)
    (rules / "violations.yaml").write_text(
        """
violations:
  - id: kampanye
    name: Kampanye / dukungan kepada calon
    legal_basis: ["UU 20/2023 Pasal 24", "PP 94/2021 Pasal 5 huruf n"]
    sanction: [sedang, berat]
    triggers: [kampanye terbuka, salam dua jari]
  - id: mobilisasi
    name: Mobilisasi bawahan atau warga
    legal_basis: [UU 7/2017 Pasal 282]
    sanction: [berat]
    needs_target: [warga]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("PANTAU_CONFIG", str(tmp_path / "config"))
    return load_catalog()


def hostile_story(db) -> int:
    finding = {
        "verdict": "breach",
        "score": 0.99,
        "officials": [{"name": "Ahmad <b>Fauzi</b>\r\nX-Evil: 1", "position": "Camat"}],
        "region": {"code": "17.08", "name": "Kabupaten Kepahiang", "province": "Bengkulu"},
        "violations": ["kampanye", "tidak_dikenal"],
        "evidence": [
            "Camat <img src=x onerror=alert(1)> hadir di kampanye terbuka " + "lagi " * 300,
            "Warga menyebut \u201cPak Camat\u201d berpose salam dua jari \u2014 ✌️ 🇮🇩 café",
        ],
    }
    articles = [
        {
            "site": "jahat",
            "sitename": "Situs <i>Jahat</i>",
            "url": "javascript:alert(1)",
            "title": HOSTILE_TITLE,
            "published": "2024-10-21T08:00:00+07:00",
        },
        {
            "site": "baik",
            "sitename": "Berita Baik",
            "url": 'https://baik.example.id/a?x=1&y="2"',
            "title": "Salinan",
            "published": "2024-10-21T09:00:00+07:00",
        },
    ]
    return add_story(db, finding, articles)


def sent_digest(db, tmp_path):
    with SmtpServer() as server:
        settings = make_settings(tmp_path, server.port)
        run_digests(db, settings, fixture_offices(), office_id="kabkota-17.08", now=NOW)
    [received] = server.messages
    return received


def test_scraped_markup_is_escaped_in_the_html_part(db, tmp_path, catalog):
    hostile_story(db)
    html = sent_digest(db, tmp_path).part("html")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "<img" not in html.lower() and "&lt;img" in html
    assert "<b>Fauzi" not in html and "<i>Jahat" not in html
    assert "javascript:" not in html.replace("javascript:alert(1)</", "")  # never a link
    assert 'href="javascript' not in html
    assert "&amp;y=&#34;2&#34;" in html or "&amp;y=&quot;2&quot;" in html


def test_no_line_break_from_a_scraped_title_or_name_reaches_a_header(db, tmp_path, catalog):
    hostile_story(db)
    received = sent_digest(db, tmp_path)
    names = {name.lower() for name in received.message}
    assert "bcc" not in names and "x-evil" not in names
    assert received.recipients == ["kepahiang@example.id"]
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "korban@example.id" not in raw_headers


def flat(text: str) -> str:
    """Body text with line wrapping undone."""
    return " ".join(text.split())


def test_long_titles_and_evidence_are_cut_at_a_word_with_an_ellipsis(db, tmp_path, catalog):
    hostile_story(db)
    text = flat(sent_digest(db, tmp_path).part("plain"))
    title = re.search(r"Kades <script>.*?…", text)
    assert title is not None
    assert len(title.group(0)) <= 180
    assert title.group(0).endswith("sangat panjang…") or title.group(0).endswith("sangat…")
    assert "lagi lagi…" in text
    assert len(text) < 12000


def test_unusual_characters_survive_in_both_parts(db, tmp_path, catalog):
    hostile_story(db)
    received = sent_digest(db, tmp_path)
    for part in ("plain", "html"):
        body = flat(received.part(part))
        assert "✌️ 🇮🇩 café" in body
        assert "Warga menyebut \u201cPak" in body


def test_the_message_is_multipart_alternative_in_utf8_with_both_parts(db, tmp_path):
    load_fixture_stories(db)
    message = sent_digest(db, tmp_path).message
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    assert message["Message-ID"] and message["Date"] and message["From"]


def test_the_html_uses_inline_styles_only_no_scripts_no_remote_images(db, tmp_path):
    load_fixture_stories(db)
    html = sent_digest(db, tmp_path).part("html").lower()
    for forbidden in ("<script", "<style", "<img", "<link", "<iframe", "@import", "url("):
        assert forbidden not in html, forbidden
    assert 'name="viewport"' in html
    assert "max-width:640px" in html


def test_subject_names_the_office_the_date_and_the_count(db, tmp_path):
    load_fixture_stories(db)
    subject = str(sent_digest(db, tmp_path).message["Subject"])
    assert subject == (
        "[Pantau] Bawaslu Kabupaten Kepahiang – 22 Oktober 2024 – "
        "1 dugaan pelanggaran netralitas ASN"
    )


def test_a_story_shows_accused_region_category_legal_basis_evidence_score_and_outlets(
    db, tmp_path, catalog
):
    load_fixture_stories(db)
    text = sent_digest(db, tmp_path).part("plain")
    for expected in (
        "Darmawan, Sekretaris Daerah",
        "Wilayah: Kabupaten Kepahiang, Bengkulu",
        "Kampanye / dukungan kepada calon",
        "Dasar hukum: UU 20/2023 Pasal 24; PP 94/2021 Pasal 5 huruf n",
        "Kemungkinan sanksi: hukuman disiplin sedang, hukuman disiplin berat",
        "Keseriusan sedang (hukuman disiplin sedang); keyakinan",
        "Pertama diberitakan: Kepahiang Pos, 21 Oktober 2024 08.15 WIB",
        "Juga dimuat (2):",
        "Bengkulu Ekspres, 21 Oktober 2024 11.40 WIB",
        "https://rakyatbengkulu.example.id/sekda-kepahiang-diduga-kampanye",
        "*kampanye terbuka*",
        "*salam dua jari*",
        "*Darmawan*",
    ):
        assert expected in flat(text), expected


def test_each_copy_says_which_outlet_it_copied(db, tmp_path, catalog):
    """The outlet a copy was verified against, if it came out earlier; else the first."""
    clusters = load_fixture_stories(db)
    ids = {
        row["site"]: row["id"]
        for row in db.query(
            "select id, site from articles where cluster_id = ?", [clusters["sekda-kepahiang"]]
        )
    }
    db.table("dedup_matches").insert(
        {
            "article_id": ids["rakyat-bengkulu"],
            "cluster_id": clusters["sekda-kepahiang"],
            "method": "sentences",
            "matched_article_id": ids["bengkulu-ekspres"],
        }
    )
    message = sent_digest(db, tmp_path)
    text = flat(message.part("plain"))
    assert "Bengkulu Ekspres, 21 Oktober 2024 11.40 WIB, menyalin dari Kepahiang Pos" in text
    assert "Rakyat Bengkulu, 22 Oktober 2024 07.05 WIB, menyalin dari Bengkulu Ekspres" in text
    assert "menyalin dari Bengkulu Ekspres" in message.part("html")


def test_a_category_missing_from_violations_yaml_is_shown_by_its_id(db, tmp_path, catalog):
    hostile_story(db)
    assert "Tidak dikenal" in sent_digest(db, tmp_path).part("plain")


def test_key_words_are_marked_in_the_html_evidence(db, tmp_path, catalog):
    load_fixture_stories(db)
    html = sent_digest(db, tmp_path).part("html")
    assert re.search(r'<span style="background-color:#fde68a[^"]*">kampanye terbuka</span>', html)


def test_the_footer_explains_review_and_the_follow_up_route(db, tmp_path):
    load_fixture_stories(db)
    message = sent_digest(db, tmp_path)
    text = re.sub(r"\s+", " ", message.part("plain"))  # the text part is wrapped, CRLF
    for expected in (
        "Tautan Tinjau pada tiap berita membuka halamannya di ruang tinjau Pantau",
        "ditolak (dengan alasan) atau diberi status tindak lanjut",
        "Temuan yang ditolak tidak dikirim lagi",
        "Bawaslu melakukan kajian",
        "BKN",
        "KASN",
    ):
        assert expected in text
    for part in (text, message.part("html")):
        assert "ruang tinjau Pantau" in part
        assert "menyebut ID cerita" not in part  # reviews happen in the workspace now
    assert "Pejabat Pembina Kepegawaian" in text
    assert re.search(r"http://127\.0\.0\.1:8000/findings/\d+\b", text)


def test_without_a_workspace_address_the_footer_points_to_no_review_link(db, tmp_path):
    load_fixture_stories(db)
    with SmtpServer() as server:
        settings = make_settings(tmp_path, server.port)
        digest = settings.digest.model_copy(update={"review_url": ""})
        settings = settings.model_copy(update={"digest": digest})
        run_digests(db, settings, fixture_offices(), office_id="kabkota-17.08", now=NOW)
    [received] = server.messages
    for part in (received.part("plain"), received.part("html")):
        assert "pada tiap berita" not in re.sub(r"\s+", " ", part)
        assert "Bawaslu melakukan kajian" in re.sub(r"\s+", " ", part)


def test_review_links_open_the_story_page_under_the_configured_address():
    assert review_link("https://pantau.bawaslu.example/findings", 12) == (
        "https://pantau.bawaslu.example/findings/12"
    )
    assert (
        review_link("https://x.example/ws/findings/?a=1", 7)
        == "https://x.example/ws/findings/7?a=1"
    )
    assert review_link("javascript:alert(1)", 7) is None


def test_a_digest_of_a_quiet_day_says_so(db, tmp_path):
    office = office_named(fixture_offices(), "kabkota-17.08")
    rendered = render_digest(
        office, Selection(), catalog=Catalog({}), day=date(2024, 10, 22), generated_at=NOW
    )
    assert "Tidak ada dugaan pelanggaran baru" in rendered.text
    assert rendered.subject.endswith("tidak ada temuan baru")


def test_a_header_never_carries_a_line_break_even_from_the_office_name(db):
    load_fixture_stories(db)
    office = office_named(fixture_offices(), "kabkota-17.08").model_copy(
        update={"name": "Bawaslu\r\nBcc: x@y.id Kepahiang"}
    )
    selection = select_for_office(db, office, threshold=0.5, max_stories=10)
    rendered = render_digest(
        office, selection, catalog=Catalog({}), day=date(2024, 10, 22), generated_at=NOW
    )
    message = build_message(
        rendered, office=office, sender="Pantau <p@b.id>", message_id="<m@b.id>", now=NOW
    )
    assert "Bcc" not in message
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example.id/x", "https://a.example.id/x"),
        ("http://a.example.id", "http://a.example.id"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("https://a.example.id/\nx", None),
        ("//a.example.id/x", None),
        (None, None),
    ],
)
def test_only_absolute_http_links_are_linked(value, expected):
    assert safe_url(value) == expected


def test_shorten_cuts_at_a_word_and_cleans_control_characters():
    assert shorten("satu dua tiga empat lima enam", 16) == "satu dua tiga…"
    assert shorten("a\r\nb\u2028c\x00d", 50) == "a b c d"
    assert clean_text("  banyak   spasi\t") == "banyak spasi"


def test_times_are_shown_in_indonesian_local_time():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Jakarta")
    assert format_moment("2024-10-21T01:15:00+00:00", zone) == "21 Oktober 2024 08.15 WIB"
    assert format_moment("2024-10-21", zone) == "21 Oktober 2024"
    assert format_moment(None, zone) == "waktu tidak diketahui"


def test_highlight_marks_whole_words_only_case_insensitively():
    segments = highlight("Kampanye dan berkampanye", ["kampanye"])
    assert segments == [("Kampanye", True), (" dan berkampanye", False)]


def _story(**overrides) -> Story:
    values = {
        "cluster_id": 1,
        "title": "Judul",
        "score": 0.9,
        "region_code": "17.02",
        "region_name": "Kabupaten Rejang Lebong",
        "province": "Bengkulu",
        "accused": [],
        "violations": [],
        "evidence": [],
        "outlets": [],
    }
    values.update(overrides)
    return Story(**values)


def _render_text(story_: Story, catalog_: Catalog) -> str:
    office = office_named(fixture_offices(), "prov-17")
    rendered = render_digest(
        office,
        Selection(stories=[story_]),
        catalog=catalog_,
        day=date(2024, 10, 22),
        generated_at=NOW,
    )
    return flat(rendered.text)


def test_legal_bases_shared_by_several_categories_are_listed_once():
    shared = Catalog(
        {
            "a": Category("a", "A", legal_basis=("SKB 2022", "UU 1"), sanctions=("berat",)),
            "b": Category("b", "B", legal_basis=("SKB 2022", "UU 2"), sanctions=("sedang",)),
        }
    )
    text = _render_text(_story(violations=["a", "b"]), shared)
    assert "Dasar hukum: SKB 2022; UU 1; UU 2" in text
    assert text.count("SKB 2022") == 1


def test_sanctions_are_listed_once_lightest_first():
    from alerts.categories import SANCTION_WORDS

    words = SANCTION_WORDS
    shared = Catalog(
        {
            "a": Category("a", "A", sanctions=(words["pidana"], words["berat"])),
            "b": Category("b", "B", sanctions=(words["sedang"], words["berat"])),
        }
    )
    text = _render_text(_story(violations=["a", "b"]), shared)
    expected = ", ".join([words["sedang"], words["berat"], words["pidana"]])
    assert f"Kemungkinan sanksi: {expected}" in text


def test_an_accused_contained_in_a_fuller_entry_is_listed_once():
    accused = [
        Accused("Kepala Desa Belitar", None, "Kabupaten Rejang Lebong"),
        Accused(None, "Kepala Desa", "Kabupaten Rejang Lebong"),
        Accused("Sukarman", "Kepala Desa Belitar"),
    ]
    text = _render_text(_story(accused=accused), Catalog({}))
    assert "- Kepala Desa (Kabupaten" not in text
    assert "- Sukarman, Kepala Desa Belitar" in text


def test_overlapping_key_words_mark_the_longest_once():
    segments = highlight(
        "Sekretaris Daerah hadir kampanye terbuka",
        ["Sekretaris"],
        ["kampanye terbuka", "kampanye", "Sekretaris Daerah"],
    )
    assert [text for text, marked in segments if marked] == [
        "Sekretaris Daerah",
        "kampanye terbuka",
    ]


def test_a_long_digest_stays_under_gmails_clipping_size_with_the_most_serious_in_full():
    accused = [Accused("Nama Pejabat Yang Cukup Panjang", "Kepala Dinas Pendidikan dan Kebudayaan")]
    outlets = [
        Outlet(
            n,
            f"situs-{n}",
            f"Situs Berita {n}",
            f"https://situs{n}.example.id/" + "a" * 80,
            "Judul",
            "2024-10-21T08:00:00+07:00",
            None,
        )
        for n in range(8)
    ]
    stories = [
        _story(
            cluster_id=n,
            score=1 - n / 100,
            title="Judul berita yang panjang sekali " * 8,
            accused=accused,
            violations=["kampanye", "mobilisasi"],
            evidence=["Bukti yang panjang sekali tentang kampanye terbuka. " * 10] * 4,
            outlets=outlets,
        )
        for n in range(50)
    ]
    catalog_ = Catalog(
        {
            c: Category(
                c, c.capitalize(), legal_basis=tuple(f"UU {n}/2023 Pasal {n}" for n in range(12))
            )
            for c in ("kampanye", "mobilisasi")
        }
    )
    rendered = render_digest(
        office_named(fixture_offices(), "ri"),
        Selection(stories=stories),
        catalog=catalog_,
        day=date(2024, 10, 22),
        generated_at=NOW,
    )
    assert len(rendered.html.encode()) <= 102_000
    assert rendered.html.count(">Kalimat bukti<") >= 1  # the most serious story is in full
    assert rendered.html.count("NO. ") == 50
    assert flat(rendered.text).count("Kalimat bukti (kata kunci") == 50  # plain part: all


def _shipped_catalog() -> Catalog:
    from alerts.categories import violations_path

    return load_catalog(violations_path(Path(__file__).parents[1] / "config"))


def test_legal_basis_lists_only_the_laws_for_the_kind_of_accused():
    village = _story(
        accused=[Accused("Sutarno", "Kepala Desa Mekarsari", None, "village")],
        violations=["kampanye"],
    )
    text = _render_text(village, _shipped_catalog())
    assert "UU 6/2014" in text
    assert "PP 94/2021" not in text
    sekda = _story(
        accused=[Accused("Darmawan", "Sekretaris Daerah", None, "asn")],
        violations=["kegiatan_partai"],
    )
    text = _render_text(sekda, _shipped_catalog())
    assert "PP 94/2021" in text
    for other_law in ("UU 6/2014", "UU 34/2004", "UU 2/2002"):
        assert other_law not in text, other_law


def test_confidence_and_seriousness_are_two_figures_in_words():
    named = _story(
        accused=[Accused("Darmawan", "Sekretaris Daerah", None, "asn")],
        violations=["fasilitas_negara"],
        evidence=["Sekda Darmawan diduga memakai mobil dinas.", "Ia hadir di posko paslon."],
    )
    text = flat(_render_text(named, _shipped_catalog()))
    assert "Keseriusan berat (hukuman disiplin berat); keyakinan tinggi (0,90)" in text
    by_post = _story(accused=[Accused(None, "Camat", None, "asn")], violations=["media_sosial"])
    text = flat(_render_text(by_post, _shipped_catalog()))
    assert "Keseriusan moral (sanksi moral (pelanggaran kode etik)); keyakinan rendah" in text
