"""Story clustering: copies join their story, distinct reports stay apart, the index persists."""

from __future__ import annotations

import random
from itertools import combinations
from pathlib import Path

import pytest
from conftest import FIXTURES
from datasketch import MinHashLSH

from extract.copies import match_sentences, split_sentences
from extract.dedup import (
    DedupIndexMismatch,
    Shingler,
    StoryIndex,
    band_keys,
    lsh_params,
    minhash,
    similarity,
)
from pantau.core import store
from pantau.core.settings import DedupSettings, load_settings

DEDUP = FIXTURES / "dedup"
COPIES = [
    "copy_new_headline",
    "copy_intro_sumber",
    "copy_cut_ending",
    "copy_furniture",
    "copy_baca_juga_a",
    "copy_baca_juga_b",
    "copy_edited_lead",  # a rewritten lead and words swapped throughout: J 0.26, C 0.45
]
# A second story: a partial copy (a third of the original's sentences in a longer roundup,
# J 0.13, C 0.26) and a press-release rewrite (J 0.40, C 0.60).
KADES_COPIES = ["copy_partial_kades", "copy_press_release_kades"]
DISTINCT = ["original", "distinct_same_event_a", "distinct_same_event_b", "other_story"]
# Independent reports of the second story's event quoting the same three-sentence statement.
SHARED_QUOTE = ["original_kades", "distinct_quote_kades_a", "distinct_quote_kades_b"]


