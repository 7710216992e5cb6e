"""Violation categories as digest readers see them: Indonesian label, legal basis, sanction.

config/rules/violations.yaml is read through the one parser the detector uses too
(`pantau.core.knowledge.load_violations`). A missing or invalid file only costs the labels
here (the detector reports it): the category id is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pantau.core.knowledge import ViolationRule, load_violations
from pantau.core.settings import ConfigError, config_dir

log = logging.getLogger(__name__)

# violations.yaml writes sanctions as short levels and says them in words under
# "sanction_levels", lightest first; these are the words when a file does not.
SANCTION_WORDS = {
    "moral": "sanksi moral (pelanggaran kode etik)",
    "ringan": "hukuman disiplin ringan",
    "sedang": "hukuman disiplin sedang",
    "berat": "hukuman disiplin berat",
    "pidana": "ancaman pidana (UU Pemilu / UU Pilkada)",
}


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    legal_basis: tuple[str, ...] = ()
    sanctions: tuple[str, ...] = ()  # readable words, lightest first
    cues: tuple[str, ...] = ()
    # law -> the kinds of accused it binds (asn, honorer, village, tni, polri); absent: all
    law_kinds: tuple[tuple[str, tuple[str, ...]], ...] = ()
    levels: tuple[str, ...] = ()  # the sanction levels as written (moral .. pidana)

    def laws_for(self, kinds: set[str]) -> list[str]:
        """The laws that bind these kinds of accused (every law when no kind is known)."""
        limited = dict(self.law_kinds)
        return [
            law
            for law in self.legal_basis
            if not kinds or law not in limited or kinds & set(limited[law])
        ]


class Catalog:
    def __init__(self, categories: dict[str, Category], levels: dict[str, str] | None = None):
        self.categories = categories
        self.levels = levels or dict(SANCTION_WORDS)  # level -> words, lightest first

    def usual_level(self, category_ids: list[str]) -> str | None:
        """How serious the acts are by the SKB: the heaviest of their usual (lightest listed)
        sanction levels."""
        order = list(self.levels)
        usual = [
            min(c.levels, key=lambda lv: order.index(lv) if lv in order else len(order))
            for c in (self.get(i) for i in category_ids)
            if c.levels
        ]
        known = [lv for lv in usual if lv in order]
        return max(known, key=order.index) if known else None

    def get(self, category_id: str) -> Category:
        known = self.categories.get(category_id)
        return known or Category(id=category_id, label=category_id.replace("_", " ").capitalize())

    def cues(self, category_ids: list[str]) -> list[str]:
        """Key words of the given categories, to mark in evidence sentences."""
        return sorted({cue for c in category_ids for cue in self.get(c).cues})


def violations_path(directory: Path | None = None) -> Path:
    return config_dir(directory) / "rules" / "violations.yaml"


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or violations_path()
    try:
        loaded = load_violations(path)
    except ConfigError as exc:
        log.warning("violation labels unavailable: %s", exc)
        return Catalog({})
    written: dict[str, str] = {str(level): words for level, words in loaded.sanction_levels.items()}
    levels = written or SANCTION_WORDS
    categories = {rule.id: _category(rule, levels) for rule in loaded.violations}
    return Catalog(categories, written or None)


def _category(rule: ViolationRule, levels: dict[str, str]) -> Category:
    laws: list[str] = []
    law_kinds: list[tuple[str, tuple[str, ...]]] = []
    for basis in rule.legal_basis:
        if isinstance(basis, str):
            if basis.strip():
                laws.append(basis.strip())
        else:
            laws.append(basis.law.strip())
            law_kinds.append((basis.law.strip(), tuple(basis.applies_to)))
    return Category(
        id=rule.id,
        label=rule.name.strip() or rule.id,
        legal_basis=tuple(laws),
        sanctions=tuple(levels.get(level, level) for level in rule.sanction),
        # Triggers name the act by themselves; context words (needs_target) would mark too much.
        cues=tuple(cue for cue in rule.triggers if 2 < len(cue) < 60),
        law_kinds=tuple(law_kinds),
        levels=tuple(rule.sanction),
    )
