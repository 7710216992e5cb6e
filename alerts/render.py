"""Turn one office's selection into an Indonesian email: subject, plain text, HTML, MIME.

Everything that came from a scraped page is untrusted. It reaches the templates only as plain
strings through Jinja2 autoescaping (HTML) or as text (plain part); header values are
stripped of control characters (no CR/LF can split a header); long titles, names and evidence
are cut at a word boundary; links must be http(s). Styling is inline and table-based, with
no scripts and no remote images, because Outlook, Gmail and phone clients drop the rest.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.categories import Catalog
from alerts.selection import Accused, CaseProgress, Outlet, Selection, Story, StoryUpdate
from alerts.weight import SERIOUSNESS_BAND, confidence, confidence_words, seriousness
from pantau.core.calendar import MONTHS, load_zones, long_date, parse_iso
from pantau.core.settings import OfficeConfig

TEMPLATES = Path(__file__).parent / "templates"

TITLE_LIMIT = 180
NAME_LIMIT = 100
EVIDENCE_LIMIT = 420
EVIDENCE_SENTENCES = 4
OUTLETS_LISTED = 25
# Gmail clips HTML past ~102 KB. A fully detailed story takes ~3-7 KB, a compact one ~1 KB:
# the most serious stories are shown in full in the HTML part and the rest compactly, fewer in
# full if the budget is exceeded, so a long digest stays whole (the plain part has everything).
HTML_BUDGET = 95_000
FULL_STORY_STEPS = (10, 5, 2, 0)
SUBJECT_LIMIT = 200

# Cc/Cf (format), Zl/Zp (line/paragraph separators) and C0/C1 controls can hide text or split
# lines in some clients; they are replaced by spaces before anything is shown.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


def clean_text(value: object) -> str:
    """One line of printable text: controls become spaces, whitespace collapses."""
    text = "" if value is None else str(value)
    text = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def shorten(value: object, limit: int) -> str:
    """Cut at the last word boundary before `limit` characters and mark the cut with '…'."""
    text = clean_text(value)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def safe_url(value: str | None) -> str | None:
    """Only absolute http(s) URLs become links; anything else is shown as text or dropped."""
    if not value:
        return None
    url = value.strip()
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def short_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def format_moment(value: str | None, zone: ZoneInfo) -> str:
    """Store timestamps in local Indonesian form; a bare date stays a date."""
    if not value:
        return "waktu tidak diketahui"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return short_date(date.fromisoformat(value.strip()))
    moment = parse_iso(value)
    if moment is None:
        return clean_text(value)
    local = moment.astimezone(zone)
    abbreviation = load_zones().abbreviation(str(zone.key)) or local.strftime("%Z")
    return f"{short_date(local.date())} {local:%H.%M} {abbreviation}"


def format_score(score: float) -> str:
    return f"{score:.2f}".replace(".", ",")


def severity(score: float) -> str:
    """A band of the detection score (the review workspace colours findings by it)."""
    if score >= 0.8:
        return "tinggi"
    if score >= 0.6:
        return "sedang"
    return "rendah"


@lru_cache(maxsize=512)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Compiling a long alternation costs milliseconds: each term set is compiled once."""
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.IGNORECASE)


def highlight(text: str, *term_groups: Iterable[str]) -> list[tuple[str, bool]]:
    """Split text into (segment, is_key_word) so templates can mark words without raw HTML.

    Groups are matched separately (category cues repeat across stories and stay compiled;
    names change with every story); overlapping matches keep the earliest, longest one.
    """
    spans: list[tuple[int, int]] = []
    for group in term_groups:
        terms = tuple(sorted({t.strip() for t in group if t and len(t.strip()) >= 3}))
        pattern = _term_pattern(terms)
        if pattern is not None:
            spans.extend(match.span() for match in pattern.finditer(text))
    return marked_segments(text, spans)


def marked_segments(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[str, bool]]:
    """(segment, is_marked) pieces of `text`; of overlapping spans the earliest, then the
    longest, wins."""
    segments: list[tuple[str, bool]] = []
    position = 0
    for start, stop in sorted(spans, key=lambda span: (span[0], span[0] - span[1])):
        if start < position:
            continue
        if start > position:
            segments.append((text[position:start], False))
        segments.append((text[start:stop], True))
        position = stop
    if position < len(text) or not segments:
        segments.append((text[position:], False))
    return segments


# --- view model ---------------------------------------------------------------------


@dataclass
class OutletView:
    name: str
    url: str | None
    shown_url: str
    time: str
    copied_from: str | None = None  # "menyalin dari ..." (None for the first publisher)


