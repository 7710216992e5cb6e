"""Story clustering: every copy of an article joins the story of the article it copies.

Regional outlets re-post each other's articles with a new headline, a source line, a
local intro, a cut ending or their own furniture. An article joins a story when it is an
exact copy (same content hash) or a verified near/partial copy of one of its articles:

1. candidates come from a MinHash LSH index whose band table lives in SQLite
   (`dedup_bands`), banded with datasketch's own optimal (b, r) for the threshold, so the
   lookup reproduces `datasketch.MinHashLSH` and costs b index lookups however large the
   archive grows; and from shared sentences (`dedup_sentences`, extract/copies.py), which
   find the partial copies too few shingles betray;
2. candidates are screened by their stored signatures (MinHash Jaccard estimate, and a
   containment estimate from it and the stored shingle counts), and the best few (plus the
   few sharing most sentences) are verified on exact word-shingle sets re-derived from
   their stored text: Jaccard >= jaccard_min, or containment of the smaller text in the
   larger >= containment_min (a cut ending, an added intro), or, failing both, enough of
   their narration sentences near-identical (an edited copy with a new lead, a third of an
   article lifted into another, a press-release rewrite; shared quotes do not count). No
   estimate noise decides a merge, and the archive stores no second copy of every text;
   verification work per article is bounded.

The article joins the story of its best verified candidate. Two stories are never merged
because one new article resembles both: a merge would rest on a chain of resemblances
nobody verified (A ~ B and B ~ C says little about A ~ C), and a wrong merge hides a story
from Bawaslu while a missed merge only repeats it. The story keeps a stable id; its first
article is the earliest by publication (or fetch) time, so a copy crawled before its
original hands the original role over when the original arrives.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from sqlite_utils import Database

from extract.copies import Sentence, match_sentences, sentence_keys, split_sentences
from pantau.core.calendar import parse_iso
from pantau.core.knowledge import Furniture, is_furniture, load_furniture
from pantau.core.settings import DedupSettings, PantauError
from pantau.core.store import articles, content_hash, stories, utcnow
from pantau.core.store import dedup as index_store

log = logging.getLogger(__name__)

SCHEME = "affine32"
_NON_WORD = re.compile(r"[^\w]+")
_SIGNED = 1 << 63
VERIFY_TOP = 3  # candidates verified exactly, best MinHash estimates first
# Candidates found by shared sentences (partial copies the LSH misses): those sharing at
# least this many sentence keys, the few sharing most verified.
SHARED_SENTENCE_KEYS = 2
VERIFY_SENTENCE_TOP = 2
ESTIMATE_MARGIN = 0.15  # below the thresholds, for the estimate's noise


class DedupIndexMismatch(PantauError):
    """The stored band index was built with other parameters than the current settings."""


@dataclass(frozen=True)
class Match:
    """Why an article joined a story: the verified candidate and how alike they are."""

    cluster_id: int
    article_id: int
    # "exact" | "near" | "partial" | "sentences" ("new" in dedup_matches: started the story)
    method: str
    jaccard: float
    containment: float


@dataclass(frozen=True)
class Fingerprint:
    """What the index needs of a text; `hashvalues` is None for a text too short to index."""

    text_hash: str
    shingles: set[str]
    hashvalues: np.ndarray | None
    keys: list[int]
    sentences: list[Sentence] = field(default_factory=list)
    sentence_keys: list[int] = field(default_factory=list)


# --- text -> shingles -> signature ------------------------------------------------------


class Shingler:
    """Normalised word shingles: case, punctuation and page furniture do not count."""

    def __init__(self, settings: DedupSettings, furniture: Furniture | None = None):
        self.size = settings.shingle_words
        self.max_words = settings.max_words
        self.furniture = (furniture or load_furniture()).comparison

    def words(self, text: str) -> list[str]:
        words: list[str] = []
        for line in unicodedata.normalize("NFKC", text).splitlines():
            stripped = line.strip().lower()
            if not stripped or is_furniture(stripped, self.furniture):
                continue
            words.extend(_NON_WORD.sub(" ", stripped.replace("_", " ")).split())
            if len(words) >= self.max_words:
                return words[: self.max_words]
        return words

    def shingles(self, text: str) -> set[str]:
        words = self.words(text)
        if len(words) < self.size:
            return {" ".join(words)} if words else set()
        return {" ".join(words[i : i + self.size]) for i in range(len(words) - self.size + 1)}


@functools.lru_cache(maxsize=4)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch draws them from a fixed seed; drawing once saves ~2 ms per signature."""
    permutations: tuple[np.ndarray, np.ndarray] = MinHash(num_perm, scheme=SCHEME).permutations
    return permutations


