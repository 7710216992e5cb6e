"""Office scope (which regions an office sees) and the generated national list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from test_alerts_support import fixture_offices, office

from alerts.offices import (
    covers,
    generate_offices,
    offices_yaml,
    recipients,
)
from pantau.core.settings import ConfigError, OfficeConfig, OfficesFile, load_model


@dataclass(frozen=True)
class FakeRegion:
    code: str
    name: str
    province: str


PROVINCES = [
    FakeRegion("33", "Jawa Tengah", "Jawa Tengah"),
    FakeRegion("17", "Bengkulu", "Bengkulu"),
]
REGENCIES = [
    FakeRegion("17.08", "Kabupaten Kepahiang", "Bengkulu"),
    FakeRegion("17.71", "Kota Bengkulu", "Bengkulu"),
    FakeRegion("33.10", "Kabupaten Klaten", "Jawa Tengah"),
]


@pytest.mark.parametrize(
    ("office_id", "region", "expected"),
    [
        ("ri", "17.08", True),
        ("ri", None, True),
        ("prov-17", "17.08", True),
        ("prov-17", "17", True),
        ("prov-17", "33.10", False),
        ("prov-17", "71.08", False),  # "17" is a prefix of the text, not of the code
        ("prov-17", None, False),
        ("kabkota-17.08", "17.08", True),
        ("kabkota-17.08", "17.71", False),
        ("kabkota-17.08", "17", False),
    ],
)
def test_an_office_sees_its_own_region_and_what_lies_inside_it(office_id, region, expected):
    assert covers(office(fixture_offices(), office_id), region) is expected


def test_generate_lists_ri_then_each_province_followed_by_its_kabupaten_kota():
    offices = generate_offices(PROVINCES, REGENCIES)
    assert [o.id for o in offices] == [
        "ri",
        "prov-17",
        "kabkota-17.08",
        "kabkota-17.71",
        "prov-33",
        "kabkota-33.10",
    ]
    assert [o.name for o in offices[:4]] == [
        "Bawaslu RI",
        "Bawaslu Provinsi Bengkulu",
        "Bawaslu Kabupaten Kepahiang",
        "Bawaslu Kota Bengkulu",
    ]
    assert [o.level for o in offices[:3]] == ["ri", "provinsi", "kabkota"]
    assert offices[1].regions == ["17"] and offices[2].regions == ["17.08"]


def test_generated_offices_have_no_recipients_yet():
    offices = generate_offices(PROVINCES, REGENCIES)
    assert len(offices) == 6
    assert all(recipients(office) == [] for office in offices)


def test_generated_yaml_loads_back_as_a_valid_offices_file(tmp_path: Path):
    offices = generate_offices(PROVINCES, REGENCIES)
    path = tmp_path / "offices.yaml"
    path.write_text(offices_yaml(offices), encoding="utf-8")
    assert load_model(path, OfficesFile).offices == offices
    assert path.read_text(encoding="utf-8").startswith("# Bawaslu offices")


def test_the_national_list_has_1_ri_38_provinces_and_514_kabupaten_kota():
    regions = pytest.importorskip("extract.regions")
    gazetteer = regions.load_gazetteer()
    offices = generate_offices(gazetteer.provinces, gazetteer.regencies)
    levels = [o.level for o in offices]
    assert (levels.count("ri"), levels.count("provinsi"), levels.count("kabkota")) == (1, 38, 514)
    assert len({o.id for o in offices}) == len(offices)


def test_recipients_are_to_then_cc_each_once_as_bare_addresses():
    entry = OfficeConfig(
        id="x",
        name="X",
        level="kabkota",
        regions=["17.08"],
        to=["Ketua <ketua@kepahiang.example.id>", "staf@kepahiang.example.id"],
        cc=["staf@kepahiang.example.id", "arsip@kepahiang.example.id"],
    )
    assert recipients(entry) == [
        "ketua@kepahiang.example.id",
        "staf@kepahiang.example.id",
        "arsip@kepahiang.example.id",
    ]


@pytest.mark.parametrize(
    "address, problem",
    [
        ("no-at-sign", "must have an @-sign"),
        ("a@b.id\nBcc: x@y.id", "line feed characters are not allowed"),
        ("Ketua <ketua@kepahiang>", "It should have a period"),
    ],
)
def test_a_malformed_address_fails_at_load_naming_the_office(tmp_path: Path, address, problem):
    offices = [
        {"id": "ri", "name": "Bawaslu RI", "level": "ri", "to": ["ri@example.id"]},
        {"id": "kab-17.08", "name": "X", "level": "kabkota", "to": ["ok@example.id", address]},
    ]
    path = tmp_path / "offices.yaml"
    path.write_text(yaml.safe_dump({"offices": offices}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_model(path, OfficesFile)
    assert str(err.value).startswith(f"{path}: offices[1] (id 'kab-17.08').to[1]:")
    assert "value is not a valid email address" in str(err.value)
    assert problem in str(err.value)


def test_the_shipped_offices_yaml_is_valid():
    from pantau.core.settings import load_offices

    assert load_offices()