@dataclass
class StoryView:
    number: int
    cluster_id: int
    title: str
    accused: list[str]
    region: str
    categories: list[str]
    legal_basis: list[str]
    sanctions: list[str]
    evidence: list[list[tuple[str, bool]]]
    score: str  # confidence, "0,90"
    severity: str  # the colour band of the seriousness: rendah, sedang, tinggi
    confidence: str  # "tinggi (0,90)"
    seriousness: str  # "berat (hukuman disiplin berat)"
    first: OutletView | None
    others: list[OutletView]
    others_hidden: int
    review_url: str | None
    full: bool = True  # later stories of a long digest are shown compactly in HTML


@dataclass
class UpdateView:
    cluster_id: int
    title: str
    region: str
    sent_at: str
    new_outlets: list[OutletView]
    total_outlets: int
    review_url: str | None


@dataclass
class ProgressView:
    """A later report of a case the office already heard of ("Perkembangan kasus")."""

    case_id: int
    cluster_id: int
    title: str
    accused: list[str]
    region: str
    stage_label: str
    stage_date: str
    outlets: list[OutletView]
    review_url: str | None


@dataclass
class DigestView:
    office_name: str
    date_text: str
    generated_text: str
    stories: list[StoryView] = field(default_factory=list)
    updates: list[UpdateView] = field(default_factory=list)
    progress: list[ProgressView] = field(default_factory=list)
    held_back: int = 0
    review_url: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(clean_text(item) for item in items if clean_text(item)))


def _ordered_sanctions(groups: Iterable[tuple[str, ...]], catalog: Catalog) -> list[str]:
    """Every possible sanction once, lightest first (the order of the sanction levels)."""
    found = _unique(word for group in groups for word in group)
    rank = {word: n for n, word in enumerate(catalog.levels.values())}
    return sorted(found, key=lambda word: rank.get(word, len(rank)))


def accused_list(people: list[Accused]) -> list[str]:
    """Each accused once; an entry contained in a fuller one ("Kepala Desa" beside
    "Kepala Desa Belitar") adds nothing and is left out."""
    texts = _unique(accused_text(person) for person in people)
    return [
        text
        for text in texts
        if not any(other != text and _contains(other, text) for other in texts)
    ]


def _contains(fuller: str, shorter: str) -> bool:
    core = shorter.split(" (")[0]
    return len(fuller) > len(shorter) and core.lower() in fuller.lower()


def accused_text(person: Accused) -> str:
    parts = [shorten(p, NAME_LIMIT) for p in (person.name, person.position) if clean_text(p)]
    text = ", ".join(parts) or "tidak disebut namanya"
    if person.region and clean_text(person.region) and clean_text(person.region) not in text:
        text += f" ({shorten(person.region, NAME_LIMIT)})"
    return text


def region_text(story: Story) -> str:
    name = clean_text(story.region_name)
    province = clean_text(story.province)
    if not name:
        return "wilayah tidak teridentifikasi"
    if province and province != name:
        return f"{name}, {province}"
    return name


def outlet_view(outlet: Outlet, zone: ZoneInfo) -> OutletView:
    url = safe_url(outlet.url)
    return OutletView(
        name=shorten(outlet.name, NAME_LIMIT),
        url=url,
        shown_url=shorten(outlet.url, 90),
        time=format_moment(outlet.seen_at, zone),
        copied_from=shorten(outlet.copied_from, NAME_LIMIT) or None,
    )


def review_link(base: str | None, cluster_id: int) -> str | None:
    """The story's page in the review workspace: `<digest.review_url>/<story id>`."""
    url = safe_url(base)
    if url is None:
        return None
    parts = urlsplit(url)
    return parts._replace(path=f"{parts.path.rstrip('/')}/{cluster_id}").geturl()


def story_view(
    number: int, story: Story, catalog: Catalog, zone: ZoneInfo, review_base: str | None
) -> StoryView:
    names = [t for p in story.accused for t in (p.name, p.position) if t]
    cues = catalog.cues(story.violations)
    evidence = [
        highlight(shorten(sentence, EVIDENCE_LIMIT), names, cues)
        for sentence in story.evidence[:EVIDENCE_SENTENCES]
        if clean_text(sentence)
    ]
    outlets = [outlet_view(o, zone) for o in story.outlets]
    categories = [catalog.get(category_id) for category_id in story.violations]
    kinds = {person.kind for person in story.accused if person.kind}
    sure = confidence(story)
    level = seriousness(story, catalog)
    return StoryView(
        number=number,
        cluster_id=story.cluster_id,
        title=shorten(story.title, TITLE_LIMIT) or "(tanpa judul)",
        accused=accused_list(story.accused),
        region=region_text(story),
        categories=[clean_text(category.label) for category in categories],
        legal_basis=_unique(law for category in categories for law in category.laws_for(kinds)),
        sanctions=_ordered_sanctions((category.sanctions for category in categories), catalog),
        evidence=evidence,
        score=format_score(sure),
        severity=SERIOUSNESS_BAND.get(level or "", "sedang"),
        confidence=f"{confidence_words(sure)} ({format_score(sure)})",
        seriousness=f"{level} ({catalog.levels[level]})" if level else "belum diketahui",
        first=outlets[0] if outlets else None,
        others=outlets[1 : 1 + OUTLETS_LISTED],
        others_hidden=max(0, len(outlets) - 1 - OUTLETS_LISTED),
        review_url=review_link(review_base, story.cluster_id),
    )


