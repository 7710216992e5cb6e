"""Two figures per story, kept apart: how sure Pantau is, and how serious the act is.

*Confidence* is how likely the story really accuses the person named. It is calibrated on the
labelled development sets (110 written + 45 real articles + the fixture corpus, detector
1.2): of the stories reported as a breach, those naming every accused with two or more
evidence sentences were right 92% of the time, with one sentence 75%; stories whose accused is
known only by position 33%, stories without any accused 50%. A detection score below 0.75
lowers it further. *Seriousness* is the SKB's usual sanction level for the acts (the heaviest
of each category's lightest listed level), so a like on a post and the use of a state car are
told apart whatever the confidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.categories import Catalog

if TYPE_CHECKING:
    from alerts.selection import Story

NAMED_WELL_EVIDENCED = 0.9
NAMED = 0.75
POSITION_ONLY = 0.35
NOBODY = 0.5
WEAK_SCORE = 0.75
WEAK_FACTOR = 0.85

# Seriousness in the digest's words, lightest first; the colour band of each.
SERIOUSNESS_BAND = {"moral": "rendah", "ringan": "rendah", "sedang": "sedang", "berat": "tinggi"}
SERIOUSNESS_BAND["pidana"] = "tinggi"


def confidence(story: Story) -> float:
    """How likely the story accuses the people it names (0..1, calibrated)."""
    if not story.accused:
        value = NOBODY
    elif all(person.name for person in story.accused):
        value = NAMED_WELL_EVIDENCED if len(story.evidence) >= 2 else NAMED
    else:
        value = POSITION_ONLY
    if story.score < WEAK_SCORE:
        value *= WEAK_FACTOR
    return round(value, 2)


def confidence_words(value: float) -> str:
    if value >= 0.85:
        return "tinggi"
    if value >= 0.6:
        return "sedang"
    return "rendah"


def seriousness(story: Story, catalog: Catalog) -> str | None:
    """The SKB sanction level the acts usually carry (moral .. pidana), if known."""
    return catalog.usual_level(story.violations)


def seriousness_rank(story: Story, catalog: Catalog) -> int:
    level = seriousness(story, catalog)
    order = list(catalog.levels)
    return order.index(level) + 1 if level in order else 0
