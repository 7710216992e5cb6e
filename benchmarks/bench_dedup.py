"""Story-index benchmark: per-article cost as the archive grows, and how copies score.

Two measurements, both deterministic from a seed:

* `run(sizes, sample)`: archives of 10k / 100k / 1M articles in a temp SQLite file. The
  filler's signatures, band keys and sentence keys are bulk-inserted synthetically
  (building a million real MinHashes takes too long on two cores, and random keys are what
  unrelated texts produce); at each size `sample` real `StoryIndex.assign` calls (half new
  stories, half edited copies of earlier ones, so verification runs) are timed.
* `measure_copies(originals)`: exact Jaccard/containment of each kind of copy against its
  original and of distinct same-topic texts, and the share of copies found by the LSH at
  several thresholds: what the thresholds in config/settings.yaml were chosen from.

    python -m benchmarks.bench_dedup --quick     # 10k and 50k articles, ~1 min
    python -m benchmarks.bench_dedup             # 10k, 100k, 1M (a few minutes)
    python -m benchmarks.bench_dedup --copies    # the threshold measurement only
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from extract.dedup import Shingler, StoryIndex, band_keys, lsh_params, minhash, similarity
from pantau.core import store
from pantau.core.settings import DedupSettings, load_settings

SEED = 20240610
# Sentence keys of a filler article (two per narration sentence of a ~550-word article, as
# extract/copies.py indexes them, capped at its MAX_KEYS).
SENTENCE_KEYS = 40

# Common Indonesian news words (written for this benchmark), most frequent first.
VOCABULARY = """
yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke karena tersebut bisa
ada sudah kata saat oleh telah agar atau kami mereka para lebih masih bahwa harus hingga
menjadi sebagai serta baik namun setelah sejak belum dapat tahun hari kepala daerah
kabupaten kota desa kecamatan provinsi pemerintah bupati wakil camat lurah warga
masyarakat pegawai aparatur sipil negara netralitas pemilihan pemilu pilkada calon
pasangan partai politik kampanye dukungan deklarasi laporan pelanggaran sanksi teguran
bawaslu panwaslu pengawas komisi kpu dinas sekretaris kantor rapat pleno klarifikasi
saksi pelapor terlapor video foto unggahan media sosial grup whatsapp akun spanduk
atribut baliho alat peraga fasilitas kendaraan dinas anggaran bantuan sosial program
acara kegiatan pertemuan sosialisasi imbauan surat edaran apel upacara pelantikan
mengatakan menjelaskan menegaskan menyampaikan mengimbau meminta menerima memeriksa
memanggil menindaklanjuti merekomendasikan membantah mengaku membenarkan menyebut senin
selasa rabu kamis jumat sabtu minggu pagi siang sore malam pekan bulan lalu depan baru
lama besar kecil banyak sedikit semua setiap beberapa sejumlah seluruh pihak proses
tahap hasil kajian bukti keterangan informasi kronologi lokasi wilayah umum khusus resmi
terbuka tertutup langsung cepat segera terus kembali hanya sangat kasus dugaan indikasi
temuan penanganan pengawasan pencegahan penindakan keputusan rekomendasi badan
kepegawaian kementerian menteri gubernur dprd anggota ketua kepala honorer perangkat
kades sekdes babinsa bhabinkamtibmas polisi tentara guru kepala_sekolah jalan pasar
sekolah masjid balai rumah lapangan gedung aula pendopo posko
""".split()  # noqa: SIM905

FURNITURE_HEAD = [
    "Beranda › Berita › Politik",
    "Oleh Redaksi | {day} Juni 2024 {hour}:15 WIB",
    "Bagikan: Facebook Twitter WhatsApp",
]
FURNITURE_FOOT = [
    "Editor: Redaksi Daerah",
    "Tag: Pilkada, Netralitas ASN, Bawaslu",
    "Ikuti kami di Google News untuk berita terbaru",
    "Copyright © 2024 Media Daerah. Hak cipta dilindungi.",
]


# --- synthetic texts --------------------------------------------------------------------


class TextMaker:
    """Indonesian-like paragraphs with a Zipf-like word distribution, deterministic."""

    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(VOCABULARY))]

    def sentence(self) -> str:
        words = self.rng.choices(VOCABULARY, self.weights, k=self.rng.randint(8, 22))
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def article(self) -> list[str]:
        return [self.paragraph() for _ in range(self.rng.randint(6, 12))]

    def edit(self, paragraphs: list[str], share: float) -> list[str]:
        """Change `share` of the words, as a copying outlet's editor does."""
        edited = []
        for paragraph in paragraphs:
            words = paragraph.split()
            for i in range(len(words)):
                if self.rng.random() < share:
                    words[i] = self.rng.choice(VOCABULARY)
            edited.append(" ".join(words))
        return edited

    def copy(self, paragraphs: list[str], kind: str) -> list[str]:
        rng = self.rng
        if kind == "new_headline":  # a new headline is not part of the body; a new dateline is
            return ["KOTA, MEDIA LAIN – " + paragraphs[0], *paragraphs[1:]]
        if kind == "intro_and_source":
            return ["Sumber: Media Asal", self.paragraph(), *paragraphs]
        if kind == "cut_ending":
            keep = max(2, round(len(paragraphs) * rng.uniform(0.45, 0.75)))
            return paragraphs[:keep]
        if kind == "furniture":
            head = [
                h.format(day=rng.randint(1, 28), hour=rng.randint(6, 22)) for h in FURNITURE_HEAD
            ]
            return [*head, *paragraphs, *FURNITURE_FOOT]
        if kind == "baca_juga":
            out = list(paragraphs)
            for _ in range(rng.randint(1, 3)):
                out.insert(rng.randint(1, len(out)), "Baca juga: " + self.sentence())
            return out
        if kind == "edited_3pct_with_header_footer":
            return [FURNITURE_HEAD[0], *self.edit(paragraphs, 0.03), FURNITURE_FOOT[2]]
        if kind.startswith("edited_") and kind.endswith("pct"):
            return self.edit(paragraphs, int(kind[7:-3]) / 100)
        raise ValueError(kind)


