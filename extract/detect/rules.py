"""The detector's knowledge, loaded from config/rules/*.yaml and validated on load.

Every file has a pydantic model; a bad entry raises ConfigError naming the file, the entry and
the problem (via ``pantau.core.settings.load_model``), so an operator can fix a rule without
reading code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pantau.core.knowledge import Kind, ViolationRule, load_violations
from pantau.core.knowledge import clean_phrases as _clean_phrases
from pantau.core.settings import (
    DEFAULT_CONFIG_DIR,
    ConfigError,
    StrictModel,
    load_model,
    unique_ids,
)

DEFAULT_RULES_DIR = DEFAULT_CONFIG_DIR / "rules"


# --- positions.yaml -----------------------------------------------------------------


class PositionRule(StrictModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=2)
    aliases: list[str] = Field(min_length=1)
    bound_to_neutrality: bool
    specific: bool = False
    attaches: Literal["unit", "place", "region", "none"] = "none"
    requires_unit: bool = False
    # Positions of one corps ("tni": babinsa, ranks): a rank-and-name mention ("Serka DS") and a
    # role-only mention ("oknum Babinsa") of the same story can be one person.
    family: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    # The part a holder of an unbound position plays in a story (`analyze --explain`).
    role: Literal["investigator", "candidate", "reporter", "other"] = "other"
    kind: Kind = "asn"
    # Local titles shown as written ("wali nagari" -> "Wali Nagari"), keyed by alias.
    titles: dict[str, str] = {}
    # An authority a case is handed to ("... diteruskan kepada Pj Bupati"): never accused
    # when the story only sends it the case.
    oversees: bool = False

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, values: list[str]) -> list[str]:
        return _clean_phrases(values)

    @model_validator(mode="after")
    def _titles_are_aliases(self) -> PositionRule:
        unknown = sorted(set(self.titles) - set(self.aliases))
        if unknown:
            raise ValueError(f"titles for unknown aliases: {', '.join(unknown)}")
        return self


class PositionsFile(StrictModel):
    positions: list[PositionRule] = Field(min_length=1)
    unit_words: list[str] = []

    @field_validator("positions")
    @classmethod
    def _unique(cls, positions: list[PositionRule]) -> list[PositionRule]:
        return unique_ids(positions, "position id")


# --- cues.yaml ----------------------------------------------------------------------


class WeightedPhrases(StrictModel):
    weight: float = Field(gt=0, le=1)
    phrases: list[str] = Field(min_length=1)

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, values: list[str]) -> list[str]:
        return _clean_phrases(values)


class CuesFile(StrictModel):
    allegation: list[WeightedPhrases] = Field(min_length=1)
    advisory: list[WeightedPhrases] = Field(min_length=1)
    conditional: list[WeightedPhrases] = []
    conditional_opening: list[WeightedPhrases] = []
    past_general: list[WeightedPhrases] = []
    speech_after: list[str] = []
    speech_before: list[str] = []
    oknum: list[str] = []
    case_verbs: list[str] = []
    name_starts: list[str] = []
    place_words: list[str] = Field(min_length=1)
    place_tails: list[str] = []
    facility_words: list[str] = []
    former_words: list[str] = []
    address_words: list[str] = []
    recipient_words: list[str] = []
    witness_words: list[str] = []
    not_a_person_after: list[str] = []
    object_fillers: list[str] = []
    initials_markers: list[str] = []
    link_words: list[str] = []
    neutrality_terms: list[str] = Field(min_length=1)
    not_names: list[str] = []
    function_words: list[str] = []
    organisation_words: list[str] = []
    ranks: list[str] = []
    academic_titles: list[str] = []
    group_quantifiers: list[str] = []
    counting_words: list[str] = []

    @field_validator(
        "speech_after",
        "speech_before",
        "oknum",
        "case_verbs",
        "name_starts",
        "place_words",
        "place_tails",
        "facility_words",
        "former_words",
        "address_words",
        "recipient_words",
        "witness_words",
        "not_a_person_after",
        "object_fillers",
        "initials_markers",
        "link_words",
        "neutrality_terms",
        "not_names",
        "function_words",
        "organisation_words",
        "ranks",
        "group_quantifiers",
        "counting_words",
    )
    @classmethod
    def _phrases(cls, values: list[str]) -> list[str]:
        return _clean_phrases(values)

    @field_validator("academic_titles")
    @classmethod
    def _titles(cls, values: list[str]) -> list[str]:
        """Compared without dots or case: "S.Pd", "S.Pd." and "SPd" are one title."""
        cleaned = []
        for value in values:
            title = str(value).replace(".", "").replace(" ", "").lower()
            if not title.isalpha():
                raise ValueError(f"academic title {value!r} must be letters and dots")
            cleaned.append(title)
        return cleaned


# violations.yaml: one parser, shared with the digest, in pantau.core.knowledge.


# --- parties.yaml -------------------------------------------------------------------


class PartiesFile(StrictModel):
    parties: list[str] = []
    targets: list[str] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _phrases(cls, values: list[str]) -> list[str]:
        return _clean_phrases(values)


# --- the whole rule set -------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    positions: list[PositionRule]
    unit_words: frozenset[str]
    cues: CuesFile
    violations: list[ViolationRule]
    parties: list[str]
    targets_phrases: list[str]

    @property
    def category_ids(self) -> list[str]:
        """Violation categories in the order of violations.yaml (ties in a finding break so)."""
        return [violation.id for violation in self.violations]

    def position(self, position_id: str) -> PositionRule:
        for position in self.positions:
            if position.id == position_id:
                return position
        raise KeyError(position_id)


def load_rules(rules_dir: Path | None = None) -> RuleSet:
    directory = rules_dir or DEFAULT_RULES_DIR
    if not directory.is_dir():
        raise ConfigError(f"{directory}: rules folder not found")
    positions = load_model(directory / "positions.yaml", PositionsFile)
    cues = load_model(directory / "cues.yaml", CuesFile)
    violations = load_violations(directory / "violations.yaml")
    parties = load_model(directory / "parties.yaml", PartiesFile)
    return RuleSet(
        positions=positions.positions,
        unit_words=frozenset(w.lower() for w in positions.unit_words),
        cues=cues,
        violations=violations.violations,
        parties=parties.parties,
        targets_phrases=parties.targets,
    )
