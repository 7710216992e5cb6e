"""A learnt second opinion on who is accused: the rules propose, the model disposes.

The rules find every person bound to neutrality and pick, sentence by sentence, who an
allegation is about. Tuned on text written for them they carry over only in part to reporting
they have never seen: a witness "dimintai keterangan", a superior who "memanggil" his staff,
the accused's own denial all sit next to the same cue words. The model looks at each candidate
person of a breach story as a whole (where they appear, how often, what words stand around
them, whether the rules accused them) and gives the probability that they are the accused.
Its weights are a logistic regression fitted by ``python -m extract.detect.train_accused``
(``make accused-model``) on the development corpus and shipped in config/rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from extract.detect.officials import Mention
from extract.detect.sentences import SentenceCues
from extract.detect.tokens import Tokens
from extract.models import Official
from pantau.core.settings import StrictModel, load_model

CONTEXT_FILE = "person_context.yaml"
MODEL_FILE = "accused_model.yaml"
CONTEXT_GROUPS = ("accusation", "witness", "responder", "reporter", "speech", "denial")
ACTING_HEADS = frozenset({"pj_bupati", "pj_wali_kota", "pj_gubernur", "sekda"})
FEATURES = (
    "rule_accused",
    "evidence_score",
    "evidence_count",
    "top_evidence",
    "in_title",
    "in_lead",
    "first_position",
    "mentions",
    "speaker_share",
    "full_name",
    "initials",
    "position_only",
    "authority",
    "object_of_case",
    "oknum",
    "kind_village",
    "kind_uniformed",
    "kind_honorer",
    "acting_head",
    "competition",
    *(f"near_{group}" for group in CONTEXT_GROUPS),
)


class PersonContext(StrictModel):
    """person_context.yaml: word groups read around each mention of a person."""

    window: int = Field(ge=1, le=20)
    groups: dict[str, list[str]]

    @field_validator("groups")
    @classmethod
    def _known_groups(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = [g for g in CONTEXT_GROUPS if g not in groups]
        if missing:
            raise ValueError(f"missing group(s): {', '.join(missing)}")
        unknown = [g for g in groups if g not in CONTEXT_GROUPS]
        if unknown:
            raise ValueError(f"unknown group(s): {', '.join(unknown)}")
        return {g: [" ".join(p.lower().split()) for p in phrases] for g, phrases in groups.items()}


class AccusedModel(StrictModel):
    """accused_model.yaml: the fitted weights, the cut-off and what they were fitted on."""

    features: list[str]
    weights: list[float]
    bias: float
    threshold: float = Field(gt=0.0, lt=1.0)
    # Where nobody reaches the threshold in a breach story, the rules' likeliest accused is
    # kept when the model gives at least this much.
    floor: float = Field(default=0.15, ge=0.0, lt=1.0)
    trained_on: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _matches_code(self) -> AccusedModel:
        if list(self.features) != list(FEATURES):
            raise ValueError(
                "features differ from the code's; rebuild it with `make accused-model`"
            )
        if len(self.weights) != len(self.features):
            raise ValueError("one weight per feature is needed")
        return self

    def probability(self, features: dict[str, float]) -> float:
        pairs = zip(FEATURES, self.weights, strict=True)
        z = self.bias + sum(weight * features[name] for name, weight in pairs)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def load_person_context(rules_dir: Path) -> PersonContext:
    return load_model(rules_dir / CONTEXT_FILE, PersonContext)


def load_accused_model(rules_dir: Path) -> AccusedModel | None:
    """The shipped model, or None where none was built (the rules alone decide)."""
    path = rules_dir / MODEL_FILE
    return load_model(path, AccusedModel) if path.is_file() else None


@dataclass
class Candidate:
    """One person of a breach story who might be the accused."""

    official: Official
    mentions: list[Mention]
    rule_accused: bool
    features: dict[str, float] = field(default_factory=dict)
    probability: float | None = None


class FeatureReader:
    """Turns a candidate person into the model's features."""

    def __init__(self, context: PersonContext) -> None:
        self.window = context.window
        self.groups = {g: [f" {p} " for p in phrases] for g, phrases in context.groups.items()}

    def read(
        self,
        candidate: Candidate,
        tokens: Tokens,
        cues: list[SentenceCues],
        evidence_scores: dict[int, list[float]],
        competitors: int,
    ) -> dict[str, float]:
        mentions = candidate.mentions
        sents = sorted({m.sent for m in mentions})
        scores = [s for m in mentions for s in evidence_scores.get(id(m), [])]
        best_overall = max((s for v in evidence_scores.values() for s in v), default=0.0)
        kinds = {m.rule.kind for m in mentions}
        ids = {m.rule.id for m in mentions}
        near = self._near(mentions, tokens)
        name = candidate.official.name
        initials = bool(mentions and any(m.initials for m in mentions if m.name == name))
        features = {
            "rule_accused": float(candidate.rule_accused),
            "evidence_score": max(scores, default=0.0),
            "evidence_count": min(len(scores), 3) / 3,
            "top_evidence": float(bool(scores) and max(scores) >= best_overall),
            "in_title": float(0 in sents),
            "in_lead": float(any(1 <= s <= 3 for s in sents)),
            "first_position": (sents[0] / max(1, len(cues))) if sents else 1.0,
            "mentions": min(len(mentions), 6) / 6,
            "speaker_share": sum(m.speaker for m in mentions) / max(1, len(mentions)),
            "full_name": float(bool(name) and not initials),
            "initials": float(bool(name) and initials),
            "position_only": float(not name),
            "authority": float(any(m.rule.oversees or m.recipient for m in mentions)),
            "object_of_case": float(any(m.case_verb for m in mentions)),
            "oknum": float(any(m.oknum for m in mentions)),
            "kind_village": float("village" in kinds),
            "kind_uniformed": float(bool(kinds & {"tni", "polri"})),
            "kind_honorer": float("honorer" in kinds),
            "acting_head": float(bool(ids & ACTING_HEADS)),
            "competition": 1.0 / max(1, competitors),
        }
        for group in CONTEXT_GROUPS:
            features[f"near_{group}"] = near[group]
        return features

    def _near(self, mentions: list[Mention], tokens: Tokens) -> dict[str, float]:
        """Share of the person's mentions with a phrase of each group close by."""
        hits = dict.fromkeys(CONTEXT_GROUPS, 0)
        lowers = tokens.lowers
        for mention in mentions:
            sentence = tokens.sentence_of[mention.start]
            lo = max(mention.start - self.window, sentence.start)
            hi = min(mention.end + self.window, sentence.end)
            window = f" {' '.join(lowers[lo : mention.start] + lowers[mention.end : hi])} "
            for group, phrases in self.groups.items():
                if any(p in window for p in phrases):
                    hits[group] += 1
        count = max(1, len(mentions))
        return {group: hits[group] / count for group in CONTEXT_GROUPS}
