"""Case threads: the stories that report one suspected breach, and how far it has gone.

A case is first reported by one outlet, copied by others (one story, see dedup), then
written up again when Bawaslu summons the official, recommends a sanction or the official
is sanctioned. Those later reports are stories of their own; this module links them by
the accused (name, initials + office, or office + place when unnamed) within one region
and a time window, and reads the stage each article reports.

Plain values in and out: the application loads the stories from the store and keeps the
case ids stable between runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pantau.core.calendar import parse_iso
from pantau.core.settings import DEFAULT_CONFIG_DIR, StrictModel, load_model

DEFAULT_STAGES_FILE = DEFAULT_CONFIG_DIR / "rules" / "case_stages.yaml"
DEFAULT_CUES_FILE = DEFAULT_CONFIG_DIR / "rules" / "cues.yaml"
REPORTED = "reported"
# Later reports of one case come weeks or months apart (summons, recommendation, BKN's
# decision); a report of the same person after this long is taken as another case.
CASE_WINDOW = timedelta(days=240)
# Reports of a sanction or a stop keep arriving for a few days (copies, reactions).
CASE_CLOSED_GRACE = timedelta(days=7)

# --- the stage cues (config/rules/case_stages.yaml) -------------------------------------


class StageRule(StrictModel):
    id: str = Field(pattern=r"^[a-z_]+$")
    label: str
    order: int = Field(ge=0)
    cues: list[str] = Field(min_length=1)
    ends_case: bool = False


class Blockers(StrictModel):
    window: int = Field(3, ge=0)
    words: list[str] = []


class StagesFile(StrictModel):
    stages: list[StageRule] = Field(min_length=1)
    blockers: Blockers = Blockers()
    office_words: list[str] = []


@dataclass(frozen=True)
class StageReader:
    """Finds the stages an article reports: cue phrases not blocked by negation or future."""

    rules: tuple[StageRule, ...]
    blockers: frozenset[str]
    window: int
    office_words: frozenset[str] = frozenset()

    @property
    def final_stages(self) -> frozenset[str]:
        return frozenset(rule.id for rule in self.rules if rule.ends_case)

    @property
    def order(self) -> dict[str, int]:
        return {rule.id: rule.order for rule in self.rules}

    def label(self, stage: str) -> str:
        return next((rule.label for rule in self.rules if rule.id == stage), stage)

    def stages_in(self, text: str) -> dict[str, str]:
        """Stage id -> the first sentence that reports it (`reported` only if cued)."""
        found: dict[str, str] = {}
        for sentence in split_sentences(text):
            words = sentence.lower().split()
            folded = " ".join(re.sub(r"[^\w-]", "", word) for word in words)
            for rule in self.rules:
                if rule.id not in found and self._cued(folded, rule.cues):
                    found[rule.id] = sentence
        return found

    def _cued(self, folded: str, cues: Iterable[str]) -> bool:
        padded = f" {folded} "
        for cue in cues:
            start = padded.find(f" {cue} ")
            while start >= 0:
                before = padded[:start].split()[-self.window :] if self.window else []
                if not self.blockers.intersection(before):
                    return True
                start = padded.find(f" {cue} ", start + 1)
        return False


@lru_cache(maxsize=4)
def load_stage_reader(path: Path | None = None) -> StageReader:
    rules = load_model(path or DEFAULT_STAGES_FILE, StagesFile)
    return StageReader(
        rules=tuple(rules.stages),
        blockers=frozenset(rules.blockers.words),
        window=rules.blockers.window,
        office_words=frozenset(word.lower() for word in rules.office_words),
    )


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


# --- what the linker reads ----------------------------------------------------------------


@dataclass(frozen=True)
class Accused:
    name: str | None
    position: str | None


@dataclass(frozen=True)
class ReportArticle:
    article_id: int
    url: str
    site: str
    published: str | None
    title: str
    text: str


@dataclass(frozen=True)
class StoryReport:
    """One story (copies folded) with the accused and categories its findings name."""

    story_id: int
    region_code: str | None
    accused: tuple[Accused, ...]
    violations: tuple[str, ...]
    articles: tuple[ReportArticle, ...]

    @property
    def first_published(self) -> datetime | None:
        dates = [parse_date(a.published) for a in self.articles]
        known = [d for d in dates if d is not None]
        return min(known) if known else None


@dataclass
class StageEvent:
    stage: str
    label: str
    date: str | None
    article_id: int
    url: str
    sentence: str


@dataclass
class CaseThread:
    """Stories linked as one suspected breach, with the stages read from their articles."""

    stories: list[StoryReport]
    accused: list[Accused] = field(default_factory=list)
    timeline: list[StageEvent] = field(default_factory=list)

    @property
    def story_ids(self) -> list[int]:
        return sorted(story.story_id for story in self.stories)

    @property
    def region_code(self) -> str | None:
        codes = [s.region_code for s in self.stories if s.region_code]
        return max(codes, key=len) if codes else None

    @property
    def violations(self) -> list[str]:
        return sorted({v for story in self.stories for v in story.violations})

    @property
    def stage(self) -> str:
        return self.timeline[-1].stage if self.timeline else REPORTED


# --- who is who ---------------------------------------------------------------------------


class NameTitles(BaseModel):
    """Only the titles of cues.yaml (the detector validates the whole file)."""

    model_config = ConfigDict(extra="ignore")
    academic_titles: list[str] = []


@lru_cache(maxsize=4)
def title_words(path: Path | None = None) -> frozenset[str]:
    """Titles dropped before comparing names (H., Hj., Drs., S.Pd., M.Si. ...), compared
    without dots or case as the detector compares them."""
    titles = load_model(path or DEFAULT_CUES_FILE, NameTitles).academic_titles
    return frozenset(t.replace(".", "").replace(" ", "").lower() for t in titles)


def name_words(name: str) -> list[str]:
    """A name's words in order, case kept, without brackets, what follows a comma (academic
    titles), inner dots ("A.R." is one word, "S.Pd" is "SPd") and titles."""
    name = re.sub(r"\(.*?\)", " ", name).split(",")[0]
    words = (re.sub(r"[^\w]", "", word) for word in name.split())
    return [w for w in words if w and w.lower() not in title_words()]


def parse_date(value: str | None) -> datetime | None:
    parsed = parse_iso(value, naive=None)
    return parsed.replace(tzinfo=None) if parsed else None


def is_initials(name: str) -> bool:
    """ "AB", "A.R.", "Hj. R": capitals only once titles are dropped, five letters at most."""
    tokens = name_words(name)
    return (
        bool(tokens)
        and all(t.isalpha() and t.isupper() for t in tokens)
        and (len("".join(tokens)) <= 5)
    )


def office_words(position: str | None) -> frozenset[str]:
    return frozenset(re.sub(r"[^\w\s]", " ", (position or "").lower()).split())


def same_person(a: Accused, b: Accused, generic: frozenset[str] = frozenset()) -> bool:
    """The same accused in two reports.

    Full names agree when every word of the shorter is a word of the longer, or its initial
    ("Lalu M. Zulkarnaen", "Yohanis W."). Initials agree with the initials of a full name
    ("LMZ"), or with equal initials on the same kind of office; a single letter only on the
    same office. An unnamed accused is an office at a place ("Camat Siborongborong"); a bare
    office ("Kepala Desa", words in `generic`) names nobody in particular.
    """
    if a.name and b.name:
        initials_a, initials_b = is_initials(a.name), is_initials(b.name)
        if initials_a and initials_b:
            return letters(a.name) == letters(b.name) and offices_agree(a, b)
        if initials_a or initials_b:
            short, full = (a, b) if initials_a else (b, a)
            return initials_of_name(short, full)
        return names_agree(name_tokens(a.name), name_tokens(b.name))
    return same_office(a, b, generic)


def letters(name: str) -> str:
    return "".join(name_words(name)).upper()


def initials_of_name(short: Accused, full: Accused) -> bool:
    tokens = name_tokens(full.name or "")
    wanted = letters(short.name or "")
    if len(wanted) == 1:  # "Hj. R": too thin alone, so only on the same office
        return len(tokens) == 1 and tokens[0][0].upper() == wanted and offices_agree(short, full)
    return len(tokens) >= 2 and "".join(t[0] for t in tokens).upper() == wanted


def names_agree(a: list[str], b: list[str]) -> bool:
    shorter, longer = sorted((a, b), key=len)
    if not shorter or not any(len(word) >= 3 and word in longer for word in shorter):
        return False
    for word in shorter:
        if len(word) >= 3 and word not in longer:
            return False
        if len(word) < 3 and not any(other.startswith(word) for other in longer):
            return False
    return True


def name_tokens(name: str) -> list[str]:
    return [word.lower() for word in name_words(name)]


def offices_agree(a: Accused, b: Accused) -> bool:
    """Two offices of one kind: the shorter's words are all in the longer's (or unknown)."""
    words_a, words_b = office_words(a.position), office_words(b.position)
    if not words_a or not words_b:
        return True
    shorter, longer = sorted((words_a, words_b), key=len)
    return shorter <= longer


def same_office(a: Accused, b: Accused, generic: frozenset[str]) -> bool:
    """One office at one place: the shorter position is inside the longer and names more
    than the office itself ("Camat Siborongborong", not "Camat")."""
    words_a, words_b = office_words(a.position), office_words(b.position)
    shorter, longer = sorted((words_a, words_b), key=len)
    return bool(shorter - generic) and shorter <= longer


def same_region(a: str | None, b: str | None) -> bool:
    """Equal codes, or a province and a kabupaten/kota inside it; unknown never links."""
    if not a or not b:
        return False
    return a == b or (len(a) == 2 and b.startswith(a + ".")) or (len(b) == 2 and a.startswith(b))


def close_in_time(a: StoryReport, b: StoryReport) -> bool:
    first_a, first_b = a.first_published, b.first_published
    if first_a is None or first_b is None:
        return True
    return abs(first_a - first_b) <= CASE_WINDOW


# --- linking --------------------------------------------------------------------------------


def same_act(a: StoryReport, b: StoryReport) -> bool:
    """Same region, close in time, and not two different acts.

    Two stories that both name categories are one act only when they share one. A story
    that names none (a summons or sanction report seldom restates the act) follows an act
    reported before it, never one reported after it.
    """
    if not same_region(a.region_code, b.region_code) or not close_in_time(a, b):
        return False
    if a.violations and b.violations:
        return bool(set(a.violations) & set(b.violations))
    follow_up, act = (a, b) if not a.violations else (b, a)
    started, reported = follow_up.first_published, act.first_published
    return started is None or reported is None or started >= reported


def ends_case(story: StoryReport, reader: StageReader) -> bool:
    """The story reports a sanction or a stop: the case it belongs to is over."""
    return any(
        stage in reader.final_stages
        for article in story.articles
        for stage in reader.stages_in(f"{article.title}. {article.text}")
    )


def ended_between(
    a: StoryReport, b: StoryReport, endings: Sequence[StoryReport], reader: StageReader
) -> bool:
    """A report of a new act by the same person after their case was closed (sanctioned or
    stopped) starts another case, even when it recalls the old one."""
    earlier, later = sorted((a, b), key=lambda s: s.first_published or datetime.max)
    start, end = earlier.first_published, later.first_published
    if not later.violations or start is None or end is None:
        return False
    for ending in endings:
        moment = ending.first_published
        if ending is later or moment is None or not start <= moment < end - CASE_CLOSED_GRACE:
            continue
        # The ending names the later report's accused, or the earlier's (one person, told by
        # name in one report and by office in the other).
        people = [*later.accused, *earlier.accused]
        if any(same_person(x, y, reader.office_words) for x in ending.accused for y in people):
            return True
    return False


class _Groups:
    """Union-find over (story, person) mentions."""

    def __init__(self, keys: Iterable[tuple[int, int]]):
        self.parent = {key: key for key in keys}

    def root(self, key: tuple[int, int]) -> tuple[int, int]:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        self.parent[self.root(b)] = self.root(a)


def candidate_pairs(stories: Sequence[StoryReport]) -> Iterator[tuple[int, int]]:
    """Pairs of stories in one province: only those can be one case (see `same_region`),
    so linking costs grow with the busiest province, not with the whole country."""
    by_province: dict[str, list[int]] = {}
    for i, story in enumerate(stories):
        if story.region_code:
            by_province.setdefault(story.region_code[:2], []).append(i)
    for members in by_province.values():
        for n, i in enumerate(members):
            for j in members[n + 1 :]:
                yield i, j


def link_cases(
    stories: Sequence[StoryReport], reader: StageReader | None = None
) -> list[CaseThread]:
    """Group stories into cases, oldest case first.

    Each accused person of each story is followed across stories on its own, so a
    round-up that reports two cases belongs to both; people always reported together
    (eight ASN at one campaign event) make one case with several accused.
    """
    reader = reader or load_stage_reader()
    mentions = [(i, k) for i, story in enumerate(stories) for k in range(len(story.accused))]
    groups = _Groups(mentions)
    endings = [story for story in stories if ends_case(story, reader)]
    for i, j in candidate_pairs(stories):
        first, second = stories[i], stories[j]
        pairs = [
            ((i, k), (j, m))
            for k, x in enumerate(first.accused)
            for m, y in enumerate(second.accused)
            if same_person(x, y, reader.office_words)
        ]
        if pairs and same_act(first, second) and not ended_between(first, second, endings, reader):
            for a, b in pairs:
                groups.join(a, b)
    threads: dict[tuple[int, int], set[int]] = {}
    for key in mentions:
        threads.setdefault(groups.root(key), set()).add(key[0])
    by_stories: dict[frozenset[int], list[tuple[int, int]]] = {}
    for root, members in threads.items():
        by_stories.setdefault(frozenset(members), []).append(root)
    unaccused = [{i} for i, story in enumerate(stories) if not story.accused]
    cases = [
        build_case([stories[i] for i in members], reader, people=roots, stories_all=stories)
        for members, roots in by_stories.items()
    ] + [build_case([stories[i] for i in members], reader) for members in unaccused]
    return sorted(cases, key=lambda case: (case_start(case), case.story_ids))


def case_start(case: CaseThread) -> datetime:
    dates = [s.first_published for s in case.stories if s.first_published]
    return min(dates) if dates else datetime.max


def build_case(
    stories: list[StoryReport],
    reader: StageReader,
    people: Sequence[tuple[int, int]] = (),
    stories_all: Sequence[StoryReport] = (),
) -> CaseThread:
    """`people`: one (story index, accused index) mention of each person the case follows."""
    stories = sorted(stories, key=lambda s: (s.first_published or datetime.max, s.story_id))
    followed = [stories_all[i].accused[k] for i, k in people]
    named = [
        person
        for person in merge_accused(stories, reader.office_words)
        if not followed or any(same_person(person, f, reader.office_words) for f in followed)
    ]
    return CaseThread(stories=stories, accused=named, timeline=timeline(stories, reader))


def merge_accused(
    stories: Iterable[StoryReport], generic: frozenset[str] = frozenset()
) -> list[Accused]:
    """Each person once, under the fullest name any report gives."""
    merged: list[Accused] = []
    for story in stories:
        for person in story.accused:
            known = next((i for i, m in enumerate(merged) if same_person(m, person, generic)), None)
            if known is None:
                merged.append(person)
            elif len(person.name or "") > len(merged[known].name or ""):
                merged[known] = person
    return merged


def timeline(stories: Iterable[StoryReport], reader: StageReader) -> list[StageEvent]:
    """Each stage once, from the earliest article that reports it, in the order of stages.

    Every case starts as `reported` on its first article."""
    articles = sorted(
        (a for s in stories for a in s.articles),
        key=lambda a: (parse_date(a.published) or datetime.max, a.article_id),
    )
    events: dict[str, StageEvent] = {}
    for article in articles:
        stages = reader.stages_in(f"{article.title}. {article.text}")
        stages.setdefault(REPORTED, article.title)
        for stage, sentence in stages.items():
            if stage not in events:
                events[stage] = StageEvent(
                    stage=stage,
                    label=reader.label(stage),
                    date=article.published,
                    article_id=article.article_id,
                    url=article.url,
                    sentence=sentence,
                )
    order = reader.order
    return sorted(events.values(), key=lambda e: (order.get(e.stage, 0), e.date or ""))
