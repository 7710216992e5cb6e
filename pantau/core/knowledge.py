"""Knowledge files the stages share, each read by one parser and validated on load.

Knowledge (word lists, patterns) lives in YAML an operator can read; a broken entry fails at
load with the file, the entry and the problem (`load_model`), never later in a crawl. A file
missing from an operator's config directory falls back to the shipped one, so a config
directory only needs the files it changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from pantau.core.settings import (
    DEFAULT_CONFIG_DIR,
    ConfigError,
    StrictModel,
    config_dir,
    load_model,
    unique_ids,
)


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return pattern


# A regular expression, checked when its file is loaded.
Regex = Annotated[str, AfterValidator(_compiles)]


def config_file(name: str, directory: Path | None = None) -> Path:
    """`name` in the operator's config directory, else the shipped one."""
    path = config_dir(directory) / name
    return path if path.exists() else DEFAULT_CONFIG_DIR / name


# --- config/furniture.yaml --------------------------------------------------------------


class FurnitureFile(StrictModel):
    article: list[Regex]
    comparison: list[Regex]
    detection: list[Regex]


@dataclass(frozen=True)
class Furniture:
    """Compiled furniture patterns, one list per use (see config/furniture.yaml)."""

    article: tuple[re.Pattern[str], ...]
    comparison: tuple[re.Pattern[str], ...]
    detection: tuple[re.Pattern[str], ...]


def is_furniture(line: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    return any(pattern.search(line) for pattern in patterns)


def load_furniture(directory: Path | None = None) -> Furniture:
    return _furniture(config_file("furniture.yaml", directory))


@lru_cache(maxsize=4)
def _furniture(path: Path) -> Furniture:
    loaded = load_model(path, FurnitureFile)

    def compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)

    return Furniture(
        article=compiled(loaded.article),
        comparison=compiled(loaded.comparison),
        detection=compiled(loaded.detection),
    )


# --- config/rules/violations.yaml -------------------------------------------------------
# The detector finds the acts by their phrases; the digest and the workspace show each
# category's name, legal basis and usual sanction. Both read the file through this model.

SanctionLevel = Literal["moral", "ringan", "sedang", "berat", "pidana"]
# The bodies of law that bind an official (positions.yaml "kind", violations.yaml "for").
Kind = Literal["asn", "honorer", "village", "tni", "polri"]


def clean_phrases(values: list[str]) -> list[str]:
    """Phrases as the detector compares them: lower case, single spaces, none empty."""
    cleaned = []
    for value in values:
        phrase = " ".join(str(value).lower().split())
        if not phrase:
            raise ValueError("empty phrase")
        cleaned.append(phrase)
    return cleaned


class LegalBasis(StrictModel):
    """A law that applies only to some kinds of accused ("UU 6/2014" to village officials)."""

    law: str = Field(min_length=2)
    applies_to: list[Kind] = Field(alias="for", min_length=1)


class ViolationRule(StrictModel):
    # Ids are free: a category added here reaches the findings and the digest.
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    legal_basis: list[str | LegalBasis] = Field(min_length=1)
    sanction: list[SanctionLevel] = Field(min_length=1)
    triggers: list[str] = []
    needs_target: list[str] = []

    @field_validator("triggers", "needs_target")
    @classmethod
    def _phrases(cls, values: list[str]) -> list[str]:
        return clean_phrases(values)

    @model_validator(mode="after")
    def _has_triggers(self) -> ViolationRule:
        if not self.triggers and not self.needs_target:
            raise ValueError("needs at least one phrase in triggers or needs_target")
        return self


class ViolationsFile(StrictModel):
    # The sanction levels in the words the digest uses, lightest first.
    sanction_levels: dict[SanctionLevel, str] = {}
    violations: list[ViolationRule] = Field(min_length=1)

    @field_validator("violations")
    @classmethod
    def _unique(cls, rules: list[ViolationRule]) -> list[ViolationRule]:
        return unique_ids(rules, "category")


def load_violations(path: Path) -> ViolationsFile:
    """The violation taxonomy; a bad entry raises ConfigError naming the file, the entry and
    the problem. Read again only when the file changes."""
    try:
        stat = path.stat()
    except OSError:
        raise ConfigError(f"{path}: file not found") from None
    return _violations(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _violations(path: Path, mtime_ns: int, size: int) -> ViolationsFile:
    return load_model(path, ViolationsFile)
