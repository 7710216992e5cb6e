"""Case threads: which stories report one suspected breach, and how far it has gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extract.cases import (
    Accused,
    ReportArticle,
    StoryReport,
    link_cases,
    load_stage_reader,
    same_person,
)
from pantau.core.settings import ConfigError

THREADS = Path(__file__).parent / "fixtures" / "cases" / "threads.yaml"


def stories(*names: str) -> list[StoryReport]:
    data = yaml.safe_load(THREADS.read_text(encoding="utf-8"))
    chosen = names or tuple(data)
    return [story_from(number, name, data[name]) for number, name in enumerate(chosen, 1)]


def story_from(number: int, name: str, entry: dict) -> StoryReport:
    return StoryReport(
        story_id=number,
        region_code=entry["region"],
        accused=tuple(Accused(p["name"], p["position"]) for p in entry["accused"]),
        violations=tuple(entry["violations"]),
        articles=tuple(
            ReportArticle(
                article_id=number * 10 + k,
                url=f"https://example.id/{name}/{k}",
                site=name,
                published=a["published"],
                title=a["title"],
                text=a["text"],
            )
            for k, a in enumerate(entry["articles"])
        ),
    )


def case_of(cases, story_id: int):
    return [case for case in cases if story_id in case.story_ids]


def test_a_report_its_summons_and_its_sanction_are_one_case() -> None:
    cases = link_cases(stories("camat-report", "camat-summoned", "camat-sanctioned"))
    assert [case.story_ids for case in cases] == [[1, 2, 3]]
    assert [p.name for p in cases[0].accused] == ["Drs. Heru Santoso"]


def test_the_timeline_lists_each_stage_once_from_its_first_report() -> None:
    (case,) = link_cases(stories("camat-report", "camat-summoned", "camat-sanctioned"))
    assert [(e.stage, e.date[:10]) for e in case.timeline] == [
        ("reported", "2024-10-02"),
        ("clarification", "2024-10-09"),
        ("recommendation", "2024-11-20"),
        ("decision", "2024-11-20"),
        ("sanction", "2024-11-20"),
    ]
    assert case.stage == "sanction"


def test_a_threatened_sanction_is_not_a_sanction() -> None:
    (case,) = link_cases(stories("camat-summoned"))
    assert "sanction" not in [event.stage for event in case.timeline]


def test_the_same_office_in_a_neighbouring_region_is_another_case() -> None:
    cases = link_cases(stories("camat-report", "camat-neighbour"))
    assert sorted(case.story_ids for case in cases) == [[1], [2]]


def test_the_same_person_in_another_act_is_another_case() -> None:
    cases = link_cases(stories("camat-report", "camat-summoned", "heru-other-act"))
    assert sorted(case.story_ids for case in cases) == [[1, 2], [3]]


def test_an_unnamed_office_and_place_links_to_the_named_holder() -> None:
    cases = link_cases(stories("kades-report", "kades-named"))
    assert [case.story_ids for case in cases] == [[1, 2]]
    assert [p.name for p in cases[0].accused] == ["Sarwono"]


def test_a_round_up_of_two_cases_belongs_to_both_and_keeps_them_apart() -> None:
    cases = link_cases(stories("camat-report", "kades-report", "round-up"))
    assert sorted(case.story_ids for case in cases) == [[1, 3], [2, 3]]


def test_people_always_reported_together_make_one_case() -> None:
    cases = link_cases(stories("eight-asn", "eight-asn-recommended"))
    assert [case.story_ids for case in cases] == [[1, 2]]
    assert [p.name for p in cases[0].accused] == ["A.B.", "C.D.", "E.F."]


def test_the_same_initials_in_another_office_are_another_person() -> None:
    cases = link_cases(stories("eight-asn", "initials-other-office"))
    assert sorted(case.story_ids for case in cases) == [[1], [2]]


def test_the_whole_fixture_links_exactly_the_expected_threads() -> None:
    names = list(yaml.safe_load(THREADS.read_text(encoding="utf-8")))
    cases = link_cases(stories(*names))
    linked = {tuple(names[i - 1] for i in case.story_ids) for case in cases}
    assert linked == {
        ("camat-report", "camat-summoned", "camat-sanctioned", "round-up"),
        ("camat-neighbour",),
        ("heru-other-act",),
        ("kades-report", "kades-named", "round-up"),
        ("eight-asn", "eight-asn-recommended"),
        ("initials-other-office",),
        ("heru-after-sanction",),
    }


def test_a_stage_file_with_a_bad_entry_names_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "case_stages.yaml"
    bad.write_text("stages:\n  - id: reported\n    label: x\n    order: -1\n    cues: [a]\n")
    with pytest.raises(
        ConfigError, match=r"case_stages\.yaml: stages\[0\] \(id 'reported'\)\.order"
    ):
        load_stage_reader(bad)


def person(name: str | None, position: str) -> Accused:
    return Accused(name, position)


GENERIC = load_stage_reader().office_words


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (person("LMZ", "Camat"), person("Lalu Muhammad Zulkarnaen", "Camat Sakra Barat")),
        (person("Lalu M. Zulkarnaen", None), person("Lalu Muhammad Zulkarnaen", "Camat")),
        (person("Yohanis W.", "Kepala Distrik"), person("Yohanis Wally, S.IP.", "Kepala")),
        (person("Hj. R", "Lurah"), person("Rahmawati", "Lurah Loa Ipuh")),
        (person(None, "Camat Siborongborong"), person("Parlindungan S", "Camat Siborongborong")),
    ],
)
def test_one_person_named_in_different_ways_is_one_person(a: Accused, b: Accused) -> None:
    assert same_person(a, b, GENERIC)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (person("LMZ", "Camat"), person("Lalu Zulkarnaen", "Camat")),
        (person("Yohanis W.", None), person("Yohanis Kogoya", None)),
        (person("Hj. R", "Lurah"), person("Rahmawati", "Guru")),
        (person(None, "Camat"), person(None, "Camat Siborongborong")),
        (person(None, "Kepala Desa"), person("Sarwono", "Kepala Desa Talang Sali")),
    ],
)
def test_different_or_unidentifiable_people_are_not_one_person(a: Accused, b: Accused) -> None:
    assert not same_person(a, b, GENERIC)


def test_a_new_act_after_the_case_was_closed_is_another_case() -> None:
    cases = link_cases(stories("camat-report", "camat-sanctioned", "heru-after-sanction"))
    assert sorted(case.story_ids for case in cases) == [[1, 2], [3]]
