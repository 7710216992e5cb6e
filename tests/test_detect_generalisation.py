"""Detector behaviours that make it generalise beyond the texts it was tuned on.

Each fixture under tests/fixtures/detect/ is a short original snippet showing one shape of
Indonesian news: titles and ranks around names, institutions that act, directives to groups,
the accused named later or by surname only.
"""

from __future__ import annotations

from detect_support import accused_names, analyse

from extract.detect import Detector


def test_directive_to_all_staff_without_any_allegation_is_not_a_breach(
    detector: Detector,
) -> None:
    finding = analyse(detector, "directive_without_allegation.txt")
    assert finding.verdict == "advisory"
    assert finding.officials == []


def test_academic_title_after_a_name_is_not_a_name(detector: Detector) -> None:
    finding = analyse(detector, "academic_title_after_name.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Marlina"]


def test_an_institution_with_polisi_in_its_name_is_not_a_person(detector: Detector) -> None:
    finding = analyse(detector, "organisation_not_person.txt")
    assert finding.verdict != "breach"
    assert finding.officials == []


def test_ranks_are_kept_out_of_names_and_the_examiner_is_not_accused(
    detector: Detector,
) -> None:
    finding = analyse(detector, "rank_prefix_and_examiner.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Anton Saragih"]


def test_capitalised_function_word_in_a_headline_is_not_a_name(detector: Detector) -> None:
    finding = analyse(detector, "headline_function_word.txt")
    assert finding.verdict == "advisory"
    assert finding.officials == []


def test_role_only_mention_and_rank_with_initials_are_one_person(detector: Detector) -> None:
    finding = analyse(detector, "babinsa_rank_initials.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["AR"]
    assert finding.officials[0].position.startswith("Babinsa")


def test_position_only_accused_takes_the_name_given_in_a_later_paragraph(
    detector: Detector,
) -> None:
    finding = analyse(detector, "named_later_paragraph.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Ir. Dedi Kusnadi"]
    assert finding.officials[0].position.startswith("Sekretaris Dinas")


def test_surname_only_mention_in_the_allegation_points_at_the_named_person(
    detector: Detector,
) -> None:
    finding = analyse(detector, "surname_only_later.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Wulan Permatasari"]


def test_the_subject_of_an_allegation_is_not_taken_for_a_speaker(detector: Detector) -> None:
    finding = analyse(detector, "alleged_subject_not_speaker.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Arman Syahputra"]


def test_name_before_selaku_wins_over_the_facility_name_after_the_title(
    detector: Detector,
) -> None:
    finding = analyse(detector, "name_before_selaku.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Lalu Ahmad Fauzi"]


def test_name_after_a_chain_of_places_is_attached_to_the_title(detector: Detector) -> None:
    finding = analyse(detector, "named_after_place_chain.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Suryadi"]
    assert finding.officials[0].region == "Kabupaten Kepahiang"


def test_a_police_commander_acting_on_the_case_is_not_accused(detector: Detector) -> None:
    finding = analyse(detector, "commander_acting.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["YS"]


def test_an_act_told_plainly_is_a_breach_when_the_article_reports_the_case_examined(
    detector: Detector,
) -> None:
    finding = analyse(detector, "act_told_case_examined.txt")
    assert finding.verdict == "breach"
    assert accused_names(finding) == ["Dedi Mulyana"]
    assert finding.officials[0].position == "Camat Parungkuda"  # the headline name is no place
