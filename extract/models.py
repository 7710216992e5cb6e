"""Typed values that cross stage boundaries: crawler -> extract -> store -> alerts.

Kept free of Scrapy, spaCy and SQLite so every stage can be called with plain
values, from a test, a local file or a spider alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Verdict = Literal["breach", "advisory", "other"]


@dataclass(frozen=True)
class Page:
    """A fetched document before extraction."""

    url: str
    html: str | bytes
    site: str
    fetched_at: datetime
    source: Literal["crawl", "file"] = "crawl"


@dataclass(frozen=True)
class Article:
    """Clean text and metadata of one page."""

    url: str
    title: str
    text: str
    published: datetime | None = None
    author: str | None = None
    sitename: str | None = None
    lang: str | None = None
    canonical_url: str | None = None

    @property
    def is_indonesian(self) -> bool:
        return self.lang in (None, "id")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    province: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Official:
    """An accused person: named, or identifiable by initials or position + place."""

    name: str | None
    position: str | None
    region: str | None = None
    # Which body of law binds them (asn, honorer, village, tni, polri): the digest lists
    # only the laws for this kind of accused.
    kind: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """What detection concluded about one article (the `pantau analyze` shape)."""

    verdict: Verdict
    score: float
    officials: list[Official] = field(default_factory=list)
    region: Region | None = None
    violations: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    analyzer_version: str = "0"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": round(self.score, 3),
            "officials": [o.to_dict() for o in self.officials],
            "region": self.region.to_dict() if self.region else None,
            "violations": list(self.violations),
            "evidence": list(self.evidence),
        }

    @classmethod
    def not_analysed(cls, analyzer_version: str = "0") -> Finding:
        """For pages kept but not analysed (e.g. not Indonesian)."""
        return cls(verdict="other", score=0.0, analyzer_version=analyzer_version)
