"""Copy evidence from sentences: narration counts, quotes do not, light edits still match."""

from __future__ import annotations

from extract.copies import diff_sentences, match_sentences, split_sentences
from pantau.core.settings import DedupSettings

QUOTE = (
    '"Kepala desa termasuk pihak yang dilarang berpihak kepada salah satu calon. Kami akan '
    'mengundang yang bersangkutan untuk dimintai klarifikasi pekan ini," kata Ketua Bawaslu.'
)
NARRATION = [
    "Bawaslu Kabupaten Seluma memeriksa unggahan kepala desa yang diduga mendukung calon bupati.",
    "Foto itu diunggah di akun Facebook pribadinya dan dibagikan ulang ratusan kali oleh warga.",
    "Dalam foto tersebut kepala desa terlihat mengacungkan dua jari di depan balai desa.",
    "Pelapor menyertakan daftar warga yang menuliskan komentar dukungan di bawah unggahan itu.",
]


def test_a_quote_and_its_attribution_do_not_count_however_many_sentences_it_has():
    sentences = split_sentences(QUOTE + " " + NARRATION[0])
    assert [s.quoted for s in sentences] == [True, True, False]
    assert [s.counts for s in sentences] == [False, False, True]


def test_a_quote_left_open_ends_with_its_paragraph():
    sentences = split_sentences('"Kami tidak akan tebang pilih dalam kasus ini. Semua diperiksa.')
    assert all(sentence.quoted for sentence in sentences)


def test_short_sentences_do_not_count():
    assert not split_sentences("Senin (10/6) pagi.")[0].counts


def test_sentences_with_a_swapped_word_still_match():
    edited = [NARRATION[0].replace("memeriksa", "menelusuri"), *NARRATION[1:]]
    match = match_sentences(split_sentences(" ".join(NARRATION)), split_sentences(" ".join(edited)))
    assert (match.matched, match.total, match.is_copy) == (4, 4, True)


def test_sharing_only_a_long_quote_is_not_a_copy():
    first = split_sentences(QUOTE + "\n" + " ".join(NARRATION))
    second = split_sentences(
        "Warga Tanjung Agung resah karena foto kepala desa beredar di grup percakapan.\n"
        + QUOTE
        + "\nTim pengawas juga akan menemui pemilik akun yang pertama menyebarkan foto itu."
    )
    assert match_sentences(first, second).matched == 0


ORIGINAL_REST = [
    "Camat setempat mengaku sudah menegur kepala desa itu secara lisan pekan lalu.",
    "Menurut camat, seluruh kepala desa diminta tidak memasang foto bersama peserta pemilihan.",
    "Kepala desa membenarkan foto itu miliknya tetapi membantah bermaksud berkampanye.",
    "Ia menyebut bakal calon hanya singgah untuk bersilaturahmi ke rumah warga.",
    "Kasus ini menambah daftar laporan netralitas yang ditangani pengawas menjelang pemilihan.",
]
ROUNDUP = [
    "Jajaran pengawas pemilu di provinsi mencatat empat dugaan pelanggaran dalam sepekan.",
    "Di kabupaten tetangga seorang kepala bidang dilaporkan menghadiri rapat tim pemenangan.",
    "Dua guru berstatus pegawai negeri diduga membagikan kalender bergambar bakal calon.",
    "Seorang lurah diduga mengarahkan ketua rukun tetangga menghadiri acara temu warga.",
    "Pengawas provinsi menyurati pemerintah daerah agar mengingatkan pegawainya soal larangan.",
    "Masyarakat diimbau melapor ke kantor pengawas terdekat atau melalui layanan daring.",
]


def test_a_third_of_an_article_lifted_into_a_longer_one_is_a_copy():
    original = split_sentences(" ".join(NARRATION[:4] + ORIGINAL_REST))
    roundup = split_sentences(" ".join(ROUNDUP[:3] + NARRATION[:3] + ROUNDUP[3:]))
    match = match_sentences(original, roundup)
    assert (match.matched, match.total, match.is_copy) == (3, 9, True)


def test_two_shared_sentences_are_not_a_copy():
    original = split_sentences(" ".join(NARRATION[:4] + ORIGINAL_REST))
    roundup = split_sentences(" ".join(ROUNDUP[:3] + NARRATION[:2] + ROUNDUP[3:]))
    assert not match_sentences(original, roundup).is_copy


def test_lines_no_full_stop_ends_do_not_count():
    related = (
        "Bawaslu Seluma Panggil Kepala Desa Tanjung Agung Terkait Foto Dukungan\n"
        "Guru Honorer Tempel Stiker Bakal Calon di Mobil Dinas Sekolah Dilaporkan\n"
        "Camat Semidang Alas Tegur Kepala Desa yang Unggah Foto Bersama Bakal Calon\n"
        "Pengawas Provinsi Catat Empat Dugaan Pelanggaran Netralitas dalam Sepekan\n"
    )
    first = split_sentences(" ".join(NARRATION) + "\n" + related)
    second = split_sentences(" ".join(ROUNDUP) + "\n" + related)
    assert match_sentences(first, second).matched == 0


def test_a_copys_changes_are_the_sentences_only_one_side_has():
    source = " ".join(NARRATION)
    copy = " ".join([NARRATION[0].replace("memeriksa", "menelusuri"), *NARRATION[1:3], QUOTE])
    diff = diff_sentences(source, copy)
    assert diff.removed == [NARRATION[3]]
    assert diff.added == [QUOTE.split(". ")[0] + ".", QUOTE.split(". ")[1]]


def test_the_share_of_lifted_sentences_that_makes_a_copy_is_a_setting():
    original = split_sentences(" ".join(NARRATION[:4] + ORIGINAL_REST))
    roundup = split_sentences(" ".join(ROUNDUP[:3] + NARRATION[:3] + ROUNDUP[3:]))
    stricter = DedupSettings(sentence_min_share=0.4)  # 3 of 9 lifted is 0.33
    assert match_sentences(original, roundup).is_copy
    assert not match_sentences(original, roundup, stricter).is_copy


def test_how_many_sentences_make_a_copy_and_how_alike_they_are_are_settings():
    edited = [NARRATION[0].replace("memeriksa", "menelusuri"), *NARRATION[1:]]
    first, second = split_sentences(" ".join(NARRATION)), split_sentences(" ".join(edited))
    assert not match_sentences(first, second, DedupSettings(sentence_min_matched=5)).is_copy
    exact_only = match_sentences(first, second, DedupSettings(sentence_near_identical=1.0))
    assert exact_only.matched == 3