def minhash(shingles: set[str], num_perm: int) -> MinHash:
    signature = MinHash(num_perm, scheme=SCHEME, permutations=_permutations(num_perm))
    signature.update_batch(s.encode("utf-8") for s in shingles)
    return signature


@functools.lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's own (bands, rows) for the threshold, as MinHashLSH(threshold) picks them."""
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def band_keys(hashvalues: np.ndarray, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band: a hash of (band number, the band's byte-swapped values).

    Two signatures share a key exactly when MinHashLSH would put them in the same bucket of
    that band (it keys bucket b by `hashvalues[b*r:(b+1)*r].byteswap()`), barring a 64-bit
    hash collision.
    """
    keys = []
    for band in range(bands):
        chunk = bytes(hashvalues[band * rows : (band + 1) * rows].byteswap().data)
        digest = hashlib.blake2b(band.to_bytes(2, "big") + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big") - _SIGNED)
    return keys


def similarity(a: set[str], b: set[str]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger)."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def estimated_containment(jaccard: float, size: int, other_size: int) -> float:
    """Containment of the smaller set from a Jaccard estimate and both set sizes."""
    smaller = min(size, other_size)
    if smaller <= 0:
        return 0.0
    shared = jaccard * (size + other_size) / (1 + jaccard)
    return min(1.0, shared / smaller)


def earlier(candidate: str | None, current: str | None) -> bool:
    """Is one stored time before the other? Naive times count as UTC, dates as midnight."""
    new, old = parse_iso(candidate, day_prefix=True), parse_iso(current, day_prefix=True)
    if new is None:
        return False
    return old is None or new < old


# --- the index ----------------------------------------------------------------------------


class StoryIndex:
    """The persistent story index: every lookup is an indexed query, nothing is held in memory."""

    def __init__(self, db: Database, settings: DedupSettings):
        self.db = db
        self.settings = settings
        self.shingler = Shingler(settings)
        self.bands, self.rows = lsh_params(settings.lsh_threshold, settings.num_perm)
        self._check_meta()

    # parameters ------------------------------------------------------------------------

    @property
    def meta(self) -> dict[str, str]:
        return {
            "scheme": SCHEME,
            "num_perm": str(self.settings.num_perm),
            "bands": str(self.bands),
            "rows": str(self.rows),
            "shingle_words": str(self.settings.shingle_words),
        }

    def _check_meta(self) -> None:
        stored = index_store.index_parameters(self.db)
        if not stored:
            self._write_meta()
            return
        differing = {k: (stored.get(k), v) for k, v in self.meta.items() if stored.get(k) != v}
        if differing:
            if index_store.index_is_empty(self.db):
                self._write_meta()
                return
            what = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in differing.items())
            raise DedupIndexMismatch(
                f"the story index was built with other dedup settings ({what}); "
                "run `pantau stories-reindex` to rebuild it"
            )

    def _write_meta(self) -> None:
        index_store.set_index_parameters(self.db, self.meta)

    # assigning -------------------------------------------------------------------------

    def fingerprint(self, text: str) -> Fingerprint:
        """The CPU half of `assign` (shingles, MinHash, band keys): no database access."""
        shingles = self.shingler.shingles(text)
        # Too short a text (a video caption, an empty extraction) says nothing about
        # which story it belongs to: it stays alone rather than merging strangers.
        if len(shingles) < self.settings.min_shingles:
            return Fingerprint(content_hash(text), shingles, None, [])
        signature = minhash(shingles, self.settings.num_perm)
        keys = band_keys(signature.hashvalues, self.bands, self.rows)
        sentences = split_sentences(text, self.shingler.furniture)
        return Fingerprint(
            content_hash(text),
            shingles,
            signature.hashvalues,
            keys,
            sentences,
            sentence_keys(sentences),
        )

    def assign(self, article_id: int, title: str, text: str, first_seen: str) -> int:
        """Put an article into a story cluster and return the cluster id."""
        return self.assign_fingerprint(article_id, title, self.fingerprint(text), first_seen)

    def assign_fingerprint(
        self, article_id: int, title: str, fingerprint: Fingerprint, first_seen: str
    ) -> int:
        """The database half of `assign`: lookups, verification, index and cluster updates."""
        with self.db.atomic():
            self._unindex(article_id)
            match = None
            if fingerprint.hashvalues is not None:
                match = self._exact_match(article_id, fingerprint.text_hash) or self._best_match(
                    article_id, fingerprint
                )
                self._index(article_id, fingerprint)
            previous = self._current_cluster(article_id)
            cluster_id = self._choose_cluster(article_id, previous, match, title, first_seen)
            self._record_match(article_id, cluster_id, previous, match)
        if match is not None:
            log.debug(
                "article %s joins story %s (%s copy of %s, J=%.2f C=%.2f)",
                article_id,
                cluster_id,
                match.method,
                match.article_id,
                match.jaccard,
                match.containment,
            )
        return cluster_id

    def _exact_match(self, article_id: int, text_hash: str) -> Match | None:
        found = articles.clustered_copy_of(self.db, text_hash, article_id)
        if found is None:
            return None
        copy_id, cluster_id = found
        return Match(cluster_id, copy_id, "exact", 1.0, 1.0)

    def _best_match(self, article_id: int, fingerprint: Fingerprint) -> Match | None:
        """The best candidate that passes exact verification, if any."""
        best: Match | None = None
        shortlist = self._shortlist(article_id, fingerprint)
        for candidate_id in self._sentence_shortlist(article_id, fingerprint):
            if candidate_id not in shortlist:
                shortlist.append(candidate_id)
        for candidate_id in shortlist:
            candidate = articles.clustered_text(self.db, candidate_id)
            if candidate is None:
                continue
            text, cluster_id = candidate
            jaccard, containment = similarity(fingerprint.shingles, self.shingler.shingles(text))
            if jaccard >= self.settings.jaccard_min:
                method = "near"
            elif containment >= self.settings.containment_min:
                method = "partial"
            elif match_sentences(
                fingerprint.sentences,
                split_sentences(text, self.shingler.furniture),
                self.settings,
            ).is_copy:
                method = "sentences"
            else:
                continue
            match = Match(cluster_id, candidate_id, method, jaccard, containment)
            if best is None or (jaccard, containment, -match.cluster_id) > (
                best.jaccard,
                best.containment,
                -best.cluster_id,
            ):
                best = match
        return best

    def _shortlist(self, article_id: int, fingerprint: Fingerprint) -> list[int]:
        """Candidates ranked by their MinHash estimates; only the few best are verified exactly.

        Re-shingling a stored text costs ~1 ms, a stored signature comparison ~10 us, so the
        estimate (with a margin of ~3 standard errors at 128 permutations) screens first.
        """
        assert fingerprint.hashvalues is not None
        size = len(fingerprint.shingles)
        scored = []
        for candidate in self._candidates(article_id, fingerprint.keys):
            stored = index_store.signature(self.db, candidate)
            if stored is None:
                continue
            hashvalues, shingles = stored
            other = np.frombuffer(hashvalues, dtype=np.uint32)
            if other.shape != fingerprint.hashvalues.shape:
                continue
            jaccard = float(np.count_nonzero(other == fingerprint.hashvalues)) / len(other)
            containment = estimated_containment(jaccard, size, shingles)
            if (
                jaccard >= self.settings.jaccard_min - ESTIMATE_MARGIN
                or containment >= self.settings.containment_min - ESTIMATE_MARGIN
            ):
                scored.append((jaccard, containment, candidate))
        scored.sort(reverse=True)
        return [candidate for _, _, candidate in scored[:VERIFY_TOP]]

    def _sentence_shortlist(self, article_id: int, fingerprint: Fingerprint) -> list[int]:
        """Articles sharing at least SHARED_SENTENCE_KEYS sentence keys, most shared first.

        A partial copy shares too few shingles for the LSH to propose it; its lifted sentences
        are found here, each key one indexed lookup, each bucket read capped.
        """
        shared: dict[int, int] = {}
        for candidate in index_store.sentence_neighbours(
            self.db, fingerprint.sentence_keys, article_id, self.settings.max_candidates
        ):
            shared[candidate] = shared.get(candidate, 0) + 1
        ranked = sorted(
            (c for c, n in shared.items() if n >= SHARED_SENTENCE_KEYS),
            key=lambda c: (-shared[c], -c),
        )
        return ranked[:VERIFY_SENTENCE_TOP]

    def _candidates(self, article_id: int, keys: list[int]) -> list[int]:
        """Articles sharing a band, most shared bands first, newest first within a bucket.

        Each bucket read and the number screened are capped, so a bucket crowded by a
        site's boilerplate costs no more than a quiet one and real copies (which share
        many bands, not one) still rank first.
        """
        limit = self.settings.max_candidates
        shared: dict[int, int] = {}
        for candidate in index_store.band_neighbours(self.db, keys, article_id, limit):
            shared[candidate] = shared.get(candidate, 0) + 1
        return sorted(shared, key=lambda c: (-shared[c], -c))[:limit]

    def _index(self, article_id: int, fingerprint: Fingerprint) -> None:
        assert fingerprint.hashvalues is not None
        index_store.index_article(
            self.db,
            article_id,
            scheme=SCHEME,
            num_perm=self.settings.num_perm,
            hashvalues=fingerprint.hashvalues.tobytes(),
            shingles=len(fingerprint.shingles),
            band_keys=fingerprint.keys,
            sentence_keys=fingerprint.sentence_keys,
            packed_sentence_keys=np.array(fingerprint.sentence_keys, dtype=np.int64).tobytes(),
        )

    def _unindex(self, article_id: int) -> None:
        """Forget an article's previous version (its rows are found from its signature)."""
        stored = index_store.indexed_keys(self.db, article_id)
        if stored is None:
            return
        hashvalues, packed_sentence_keys = stored
        index_store.unindex_article(
            self.db,
            article_id,
            band_keys(np.frombuffer(hashvalues, dtype=np.uint32), self.bands, self.rows),
            [int(key) for key in np.frombuffer(packed_sentence_keys, dtype=np.int64)],
        )

    # clusters --------------------------------------------------------------------------

    def _current_cluster(self, article_id: int) -> int | None:
        return articles.cluster_of(self.db, article_id)

    def _choose_cluster(
        self, article_id: int, previous: int | None, match: Match | None, title: str, seen: str
    ) -> int:
        """Stay put unless the new text verifies against another story; else join or start one."""
        if previous is not None and (match is None or match.cluster_id == previous):
            self._update_first(previous, article_id, title, seen)
            return previous
        if match is None:
            return self._new_cluster(article_id, title, seen)
        self._update_first(match.cluster_id, article_id, title, seen)
        if previous is not None:
            self._leave(previous, article_id)
        return match.cluster_id

    def _new_cluster(self, article_id: int, title: str, seen: str) -> int:
        return stories.new_story(self.db, article_id, title, seen)

    def _update_first(self, cluster_id: int, article_id: int, title: str, seen: str) -> None:
        """The earliest article is the original source, whenever it was crawled."""
        first = stories.first_article(self.db, cluster_id)
        assert first is not None, f"story {cluster_id} does not exist"
        first_id, first_seen = first
        if first_id == article_id or earlier(seen, first_seen):
            stories.set_first_article(self.db, cluster_id, article_id, title, seen)

    def _leave(self, cluster_id: int, article_id: int) -> None:
        """An updated article moved away: its old story elects its next earliest article."""
        first = stories.first_article(self.db, cluster_id)
        if first is None or first[0] != article_id:
            return
        rest = stories.earliest_article_but(self.db, cluster_id, article_id)
        if rest is not None:
            next_id, next_title, next_seen = rest
            stories.set_first_article(self.db, cluster_id, next_id, next_title, next_seen)
        stories.touch_story(self.db, cluster_id)

    def _record_match(
        self, article_id: int, cluster_id: int, previous: int | None, match: Match | None
    ) -> None:
        """When and why the article joined: the digest tells grown stories from new ones."""
        if previous == cluster_id:
            if match is not None:
                self._write_match(article_id, cluster_id, match, None)
            return
        now = utcnow()
        articles.join_cluster(self.db, article_id, cluster_id, now)
        stories.touch_story(self.db, cluster_id, now)
        self._write_match(article_id, cluster_id, match, now)

    def _write_match(
        self, article_id: int, cluster_id: int, match: Match | None, joined_at: str | None
    ) -> None:
        index_store.save_match(
            self.db,
            article_id,
            cluster_id,
            method=match.method if match else "new",
            matched_article_id=match.article_id if match else None,
            jaccard=round(match.jaccard, 4) if match else None,
            containment=round(match.containment, 4) if match else None,
            joined_at=joined_at,
        )

    # maintenance -----------------------------------------------------------------------

    def rebuild(self) -> int:
        """Re-derive every signature and band row from stored texts (after a settings change).

        Stories are kept as they are; only the index that finds future copies is rebuilt.
        """
        with self.db.atomic():
            index_store.clear_index(self.db)
            self._write_meta()
            count, last_id = 0, 0
            while True:
                batch = articles.clustered_texts_after(self.db, last_id)
                if not batch:
                    break
                for article_id, text in batch:
                    fingerprint = self.fingerprint(text or "")
                    if fingerprint.hashvalues is not None:
                        self._index(article_id, fingerprint)
                        count += 1
                last_id = batch[-1][0]
        return count
