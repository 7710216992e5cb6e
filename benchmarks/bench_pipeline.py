"""Throughput of one stage over the same stored pages, run alone in this process.

`benchmarks.run` starts one fresh process per stage so stages do not share caches or
memory, pins it to one core, and reads the JSON line it prints last:

    python -m benchmarks.bench_pipeline STAGE --corpus DIR --docs N --repeat K

Stages: parse (lxml only, the floor), trafilatura (bare_extraction alone, with metadata),
trafilatura_body (the same without metadata), extract
(our extract_article: trafilatura + language), pipeline (Ingestor: extraction + dedup +
detection + SQLite store into a fresh temp file per repeat), detect (Detector.analyze on
articles extracted beforehand), profile (cProfile over one pipeline pass).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpus import DocEntry, load_manifest

Pages = list[tuple[str, bytes]]


def pin_to_one_core() -> bool:
    """Measure per-core throughput: the figure capacity planning multiplies by cores."""
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
            return True
        except OSError:
            return False
    return False


def peak_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KB on Linux, B on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def load_pages(corpus: Path, docs: int) -> Pages:
    entries: list[DocEntry] = load_manifest(corpus)[:docs]
    return [(e.url, (corpus / e.file).read_bytes()) for e in entries]


def timed_passes(
    pages: Pages, repeat: int, one: Callable[[str, bytes], Any]
) -> dict[str, list[float]]:
    """Docs per second of each pass over all pages, by the wall clock and by CPU time.

    CPU time (this process only) is what a busy shared machine distorts least; on an idle
    machine the two agree for these single-threaded stages.
    """
    rates, cpu_rates = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for url, html in pages:
            one(url, html)
        rates.append(len(pages) / (time.perf_counter() - wall))
        cpu_rates.append(len(pages) / max(time.process_time() - cpu, 1e-9))
    return {"rates": rates, "cpu_rates": cpu_rates}


def bench_parse(pages: Pages, repeat: int) -> dict[str, Any]:
    import lxml.html

    return timed_passes(pages, repeat, lambda url, html: lxml.html.fromstring(html))


def bench_trafilatura(pages: Pages, repeat: int, with_metadata: bool = True) -> dict[str, Any]:
    """trafilatura alone on the whole page bytes, as a trafilatura user would call it.

    Same options as `extract.text.TRAFILATURA_OPTIONS` (fast, no comments, no tables).
    With metadata (the default stage) it produces what our Article carries: body, title,
    date, author, site name. `trafilatura_body` is the body only, trafilatura's own default.
    """
    import trafilatura

    from extract.text import TRAFILATURA_OPTIONS

    options = {**TRAFILATURA_OPTIONS, "with_metadata": with_metadata}

    def one(url: str, html: bytes) -> Any:
        return trafilatura.bare_extraction(html, url=url, **options)

    one(*pages[0])  # first call pays trafilatura's lazy imports and setup
    return {**timed_passes(pages, repeat, one), "options": options}


def bench_trafilatura_body(pages: Pages, repeat: int) -> dict[str, Any]:
    return bench_trafilatura(pages, repeat, with_metadata=False)


def bench_extract(pages: Pages, repeat: int) -> dict[str, Any]:
    from extract.text import ExtractionError, extract_article

    failures = 0

    def one(url: str, html: bytes) -> None:
        nonlocal failures
        try:
            extract_article(html, url)
        except ExtractionError:
            failures += 1

    one(*pages[0])
    failures = 0
    return {**timed_passes(pages, repeat, one), "failures": failures // max(repeat, 1)}


class PipelineRun:
    """One pass of the real Ingestor over the pages into a fresh temp SQLite file."""

    def __init__(self, workdir: Path) -> None:
        from extract.detect import load_detector
        from pantau.core.settings import load_settings

        self.workdir = workdir
        self.settings = load_settings()
        self.detector = load_detector()
        self.passes = 0

    def run(self, pages: Pages) -> dict[str, Any]:
        from extract.models import Page
        from extract.text import ExtractionError
        from pantau.core import store
        from pantau.ingest import Ingestor

        self.passes += 1
        db_path = self.workdir / f"pipeline-{self.passes}.db"
        db = store.open_db(db_path)
        ingestor = Ingestor(db, self.settings, self.detector)
        fetched = datetime.now(UTC)
        failures = 0
        started, cpu = time.perf_counter(), time.process_time()
        for url, html in pages:
            try:
                ingestor.ingest_page(Page(url=url, html=html, site="bench", fetched_at=fetched))
            except ExtractionError:
                failures += 1
        elapsed = time.perf_counter() - started
        cpu_elapsed = max(time.process_time() - cpu, 1e-9)
        clusters = db.execute("select count(distinct cluster_id) from articles").fetchone()[0]
        verdicts = dict(db.execute("select verdict, count(*) from findings group by verdict"))
        db.conn.close()
        size_mb = sum(p.stat().st_size for p in self.workdir.glob(f"{db_path.name}*")) / 2**20
        for leftover in self.workdir.glob(f"{db_path.name}*"):
            leftover.unlink()
        return {
            "rate": len(pages) / elapsed,
            "cpu_rate": len(pages) / cpu_elapsed,
            "failures": failures,
            "clusters": clusters,
            "verdicts": verdicts,
            "db_mb": round(size_mb, 1),
        }


def bench_pipeline(pages: Pages, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        runner = PipelineRun(Path(tmp))
        runner.run(pages[:3])  # warm: detector pipeline, regex caches, SQLite
        passes = [runner.run(pages) for _ in range(repeat)]
    last = passes[-1]
    return {
        "rates": [p["rate"] for p in passes],
        "cpu_rates": [p["cpu_rate"] for p in passes],
        "failures": last["failures"],
        "clusters": last["clusters"],
        "verdicts": last["verdicts"],
        "db_mb": last["db_mb"],
    }


def bench_detect(pages: Pages, repeat: int) -> dict[str, Any]:
    from extract.detect import load_detector
    from extract.text import ExtractionError, extract_article

    articles = []
    for url, html in pages:
        try:
            articles.append(extract_article(html, url))
        except ExtractionError:
            continue
    detector = load_detector()
    for article in articles[:3]:
        detector.analyze(article)
    means, cpu_means = [], []
    every: list[float] = []
    verdicts: dict[str, int] = {}
    for _ in range(repeat):
        times = []
        cpu = time.process_time()
        for article in articles:
            started = time.perf_counter()
            finding = detector.analyze(article)
            times.append((time.perf_counter() - started) * 1000)
            verdicts[finding.verdict] = verdicts.get(finding.verdict, 0) + 1
        means.append(statistics.fmean(times))
        cpu_means.append((time.process_time() - cpu) * 1000 / max(len(articles), 1))
        every.extend(times)
    every.sort()
    return {
        "ms_per_article": means,
        "cpu_ms_per_article": cpu_means,
        "p95_ms": round(every[int(len(every) * 0.95)], 2) if every else None,
        "max_ms": round(every[-1], 2) if every else None,
        "articles": len(articles),
        "words_per_article": round(statistics.fmean(len(a.text.split()) for a in articles), 1)
        if articles
        else 0,
        "verdicts": {k: v // max(repeat, 1) for k, v in verdicts.items()},
        "detector_version": detector.version,
    }


def bench_profile(pages: Pages, repeat: int, top: int = 15) -> dict[str, Any]:
    """cProfile over one pipeline pass: where the time goes, by cumulative cost."""
    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        runner = PipelineRun(Path(tmp))
        runner.run(pages[:3])
        profiler = cProfile.Profile()
        profiler.enable()
        runner.run(pages)
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(top + 10)
    raw = stats.stats  # type: ignore[attr-defined]
    total = max((cum for (_cc, _n, _tt, cum, _callers) in raw.values()), default=1e-9)
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in raw.items():
        rows.append(
            {
                "function": f"{short_path(filename)}:{line}({name})",
                "calls": ncalls,
                "tottime_s": round(tottime, 3),
                "cumtime_s": round(cumtime, 3),
                "cum_pct": round(100 * cumtime / total, 1),
            }
        )
    # The harness's own frames (this module's pass loop) head every list: skip them.
    rows = [r for r in rows if not r["function"].startswith("benchmarks/")]
    by_cum = sorted(rows, key=lambda r: r["cumtime_s"], reverse=True)
    by_own = sorted(rows, key=lambda r: r["tottime_s"], reverse=True)
    return {
        "total_s": round(total, 2),
        "docs": len(pages),
        "top_cumulative": by_cum[:top],
        "top_own_time": by_own[:top],
        "report": stream.getvalue(),
    }


def short_path(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


STAGES: dict[str, Callable[[Pages, int], dict[str, Any]]] = {
    "parse": bench_parse,
    "trafilatura": bench_trafilatura,
    "trafilatura_body": bench_trafilatura_body,
    "extract": bench_extract,
    "pipeline": bench_pipeline,
    "detect": bench_detect,
    "profile": bench_profile,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark stage in this process.")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pinned = pin_to_one_core()
    pages = load_pages(args.corpus, args.docs)
    baseline = peak_mb()
    result = STAGES[args.stage](pages, args.repeat)
    result.update(
        stage=args.stage,
        docs=len(pages),
        repeat=args.repeat,
        pinned_one_core=pinned,
        pages_mb=round(sum(len(h) for _, h in pages) / 2**20, 1),
        baseline_mb=baseline,
        peak_mb=peak_mb(),
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
