"""The accused, never the quoted: names, positions and regions as Indonesian news writes them."""

from __future__ import annotations

from detect_support import accused_names, analyse

from extract.detect import Detector


def test_quoted_bawaslu_member_is_never_accused(detector: Detector) -> None:
    finding = analyse(detector, "quoted_bawaslu.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Sutarno"]


def test_elected_bupati_supported_by_the_accused_is_not_accused(detector: Detector) -> None:
    finding = analyse(detector, "elected_bupati.txt")
    assert accused_names(finding) == ["Herman Suherman"]
    assert finding.officials[0].position == "Camat Sukajaya"


def test_title_region_name_form_sekda_kepahiang_hartono(detector: Detector) -> None:
    official = analyse(detector, "sekda_region_name.txt").officials[0]
    assert (official.name, official.position, official.region) == (
        "Hartono",
        "Sekretaris Daerah",
        "Kabupaten Kepahiang",
    )


def test_name_selaku_abbreviated_position_form(detector: Detector) -> None:
    official = analyse(detector, "selaku_kadin.txt").officials[0]
    assert official.name == "Rusdianto"
    assert official.position == "Kepala Dinas Kominfo"
    assert official.region == "Kabupaten Muara Enim"


def test_oknum_asn_known_by_initials_is_accused(detector: Detector) -> None:
    finding = analyse(detector, "oknum_initials.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["AB"]


def test_camat_with_initials_in_brackets(detector: Detector) -> None:
    official = analyse(detector, "camat_initials_brackets.txt").officials[0]
    assert official.name == "ZR"
    assert official.position is not None and official.position.startswith("Camat")


def test_village_head_abbreviation_with_name_in_apposition(detector: Detector) -> None:
    finding = analyse(detector, "kades_apposition.txt")
    assert accused_names(finding) == ["Marahalim Harahap"]
    assert finding.officials[0].position is not None
    assert finding.officials[0].position.startswith("Kepala Desa")


def test_every_person_of_a_list_after_yakni_is_accused(detector: Detector) -> None:
    finding = analyse(detector, "accused_list.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Robert Sinaga", "Halomoan Sitanggang", "Marudut Simbolon"]
    assert {o.position for o in finding.officials} == {"Perangkat Desa"}


def test_several_accused_by_initials_in_one_sentence_are_each_named(detector: Detector) -> None:
    finding = analyse(detector, "accused_initials_list.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["RH", "T"]


def test_an_acting_head_who_responds_and_receives_the_case_is_not_accused(
    detector: Detector,
) -> None:
    finding = analyse(detector, "pj_responds_kades_prefix.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["H. Andi Baso Rahman"]
    assert finding.officials[0].position == "Kepala Desa Mallari"


def test_a_name_before_its_post_in_brackets_is_the_holder(detector: Detector) -> None:
    finding = analyse(detector, "name_before_bracketed_post.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Yohana Sitorus", "Baharudin"]


def test_a_superior_heard_as_witness_is_not_accused(detector: Detector) -> None:
    finding = analyse(detector, "superior_as_witness.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["S", "R.A."]


def test_a_position_in_a_headline_stops_at_the_headline_verb(detector: Detector) -> None:
    finding = analyse(detector, "headline_verb_after_place.txt")
    assert finding.verdict == "breach"
    assert [o.position for o in finding.officials] == ["Camat Tanjung Raja"]


def test_categories_and_evidence_are_about_the_act_of_the_accused(detector: Detector) -> None:
    finding = analyse(detector, "acts_of_the_accused.txt")
    assert accused_names(finding) == ["Hendra Gunawan"]
    assert "kampanye" in finding.violations
    assert "anggota_partai" not in finding.violations  # the candidate 'maju sebagai calon'
    assert not any("Hasilnya" in sentence for sentence in finding.evidence)


def test_related_headlines_listed_under_the_story_accuse_nobody(detector: Detector) -> None:
    finding = analyse(detector, "related_headlines.txt")
    assert accused_names(finding) == ["WS"]
    assert all(not sentence.startswith("- ") for sentence in finding.evidence)


def test_several_heads_counted_then_listed_by_initials_are_each_accused(
    detector: Detector,
) -> None:
    finding = analyse(detector, "counted_heads_initials_list.txt")
    assert sorted(accused_names(finding)) == ["R.L.", "T.B.", "W.S."]


def test_a_one_letter_initial_closing_a_list_ends_the_sentence(detector: Detector) -> None:
    doc = detector.nlp("Ketiga keuchik itu berinisial M, AR, dan Z. Mereka memimpin gampong.")
    assert [s.text for s in doc.sents][-1] == "Mereka memimpin gampong."


def test_an_honorific_after_a_comma_does_not_end_the_sentence(detector: Detector) -> None:
    doc = detector.nlp("Yang dilaporkan adalah Kepala Desa Gapura, H. Moh. Salim, warga setempat.")
    assert len(list(doc.sents)) == 1
