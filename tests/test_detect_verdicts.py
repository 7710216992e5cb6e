"""Verdicts: a breach needs an allegation, a bound identifiable person and an act together."""

from __future__ import annotations

from detect_support import analyse

from extract.detect import Detector
from extract.models import Article


def test_advisory_with_a_list_of_prohibited_acts_stays_advisory(detector: Detector) -> None:
    finding = analyse(detector, "advisory_rule_list.txt")
    assert finding.verdict == "advisory"
    assert finding.officials == []
    assert finding.score < 0.5


def test_past_cases_mentioned_in_general_stay_advisory(detector: Detector) -> None:
    finding = analyse(detector, "past_cases_general.txt")
    assert finding.verdict == "advisory"
    assert finding.officials == []


def test_minister_warning_is_advisory_and_accuses_nobody(detector: Detector) -> None:
    finding = analyse(detector, "minister_quoted.txt")
    assert finding.verdict == "advisory"
    assert finding.officials == []


def test_breach_carries_score_evidence_and_violation_category(detector: Detector) -> None:
    finding = analyse(detector, "sekda_region_name.txt")
    assert finding.verdict == "breach"
    assert 0.5 <= finding.score <= 1.0
    assert any("Hartono" in sentence for sentence in finding.evidence)
    assert "kampanye" in finding.violations


def test_news_without_neutrality_is_other(detector: Detector) -> None:
    article = Article(
        url="file:///x.txt",
        title="Harga Cabai di Pasar Induk Naik",
        text="Harga cabai rawit di pasar induk naik menjadi Rp80.000 per kilogram, kata pedagang.",
    )
    assert detector.analyze(article).verdict == "other"


def test_acting_regent_is_bound_and_can_be_accused(detector: Detector) -> None:
    finding = analyse(detector, "pj_bupati.txt")
    assert finding.verdict == "breach"
    assert [(o.name, o.position) for o in finding.officials] == [("Syamsul Hadi", "Pj Bupati")]
    assert "deklarasi" in finding.violations


def test_detector_has_a_version(detector: Detector) -> None:
    assert detector.version and detector.version != "0-placeholder"
    assert analyse(detector, "pj_bupati.txt").analyzer_version == detector.version


def test_a_civil_servant_who_resigned_to_run_is_no_breach(detector: Detector) -> None:
    finding = analyse(detector, "asn_resigns_to_run.txt")
    assert finding.verdict != "breach"
    assert finding.officials == []
