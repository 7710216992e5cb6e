"""Violation categories as digest readers see them: Indonesian label, legal basis, sanction.

The detector owns config/rules/violations.yaml; alerts may not import extract, so this reads
the same file on its own and tolerates what it does not need (extra keys, a top-level list or
a mapping). A missing or unreadable file only costs the labels: the category id is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pantau.core.settings import ConfigError, config_dir, read_yaml

log = logging.getLogger(__name__)

# Triggers name the act by themselves; context words (needs_target) would mark too much.
CUE_KEYS = ("triggers", "cues", "keywords", "terms", "phrases")

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


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime: float) -> Catalog:
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        log.warning("violation labels unavailable: %s", exc)
        return Catalog({})
    return Catalog(_parse(data), _levels(data))


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or violations_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        log.warning("violation labels unavailable: %s not found", path)
        return Catalog({})
    return _load_cached(path, mtime)


def _entries(data: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(data, dict):
        for key in ("violations", "categories"):
            if key in data:
                return _entries(data[key])
        return [(str(k), v) for k, v in data.items() if isinstance(v, dict)]
    if isinstance(data, list):
        return [(str(e["id"]), e) for e in data if isinstance(e, dict) and "id" in e]
    return []


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v is not None) or None
    return str(value).strip() or None


def _items(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value] if value else []
    return tuple(str(v).strip() for v in values if v is not None and str(v).strip())


def _cues(entry: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in CUE_KEYS:
        value = entry.get(key)
        if isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str) and 2 < len(v) < 60)
    return tuple(found)


def _levels(data: Any) -> dict[str, str] | None:
    levels = data.get("sanction_levels") if isinstance(data, dict) else None
    if not isinstance(levels, dict) or not levels:
        return None
    return {str(k): str(v) for k, v in levels.items()}


def _laws(value: Any) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """Laws as written, and the kinds of accused each limited one binds."""
    values = value if isinstance(value, list) else [value] if value else []
    laws: list[str] = []
    kinds: list[tuple[str, tuple[str, ...]]] = []
    for item in values:
        if isinstance(item, dict):
            law = _text(item.get("law"))
            if law:
                laws.append(law)
                kinds.append((law, _items(item.get("for"))))
        elif item is not None and str(item).strip():
            laws.append(str(item).strip())
    return tuple(laws), tuple(kinds)


def _parse(data: Any) -> dict[str, Category]:
    levels = _levels(data) or SANCTION_WORDS
    categories: dict[str, Category] = {}
    for category_id, entry in _entries(data):
        laws, law_kinds = _laws(entry.get("legal_basis") or entry.get("dasar_hukum"))
        written = _items(entry.get("sanction") or entry.get("sanksi"))
        categories[category_id] = Category(
            id=category_id,
            label=_text(entry.get("label") or entry.get("name")) or category_id,
            legal_basis=laws,
            sanctions=tuple(levels.get(level.lower(), level) for level in written),
            cues=_cues(entry),
            law_kinds=law_kinds,
            levels=tuple(level.lower() for level in written),
        )
    return categories