COPY_KINDS = (
    "new_headline",
    "intro_and_source",
    "cut_ending",
    "furniture",
    "baca_juga",
    "edited_3pct_with_header_footer",
    "edited_6pct",
    "edited_10pct",
)


# --- threshold measurement ----------------------------------------------------------------


def _range(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "p05": round(float(np.percentile(values, 5)), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


def measure_copies(
    originals: int = 300, settings: DedupSettings | None = None, thresholds=(0.3, 0.4, 0.5, 0.6)
) -> dict[str, Any]:
    """Jaccard/containment per copy kind and for distinct texts; LSH recall per threshold."""
    settings = settings or load_settings().dedup
    shingler = Shingler(settings)
    maker = TextMaker()
    params = {t: lsh_params(t, settings.num_perm) for t in thresholds}
    pairs: dict[str, list[tuple[float, float, bool]]] = {k: [] for k in (*COPY_KINDS, "distinct")}
    found: dict[str, dict[float, int]] = {k: dict.fromkeys(thresholds, 0) for k in pairs}
    previous: set[str] | None = None
    for _ in range(originals):
        paragraphs = maker.article()
        original = shingler.shingles("\n\n".join(paragraphs))
        signature = minhash(original, settings.num_perm)
        others: list[tuple[str, set[str]]] = [
            (kind, shingler.shingles("\n\n".join(maker.copy(paragraphs, kind))))
            for kind in COPY_KINDS
        ]
        if previous is not None:
            others.append(("distinct", previous))
        for kind, shingles in others:
            jaccard, containment = similarity(original, shingles)
            verified = jaccard >= settings.jaccard_min or containment >= settings.containment_min
            pairs[kind].append((jaccard, containment, verified))
            other = minhash(shingles, settings.num_perm)
            for t, (b, r) in params.items():
                if set(band_keys(signature.hashvalues, b, r)) & set(
                    band_keys(other.hashvalues, b, r)
                ):
                    found[kind][t] += 1
        previous = original
    report: dict[str, Any] = {"settings": settings.model_dump()}
    for kind, values in pairs.items():
        report[kind] = {
            "pairs": len(values),
            "jaccard": _range([v[0] for v in values]),
            "containment": _range([v[1] for v in values]),
            "verified": sum(v[2] for v in values),
            "lsh_candidates": {
                f"{t} (b={params[t][0]},r={params[t][1]})": n for t, n in found[kind].items()
            },
        }
    return report


# --- scale benchmark ------------------------------------------------------------------------


def _grow_filler(
    db, rng: np.random.Generator, start: int, stop: int, bands: int, num_perm: int
) -> None:
    """Bulk-insert synthetic articles [start, stop): stubs, random signatures, band keys.

    Random keys are what unrelated texts produce. Keys are sorted before insertion, in runs
    of 250k articles, so the B-tree is written in a few ordered passes instead of at random;
    the timed `assign` calls afterwards insert at random as in use.
    """
    conn = db.conn
    # Scaffolding only: no journal while bulk-loading (every page would be written twice
    # through the WAL); the timed calls below run in WAL mode as in use.
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    chunk = 100_000
    with db.atomic():
        for first in range(start, stop, chunk):
            ids = np.arange(first, min(first + chunk, stop), dtype=np.int64)
            signatures = rng.integers(0, 2**32, (len(ids), num_perm), dtype=np.uint32)
            hashes = rng.integers(0, 2**63, len(ids), dtype=np.int64).tolist()
            conn.executemany(
                "insert into articles (id, url, site, fetched_at, content_hash) "
                "values (?, ?, ?, ?, ?)",
                (
                    (i, f"https://filler.example/{i}", "filler", "2024-01-01T00:00:00", f"{h:x}")
                    for i, h in zip(ids.tolist(), hashes, strict=True)
                ),
            )
            conn.executemany(
                "insert into dedup_signatures (article_id, scheme, num_perm, hashvalues, shingles) "
                "values (?, ?, ?, ?, 300)",
                (
                    (i, "affine32", num_perm, signatures[n].tobytes())
                    for n, i in enumerate(ids.tolist())
                ),
            )
    _bulk_keys(db, rng, "dedup_bands", start, stop, bands)
    _bulk_keys(db, rng, "dedup_sentences", start, stop, SENTENCE_KEYS)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")


def _bulk_keys(db, rng: np.random.Generator, table: str, start: int, stop: int, per: int) -> None:
    """`per` random keys for each article [start, stop) into a (key, article_id) table."""
    run_articles = 250_000  # keys sorted per run of articles: ordered writes, bounded memory
    for first in range(start, stop, run_articles):
        last = min(first + run_articles, stop)
        keys = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (last - first) * per)
        owners = np.repeat(np.arange(first, last, dtype=np.int64), per)
        order = np.argsort(keys)
        keys, owners = keys[order], owners[order]
        del order
        with db.atomic():
            for row in range(0, len(keys), 1_000_000):
                db.conn.executemany(
                    f"insert into {table} (key, article_id) values (?, ?)",
                    zip(
                        keys[row : row + 1_000_000].tolist(),
                        owners[row : row + 1_000_000].tolist(),
                        strict=True,
                    ),
                )


def _sample_documents(maker: TextMaker, count: int, pool: list[list[str]]) -> list[str]:
    """Half new stories, half edited copies of stories already in the sample pool."""
    docs = []
    for n in range(count):
        if pool and n % 2:
            kind = COPY_KINDS[n % len(COPY_KINDS)]
            paragraphs = maker.copy(maker.rng.choice(pool), kind)
        else:
            paragraphs = maker.article()
            pool.append(paragraphs)
        docs.append("\n\n".join(paragraphs))
    return docs


def _assign_sample(db, index: StoryIndex, docs: list[str], label: str) -> dict[str, list[float]]:
    """Real assign calls, each in its own transaction with the article's insert as `ingest`
    does; returns seconds per article for the fingerprint (CPU), the index work and commit."""
    timings: dict[str, list[float]] = {
        "fingerprint": [],
        "index": [],
        "commit": [],
        "cpu": [],
        "index_cpu": [],
    }
    for n, text in enumerate(docs):
        transaction = db.atomic()
        transaction.__enter__()
        article_id, _ = store.save_article(
            db,
            {
                "url": f"https://sample.example/{label}/{n}",
                "site": f"outlet{n % 40}",
                "title": f"Berita {label} {n}",
                "text": text,
                "fetched_at": "2024-06-10T00:00:00",
            },
        )
        cpu_started = time.process_time()
        started = time.perf_counter()
        fingerprint = index.fingerprint(text)
        computed = time.perf_counter()
        index_cpu_started = time.process_time()
        index.assign_fingerprint(article_id, f"Berita {label} {n}", fingerprint, "2024-06-10")
        assigned = time.perf_counter()
        timings["cpu"].append(time.process_time() - cpu_started)
        timings["index_cpu"].append(time.process_time() - index_cpu_started)
        transaction.__exit__(None, None, None)
        timings["fingerprint"].append(computed - started)
        timings["index"].append(assigned - computed)
        timings["commit"].append(time.perf_counter() - assigned)
    return timings


def _db_megabytes(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 1)


def _rss_megabytes() -> float:
    """Resident memory now (Linux); the peak below includes the filler build's arrays."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return round(pages * resource.getpagesize() / 2**20, 1)


def _peak_rss_megabytes() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    sample: int = 1000,
    settings: DedupSettings | None = None,
    directory: Path | None = None,
) -> dict[str, Any]:
    """Per-article assign cost, db size and memory at each archive size."""
    settings = settings or load_settings().dedup
    bands, rows = lsh_params(settings.lsh_threshold, settings.num_perm)
    results: dict[str, Any] = {
        "bands": bands,
        "rows": rows,
        "num_perm": settings.num_perm,
        "sample": sample,
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "bench.db"
        db = store.open_db(path)
        index = StoryIndex(db, settings)
        rng = np.random.default_rng(SEED)
        maker = TextMaker()
        pool: list[list[str]] = []
        built = 0
        next_id = 1
        for size in sorted(sizes):
            started = time.perf_counter()
            filler = max(0, size - built)
            _grow_filler(db, rng, next_id, next_id + filler, bands, settings.num_perm)
            next_id += filler
            built += filler
            build_seconds = time.perf_counter() - started
            docs = _sample_documents(maker, sample, pool)
            timings = _assign_sample(db, index, docs, f"s{size}")
            built += sample
            tracemalloc.start()
            _assign_sample(db, index, _sample_documents(maker, 100, pool), f"m{size}")
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            next_id = int(db.execute("select max(id) from articles").fetchone()[0]) + 1
            built += 100
            micro = {k: [t * 1e6 for t in v] for k, v in timings.items()}
            total = [f + i for f, i in zip(micro["fingerprint"], micro["index"], strict=True)]
            results["sizes"].append(
                {
                    "articles": size,
                    "build_seconds": round(build_seconds, 1),
                    "us_per_article_mean": round(statistics.fmean(total)),
                    "us_per_article_p50": round(statistics.median(total)),
                    "us_per_article_p95": round(float(np.percentile(total, 95))),
                    "cpu_us_per_article_mean": round(statistics.fmean(micro["cpu"])),
                    "us_fingerprint_mean": round(statistics.fmean(micro["fingerprint"])),
                    "us_index_mean": round(statistics.fmean(micro["index"])),
                    "us_index_p50": round(statistics.median(micro["index"])),
                    "us_index_p95": round(float(np.percentile(micro["index"], 95))),
                    "cpu_us_index_mean": round(statistics.fmean(micro["index_cpu"])),
                    "us_commit_mean": round(statistics.fmean(micro["commit"])),
                    "band_rows": db.execute("select count(*) from dedup_bands").fetchone()[0],
                    "sentence_rows": db.execute("select count(*) from dedup_sentences").fetchone()[
                        0
                    ],
                    "db_mb": _db_megabytes(path),
                    "assign_traced_peak_mb": round(traced_peak / 2**20, 2),
                    "rss_mb_after_assign": _rss_megabytes(),
                    "process_peak_rss_mb": _peak_rss_megabytes(),
                }
            )
        db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 50k articles only")
    parser.add_argument("--copies", action="store_true", help="only the threshold measurement")
    parser.add_argument("--sample", type=int, default=None)
    args = parser.parse_args()
    if args.copies:
        print(json.dumps(measure_copies(), indent=2))
        return
    sizes = (10_000, 50_000) if args.quick else (10_000, 100_000, 1_000_000)
    sample = args.sample or (300 if args.quick else 1000)
    print(json.dumps(run(sizes=sizes, sample=sample), indent=2))


if __name__ == "__main__":
    main()