def read_fixture(name: str) -> tuple[str, str]:
    title, _, body = (DEDUP / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    return title.strip(), body


def add(db, index: StoryIndex, name: str, published: str = "2024-06-10T08:00:00") -> int:
    """Store a fixture article as an outlet of its own and assign it; returns the cluster id."""
    title, text = read_fixture(name)
    article_id, _ = store.save_article(
        db,
        {
            "url": f"https://{name.replace('_', '-')}.example/berita/1",
            "site": name,
            "title": title,
            "text": text,
            "published": published,
            "fetched_at": "2024-06-11T00:00:00+00:00",
        },
    )
    return index.assign(article_id, title, text, published)


def cluster_size(db, cluster_id: int) -> int:
    return db.execute(
        "select count(*) from articles where cluster_id = ?", [cluster_id]
    ).fetchone()[0]


@pytest.fixture
def index(db) -> StoryIndex:
    return StoryIndex(db, load_settings().dedup)


@pytest.mark.parametrize("copy", COPIES)
def test_copy_joins_the_story_of_its_original(db, index, copy):
    original = add(db, index, "original")
    assert add(db, index, copy, published="2024-06-10T12:00:00") == original


def test_every_copy_lands_in_one_story_with_every_outlet(db, index):
    clusters = {add(db, index, name) for name in ["original", *COPIES]}
    assert len(clusters) == 1
    assert cluster_size(db, clusters.pop()) == 1 + len(COPIES)


def test_the_whole_fixture_set_in_any_order_partitions_into_the_right_stories(db, index):
    names = sorted(p.stem for p in DEDUP.glob("*.txt"))
    for seed in range(3):
        db.execute("delete from dedup_matches")
        db.execute("delete from dedup_bands")
        db.execute("delete from dedup_sentences")
        db.execute("delete from dedup_signatures")
        db.execute("update articles set cluster_id = null")
        db.execute("delete from articles")
        db.execute("delete from clusters")
        order = list(names)
        random.Random(seed).shuffle(order)
        stories: dict[int, set[str]] = {}
        for name in order:
            stories.setdefault(add(db, index, name), set()).add(name)
        grouped = [{"original", *COPIES}, {"original_kades", *KADES_COPIES}]
        expected = grouped + [{n} for n in names if not any(n in group for group in grouped)]
        assert sorted(map(sorted, stories.values())) == sorted(map(sorted, expected)), order


def test_an_exact_copy_joins_by_content_hash(db, index):
    original = add(db, index, "original")
    title, text = read_fixture("original")
    copy_id, _ = store.save_article(
        db, {"url": "https://lain.example/1", "site": "lain", "title": title, "text": text}
    )
    assert index.assign(copy_id, title, text, "2024-06-11") == original
    method = db.execute(
        "select method from dedup_matches where article_id = ?", [copy_id]
    ).fetchone()[0]
    assert method == "exact"


def test_reports_of_the_same_event_in_other_words_stay_separate_stories(db, index):
    clusters = [add(db, index, name) for name in DISTINCT]
    assert len(set(clusters)) == len(DISTINCT)


@pytest.mark.parametrize("copy", KADES_COPIES)
def test_partial_and_press_release_copies_join_by_their_sentences(db, index, copy):
    original = add(db, index, "original_kades")
    assert add(db, index, copy, published="2024-06-16T09:00:00") == original
    method = db.execute("select method from dedup_matches order by rowid desc").fetchone()[0]
    assert method == "sentences"


def test_a_copy_found_by_sentences_joins_whichever_arrives_first(db, index):
    partial = add(db, index, "copy_partial_kades", published="2024-06-16")
    assert add(db, index, "original_kades", published="2024-06-15") == partial


def test_independent_reports_sharing_a_long_quote_stay_separate_stories(db, index):
    clusters = [add(db, index, name) for name in SHARED_QUOTE]
    assert len(set(clusters)) == len(SHARED_QUOTE)


def test_copy_crawled_before_original_keeps_the_original_as_first_source(db, index):
    story = add(db, index, "copy_intro_sumber", published="2024-06-10T15:00:00+07:00")
    assert add(db, index, "original", published="2024-06-09T21:30:00+07:00") == story
    first_id, title = db.execute(
        "select first_article_id, title from clusters where id = ?", [story]
    ).fetchone()
    assert db.table("articles").get(first_id)["site"] == "original"
    assert title == read_fixture("original")[0]


def test_a_later_copy_does_not_replace_the_original(db, index):
    story = add(db, index, "original", published="2024-06-09")
    add(db, index, "copy_furniture", published="2024-06-10")
    first_id = db.table("clusters").get(story)["first_article_id"]
    assert db.table("articles").get(first_id)["site"] == "original"


def test_an_article_carrying_its_body_twice_is_one_article_in_its_own_story(db, index):
    story = add(db, index, "self_repeating")
    article_id = db.execute("select id from articles where site = 'self_repeating'").fetchone()[0]
    title, text = read_fixture("self_repeating")
    assert index.assign(article_id, title, text, "2024-06-10") == story
    assert cluster_size(db, story) == 1
    assert db.execute("select count(*) from clusters").fetchone()[0] == 1


def test_a_story_keeps_its_id_and_records_when_each_copy_joined(db, index):
    story = add(db, index, "original")
    created = db.table("clusters").get(story)
    db.execute("update clusters set updated_at = '2000-01-01T00:00:00+00:00' where id = ?", [story])
    assert add(db, index, "copy_new_headline") == story
    copy = db.execute(
        "select cluster_joined_at from articles where site = 'copy_new_headline'"
    ).fetchone()
    assert copy[0] is not None
    grown = db.table("clusters").get(story)
    assert grown["created_at"] == created["created_at"]
    assert grown["updated_at"] == copy[0]


def test_the_index_survives_reopening_the_database(db_path):
    first = store.open_db(db_path)
    story = add(first, StoryIndex(first, DedupSettings()), "original")
    first.close()
    again = store.open_db(db_path)
    assert add(again, StoryIndex(again, DedupSettings()), "copy_cut_ending") == story
    again.close()


def test_an_article_like_two_stories_joins_the_best_and_does_not_merge_them(db, index):
    original = add(db, index, "original")
    other = add(db, index, "other_story")
    _, text_a = read_fixture("original")
    _, text_b = read_fixture("other_story")
    roundup_id, _ = store.save_article(
        db, {"url": "https://rangkuman.example/1", "site": "rangkuman", "text": text_a + text_b}
    )
    joined = index.assign(roundup_id, "Rangkuman", text_a + "\n\n" + text_b, "2024-06-12")
    assert joined in (original, other)
    assert cluster_size(db, original) + cluster_size(db, other) == 3
    assert db.execute("select count(*) from clusters").fetchone()[0] == 2


def test_very_short_texts_are_never_merged(db, index):
    caption = "Simak videonya di kanal kami."
    clusters = set()
    for n in range(2):
        article_id, _ = store.save_article(
            db, {"url": f"https://video{n}.example/1", "site": f"v{n}", "text": caption}
        )
        clusters.add(index.assign(article_id, f"Video {n}", caption, "2024-06-10"))
    assert len(clusters) == 2


def test_changed_dedup_settings_on_a_built_index_ask_for_a_reindex(db, index):
    add(db, index, "original")
    changed = DedupSettings(lsh_threshold=0.7)
    with pytest.raises(DedupIndexMismatch, match="stories-reindex"):
        StoryIndex(db, changed)
    db.execute("delete from dedup_meta")
    assert StoryIndex(db, changed).rebuild() == 1
    assert add(db, StoryIndex(db, changed), "copy_furniture") == 1


def test_furniture_lines_do_not_count_as_text():
    shingler = Shingler(DedupSettings())
    _, original = read_fixture("original")
    _, with_links = read_fixture("copy_baca_juga_b")
    assert shingler.words(with_links) == shingler.words(original)


def _synthetic_documents(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    vocabulary = [f"kata{n}" for n in range(400)]
    docs: list[str] = []
    for _ in range(count):
        if docs and rng.random() < 0.5:
            words = rng.choice(docs).split()
            cut = rng.randint(len(words) // 3, len(words))
            words = words[:cut]
            for i in rng.sample(range(len(words)), len(words) // 10):
                words[i] = rng.choice(vocabulary)
            docs.append(" ".join(words))
        else:
            docs.append(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(80, 300))))
    return docs


def test_the_sqlite_band_table_reproduces_datasketch_lsh():
    settings = DedupSettings()
    shingler = Shingler(settings)
    bands, rows = lsh_params(settings.lsh_threshold, settings.num_perm)
    lsh = MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.num_perm)
    assert (lsh.b, lsh.r) == (bands, rows)
    table: dict[int, set[int]] = {}
    signatures = []
    for n, doc in enumerate(_synthetic_documents(150)):
        signature = minhash(shingler.shingles(doc), settings.num_perm)
        signatures.append(signature)
        lsh.insert(n, signature)
        for key in band_keys(signature.hashvalues, bands, rows):
            table.setdefault(key, set()).add(n)
    for n, signature in enumerate(signatures):
        ours = set().union(*(table[k] for k in band_keys(signature.hashvalues, bands, rows)))
        assert ours == set(lsh.query(signature)), n


def test_fixture_copies_and_distinct_reports_are_separated_by_the_thresholds():
    """The measurement behind the settings: every copy pair passes, every other pair fails
    (by shingles or, for edited and partial copies, by sentences)."""
    settings = load_settings().dedup
    shingler = Shingler(settings)
    names = sorted(p.stem for p in Path(DEDUP).glob("*.txt"))
    stories = [{"original", *COPIES}, {"original_kades", *KADES_COPIES}]
    for a, b in combinations(names, 2):
        (_, text_a), (_, text_b) = read_fixture(a), read_fixture(b)
        jaccard, containment = similarity(shingler.shingles(text_a), shingler.shingles(text_b))
        sentences = match_sentences(
            split_sentences(text_a, shingler.furniture), split_sentences(text_b, shingler.furniture)
        )
        verified = (
            jaccard >= settings.jaccard_min
            or containment >= settings.containment_min
            or sentences.is_copy
        )
        same_story = any(a in story and b in story for story in stories)
        assert verified == same_story, (a, b, jaccard, containment, sentences)


def test_the_story_index_verifies_sentences_with_its_own_settings(db):
    stricter = load_settings().dedup.model_copy(update={"sentence_min_share": 0.9})
    index = StoryIndex(db, stricter)
    original = add(db, index, "original_kades")
    assert add(db, index, "copy_partial_kades", published="2024-06-16T09:00:00") != original
