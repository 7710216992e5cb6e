"""The offline gazetteer: 38 provinces, 514 kabupaten/kota, and the names local news uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.regions import (
    AliasesFile,
    Gazetteer,
    _official_regions,
    load_gazetteer,
    load_kind_words,
)
from pantau.core.settings import ConfigError


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def codes(gazetteer: Gazetteer, text: str) -> list[list[str]]:
    return [[r.code for r in m.candidates] for m in gazetteer.find_in_text(text)]


def test_gazetteer_has_every_province_and_kabupaten_kota(gazetteer: Gazetteer) -> None:
    assert len(gazetteer.provinces) == 38
    assert len(gazetteer.regencies) == 514
    region = gazetteer.get("17.08")
    assert region is not None
    assert (region.name, region.province) == ("Kabupaten Kepahiang", "Bengkulu")
    assert gazetteer.get("17") is not None and gazetteer.get("17").name == "Bengkulu"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kadin Kominfo PALI", "16.12"),
        ("ASN Kotim diingatkan", "62.02"),
        ("Diskominfo PPU", "64.09"),
    ],
)
def test_local_abbreviations_resolve_to_their_kabupaten(
    gazetteer: Gazetteer, text: str, code: str
) -> None:
    assert codes(gazetteer, text) == [[code]]


def test_kota_and_kabupaten_bekasi_are_told_apart_by_context(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Pemkot Bekasi") == [["32.75"]]
    assert codes(gazetteer, "Wali Kota Bekasi") == [["32.75"]]
    assert codes(gazetteer, "Pemkab Bekasi") == [["32.16"]]
    assert codes(gazetteer, "Kabupaten Bekasi") == [["32.16"]]


def test_bare_bekasi_is_ambiguous(gazetteer: Gazetteer) -> None:
    [mention] = gazetteer.find_in_text("warga Bekasi")
    assert mention.ambiguous
    assert {r.code for r in mention.candidates} == {"32.16", "32.75"}


def test_typo_and_abbreviated_context_words_are_understood(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Sekda Kabupeten Kepahiang") == [["17.08"]]
    assert codes(gazetteer, "di Kab. Labuhanbatu Utara dan Labura") == [["12.23"], ["12.23"]]


def test_common_word_names_need_context(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Batu itu besar. Padang rumput luas.") == []
    assert codes(gazetteer, "Pemkot Batu") == [["35.79"]]
    assert codes(gazetteer, "kata Bima Haria Wibisana") == []


def test_kecamatan_names_are_not_used(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Warga Cibinong dan Sukamaju") == []


def test_lookup_by_official_name_or_alias(gazetteer: Gazetteer) -> None:
    region = gazetteer.lookup("Kabupaten Penukal Abab Lematang Ilir")
    assert region is not None and region.code == "16.12"
    alias = gazetteer.lookup("PALI")
    assert alias is not None and alias.code == "16.12"


def test_alias_with_unknown_code_is_reported_with_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        'aliases:\n  - {alias: Kotim, code: "62.02"}\n  - {alias: Xyz, code: "99.99"}\n'
    )
    with pytest.raises(ConfigError, match=r"aliases\.yaml: aliases\[1\] \(alias 'Xyz'\)"):
        load_gazetteer(path)


KINDS = "kabupaten: [kabupaten, pemkab]\nkota: [kota, wali kota]\nprovinsi: [provinsi]\n"


def test_kind_words_come_from_their_file(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(KINDS.replace("[kota, wali kota]", "[kota, wali kota, kotapraja]"))
    gazetteer = Gazetteer(*_official_regions(), AliasesFile(), kind_words=load_kind_words(path))
    assert codes(gazetteer, "warga kotapraja Bogor") == [["32.71"]]
    assert codes(load_gazetteer(), "warga kotapraja Bogor") == [["32.01", "32.71"]]


def test_a_kind_word_under_two_kinds_is_named(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(KINDS.replace("provinsi: [provinsi]", "provinsi: [provinsi, pemkab]"))
    with pytest.raises(ConfigError, match=r"kinds\.yaml: .*'pemkab' is listed under both"):
        load_kind_words(path)


def test_a_kind_word_the_finder_cannot_see_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(KINDS.replace("[kabupaten, pemkab]", "[kabupaten, kab.]"))
    with pytest.raises(ConfigError, match=r"kinds\.yaml: kabupaten: 'kab\.': write lower-case"):
        load_kind_words(path)