def update_view(update: StoryUpdate, zone: ZoneInfo, review_base: str | None) -> UpdateView:
    story = update.story
    return UpdateView(
        cluster_id=story.cluster_id,
        title=shorten(story.title, TITLE_LIMIT) or "(tanpa judul)",
        region=region_text(story),
        sent_at=format_moment(update.sent_at, zone),
        new_outlets=[outlet_view(o, zone) for o in update.new_outlets[:OUTLETS_LISTED]],
        total_outlets=len({o.site for o in story.outlets}),
        review_url=review_link(review_base, story.cluster_id),
    )


def progress_view(item: CaseProgress, zone: ZoneInfo, review_base: str | None) -> ProgressView:
    story = item.story
    return ProgressView(
        case_id=item.case_id,
        cluster_id=story.cluster_id,
        title=shorten(story.title, TITLE_LIMIT) or "(tanpa judul)",
        accused=[accused_text(person) for person in story.accused][:5],
        region=region_text(story),
        stage_label=clean_text(item.stage_label),
        stage_date=format_moment(item.stage_date, zone) if item.stage_date else "",
        outlets=[outlet_view(o, zone) for o in story.outlets[:OUTLETS_LISTED]],
        review_url=review_link(review_base, story.cluster_id),
    )


def subject_line(office: OfficeConfig, selection: Selection, day: date) -> str:
    count = len(selection.stories)
    if count:
        what = f"{count} dugaan pelanggaran netralitas ASN"
    elif selection.updates or selection.progress:
        what = "tidak ada dugaan baru"
    else:
        what = "tidak ada temuan baru"
    if selection.progress:
        what += f", {len(selection.progress)} perkembangan kasus"
    if selection.updates:
        what += f", {len(selection.updates)} pembaruan"
    return shorten(f"[Pantau] {office.name} – {short_date(day)} – {what}", SUBJECT_LIMIT)


# --- rendering ----------------------------------------------------------------------


def _wrap(text: str, width: int = 76, indent: str = "", subsequent: str | None = None) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent if subsequent is None else subsequent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _marked_text(segment: tuple[str, bool]) -> str:
    text, is_key = segment
    return f"*{text}*" if is_key else text


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["wrap"] = _wrap
    environment.filters["join_marked"] = _marked_text
    return environment


_ENVIRONMENT = _environment()


def render_digest(
    office: OfficeConfig,
    selection: Selection,
    *,
    catalog: Catalog,
    day: date,
    generated_at: datetime,
    timezone: str = "Asia/Jakarta",
    review_url: str | None = None,
) -> Rendered:
    zone = ZoneInfo(timezone)
    view = DigestView(
        office_name=clean_text(office.name),
        date_text=long_date(day),
        generated_text=format_moment(generated_at.isoformat(timespec="seconds"), zone),
        stories=[
            story_view(n, story, catalog, zone, review_url)
            for n, story in enumerate(selection.stories, start=1)
        ],
        updates=[update_view(u, zone, review_url) for u in selection.updates],
        progress=[progress_view(p, zone, review_url) for p in selection.progress],
        held_back=selection.held_back,
        review_url=safe_url(review_url),
    )
    text = _ENVIRONMENT.get_template("digest.txt.j2").render({"digest": view})
    html = ""
    for full_stories in FULL_STORY_STEPS:
        for story in view.stories:
            story.full = story.number <= full_stories
        html = _ENVIRONMENT.get_template("digest.html.j2").render({"digest": view})
        if len(html.encode("utf-8")) <= HTML_BUDGET:
            break
    return Rendered(subject=subject_line(office, selection, day), text=text, html=html)


def header_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """A header value with no CR/LF or other control character (no header injection)."""
    return shorten(value, limit)


def build_message(
    rendered: Rendered,
    *,
    office: OfficeConfig,
    sender: str,
    message_id: str,
    now: datetime,
) -> EmailMessage:
    """multipart/alternative: the plain part first, the HTML part preferred by clients."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = header_text(rendered.subject)
    message["From"] = _address(sender)
    message["To"] = ", ".join(_address(a) for a in office.to) or _address(sender)
    if office.cc:
        message["Cc"] = ", ".join(_address(a) for a in office.cc)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Pantau-Office"] = header_text(office.id, 80)
    message["Content-Language"] = "id"
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def _address(value: str) -> str:
    name, address = parseaddr(header_text(value, 320))
    return formataddr((name, address)) if name else address
