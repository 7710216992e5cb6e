"""The people of a story and the part each plays: the accused, and why everyone else is not.

Every position mention the detector found becomes a person with a role: *accused* (bound to
neutrality and the subject of an evidence sentence), *reporter* of the case, *investigator* /
supervisor, *speaker* (quoted, or acting on the case), *candidate* (or campaign team), or
*other*. Each carries the cue and the sentence that decided it, so an analyst (`pantau
analyze --explain`) and `pantau eval` can see why someone is, or is not, accused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from extract.detect.officials import Mention
from extract.detect.sentences import SentenceCues

Role = Literal["accused", "reporter", "investigator", "speaker", "candidate", "other"]
REPORTING_WORDS = ("melaporkan", "mengadukan", "melapor", "mengadu")


@dataclass(frozen=True)
class Person:
    """One person of the story as the detector read them."""

    name: str | None
    position: str
    role: Role
    reason: str
    sentence: str

    def label(self) -> str:
        return self.name or self.position

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def accused_reason(cues: SentenceCues) -> str:
    """Why an evidence sentence makes its subject the accused: its allegation and act cues."""
    parts = []
    if allegation := cues.words.get("allegation"):
        parts.append(f"allegation '{allegation}'")
    acts = sorted(cues.acts)
    if acts:
        parts.append(f"act {', '.join(acts)}")
    said = " and ".join(parts) if parts else "an act told nearby"
    return f"bound to neutrality; the evidence sentence has {said}"


def role_of(mention: Mention, cues: SentenceCues) -> tuple[Role, str]:
    """The role of a mention that is not among the accused, and why."""
    rule = mention.rule
    cue = mention.speaker_cue
    if cue is not None and cue.startswith(REPORTING_WORDS):
        return "reporter", f"subject of '{cue}'"
    if cue is not None and cue.startswith(("selaku", "sebagai")):
        return "other", f"heard as a witness or superior ('{cue}')"
    if not rule.bound_to_neutrality:
        if rule.role != "other":
            return rule.role, f"position {rule.name} is not bound to neutrality"
        return "other", f"position {rule.name} is not bound to neutrality"
    if cue is not None:
        return "speaker", f"speaks or acts on the case ('{cue}')"
    if mention.recipient and rule.oversees:
        return "investigator", "an authority the case is handed to"
    if mention.former:
        return "other", "a former holder of the position"
    if mention.group:
        return "other", "a group, not one person"
    if mention.identifiability == 0:
        return "other", "not identifiable (no name, initials or place)"
    if cues.advisory >= 1.0:
        return "other", f"the sentence is advice or a rule ('{cues.words.get('advisory', '')}')"
    if cues.conditional >= 1.0:
        return "other", "the sentence is hypothetical"
    if cues.past >= 1.0:
        return "other", "the sentence tells past or general cases"
    return "other", "no sentence alleges an act of theirs"


def describe(
    mentions: list[Mention],
    accused: dict[int, tuple[str, str]],
    cues: list[SentenceCues],
    overruled: dict[int, tuple[str, str]] | None = None,
) -> list[Person]:
    """One person per distinct (name or position, role), in the order of the story.

    ``accused``: id() of each accused mention -> why it was accused and the evidence sentence;
    ``overruled``: the same for those the rules accused and the accused-person model did not.
    """
    people: list[Person] = []
    seen: set[tuple[str, str]] = set()
    accused_names = {m.name.lower() for m in mentions if id(m) in accused and m.name}
    for mention in sorted(mentions, key=lambda m: m.start):
        if id(mention) not in accused and (mention.name or "").lower() in accused_names:
            continue  # the accused, mentioned again in a quote or a rule
        if mention.sent >= len(cues):
            continue
        text = cues[mention.sent].text
        if id(mention) in accused:
            role: Role = "accused"
            reason, text = accused[id(mention)]
        elif overruled and id(mention) in overruled:
            role = "other"
            reason, text = overruled[id(mention)]
        elif not mention.name and not mention.rule.specific:
            continue  # "warga", "ASN" in general: not a person of the story
        else:
            role, reason = role_of(mention, cues[mention.sent])
        key = ((mention.name or mention.position_text).lower(), role)
        if key in seen:
            continue
        seen.add(key)
        people.append(Person(mention.name, mention.position_text, role, reason, text))
    return people
