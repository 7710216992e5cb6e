"""Extraction: golden pages per publisher pin title, date, author and clean text."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import lxml.etree
import pytest
from conftest import FIXTURES, SEEDS
from trafilatura.utils import load_html

from extract.text import (
    ExtractionError,
    clean_text,
    decode_html,
    detect_language,
    extract_article,
    join_pages,
    parse_indonesian_date,
    parse_tree,
    read_document,
)

GOLDEN = FIXTURES / "golden"
GOLDEN_PAGES = sorted(GOLDEN.rglob("*.html"))


def golden_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("page", GOLDEN_PAGES, ids=golden_id)
def test_golden_page_extracts_as_pinned(page: Path) -> None:
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    article = extract_article(page.read_bytes(), expected["url"])
    paragraphs = article.text.split("\n")
    assert article.title == expected["title"]
    published = article.published.isoformat() if article.published else None
    assert published == expected["published"]
    assert article.author == expected["author"]
    assert article.canonical_url == expected["canonical_url"]
    assert article.lang == expected["lang"]
    assert len(paragraphs) == expected["paragraphs"]
    assert paragraphs[0] == expected["first_paragraph"]
    assert paragraphs[-1] == expected["last_paragraph"]
    for furniture in expected["text_excludes"]:
        assert furniture not in article.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rabu, 24 April 2024 13:00 WIB", "2024-04-24T13:00:00+07:00"),
        ("24/04/24", "2024-04-24T00:00:00+07:00"),
        ("24/4/2024", "2024-04-24T00:00:00+07:00"),
        ("Kamis, 1 Agu 2024 | 09.15 WITA", "2024-08-01T09:15:00+08:00"),
        ("12 Ags 2024", "2024-08-12T00:00:00+07:00"),
        ("Senin, 10 Jun 2024 08:30 WIT", "2024-06-10T08:30:00+09:00"),
        ("Diperbarui 2 Mei 2024 pukul 19.30 WIT", "2024-05-02T19:30:00+09:00"),
        ("Jumat, 05 Desember 2025 - 07:05:09 WIB", "2025-12-05T07:05:09+07:00"),
        ("3 Nopember 2023", "2023-11-03T00:00:00+07:00"),
        ("2024-05-01 14:00", "2024-05-01T14:00:00+07:00"),
    ],
)
def test_indonesian_visible_dates_parse_with_their_zone(text: str, expected: str) -> None:
    moment = parse_indonesian_date(text)
    assert moment is not None and moment.isoformat() == expected


def test_text_without_a_date_gives_none() -> None:
    assert parse_indonesian_date("Rapat digelar di aula kantor bupati pada pagi hari.") is None


def test_an_impossible_date_is_not_invented() -> None:
    assert parse_indonesian_date("31/02/2024") is None


def test_read_also_and_share_lines_are_removed() -> None:
    text = (
        "Paragraf pertama berita ini cukup panjang untuk diuji.\n"
        "Baca juga: Judul Lain\n"
        "Baca Juga : Judul Lain Lagi\n"
        "BACA JUGA: Judul Ketiga\n"
        "Bagikan: Facebook | Twitter | WhatsApp\n"
        "Paragraf kedua menutup berita dengan keterangan saksi."
    )
    assert clean_text(text).split("\n") == [
        "Paragraf pertama berita ini cukup panjang untuk diuji.",
        "Paragraf kedua menutup berita dengan keterangan saksi.",
    ]


def test_a_sentence_that_merely_mentions_sharing_is_kept() -> None:
    line = "Bagikan bantuan kepada warga dilakukan petugas desa sejak pagi."
    assert clean_text(line) == line


def test_a_body_printed_twice_is_kept_once() -> None:
    body = (
        "Paragraf satu yang cukup panjang untuk dihitung sebagai isi.\n"
        "Paragraf dua juga cukup panjang untuk dihitung sebagai isi."
    )
    assert clean_text(body + "\n" + body) == body


def test_multi_page_articles_join_in_order_without_repeats() -> None:
    page = FIXTURES / "sites" / "listing" / "read" / "panwas-distrik-temukan-spanduk-ajakan-memilih"
    first = extract_article((page / "index.html").read_bytes(), "https://x.test/read/a/")
    second = extract_article((page / "2" / "index.html").read_bytes(), "https://x.test/read/a/2/")
    joined = join_pages([first, second])
    assert joined.title == first.title and joined.published == first.published
    assert joined.text.startswith(first.text)
    assert joined.text.endswith(second.text.split("\n")[-1])


def test_valid_utf8_wins_over_a_wrong_declaration() -> None:
    raw = '<html><head><meta charset="iso-8859-1"></head><body>“Kutipan” – ok</body></html>'
    assert "“Kutipan” – ok" in decode_html(raw.encode("utf-8"))


def test_undeclared_windows_1252_bytes_decode() -> None:
    assert decode_html("“Kutipan” – ok".encode("cp1252")) == "“Kutipan” – ok"


BODY = "<body><article><p>Camat diduga hadir di kampanye.</p></article></body>"
PAGES_TRAFILATURA_REPAIRS = {
    "control characters": f"<html><head></head>{BODY[:20]}\x0c\x00{BODY[20:]}</html>",
    "a non-character": f"<html><head></head>{BODY[:20]}\ufffe{BODY[20:]}</html>",
    "an XHTML doctype": (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://www.w3.org/x.dtd">'
        f"\n<html><head></head>{BODY}</html>"
    ),
    "a one-line doctype page": f"<!DOCTYPE html><html><head></head>{BODY}</html>",
    "a self-closing html tag": f'<html lang="id"/>\n<head></head>{BODY}',
    "an XML declaration": f'<?xml version="1.0" encoding="utf-8"?>\n<html>{BODY}</html>',
    "a fragment": "<p>Camat diduga hadir.</p>",
    "a clean page": f"<!DOCTYPE html>\n<html><head></head>{BODY}</html>",
}


@pytest.mark.parametrize("html", PAGES_TRAFILATURA_REPAIRS.values(), ids=PAGES_TRAFILATURA_REPAIRS)
def test_pages_parse_to_the_tree_trafilatura_parses(html: str) -> None:
    ours, theirs = parse_tree(html), load_html(html)
    if theirs is None:
        assert ours is None
    else:
        assert ours is not None
        assert lxml.etree.tostring(ours) == lxml.etree.tostring(theirs)


def test_a_page_without_article_text_raises_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="https://x.test/kosong"):
        extract_article(b"<html><body><nav>Beranda</nav></body></html>", "https://x.test/kosong")


def test_an_empty_page_raises_extraction_error() -> None:
    with pytest.raises(ExtractionError):
        extract_article(b"", "https://x.test/kosong")


def test_language_is_told_apart() -> None:
    assert detect_language("Bawaslu meminta aparatur sipil negara menjaga netralitas.") == "id"
    assert detect_language("The election supervisor asked civil servants to stay neutral.") == "en"


def test_txt_document_has_title_line_then_body(tmp_path: Path) -> None:
    path = tmp_path / "berita.txt"
    path.write_text("Judul Berita\n\nIsi berita pertama.\nIsi kedua.", encoding="utf-8")
    _, article = read_document(path)
    assert article.title == "Judul Berita"
    assert article.text == "Isi berita pertama.\nIsi kedua."


@pytest.mark.skipif(not SEEDS.exists(), reason="shared seed corpus not present")
def test_seed_texts_are_read_as_indonesian() -> None:
    for path in sorted(SEEDS.glob("*.txt"))[:5]:
        _, article = read_document(path)
        assert article.title and article.lang == "id"


def test_published_dates_carry_a_timezone() -> None:
    for page in GOLDEN_PAGES:
        article = extract_article(page.read_bytes(), "https://golden.test/x")
        assert isinstance(article.published, datetime) and article.published.tzinfo is not None


# --- bad input files ----------------------------------------------------------------

FILES = FIXTURES / "files"


@pytest.mark.parametrize(
    "name", ["berita_utf8_bom.txt", "berita_utf16le_bom.txt", "berita_utf16be_bom.txt"]
)
def test_a_byte_order_mark_decides_the_encoding(name: str) -> None:
    _, plain = read_document(FILES / "berita_utf8.txt")
    _, article = read_document(FILES / name)
    assert (article.title, article.text, article.lang) == (plain.title, plain.text, "id")


def test_a_utf16_page_with_a_byte_order_mark_is_decoded() -> None:
    html = "<html><body><p>Camat Sukamaju hadir di kampanye.</p></body></html>"
    assert decode_html(b"\xff\xfe" + html.encode("utf-16-le")) == html
    assert decode_html(b"\xfe\xff" + html.encode("utf-16-be")) == html


def test_binary_content_is_refused_naming_the_file() -> None:
    path = FILES / "program.txt"
    with pytest.raises(ExtractionError) as err:
        read_document(path)
    assert str(err.value) == f"{path}: binary content, not a text or HTML file"


@pytest.mark.parametrize("name", ["kosong.txt", "spasi.html"])
def test_an_empty_file_is_refused_naming_the_file(name: str) -> None:
    with pytest.raises(ExtractionError) as err:
        read_document(FILES / name)
    assert str(err.value) == f"{FILES / name}: empty file"
