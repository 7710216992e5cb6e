"""`make bench`: what Pantau costs per page, per article and per stored archive size.

Every stage runs in a fresh subprocess pinned to one core, so stages share no caches and
each reports its own peak memory (ru_maxrss). Figures are medians of repeated passes over
the same stored corpus pages. Results go to a table on stdout and to a JSON file.

    python -m benchmarks.run                 # full run (several minutes)
    python -m benchmarks.run --quick         # reduced run, under two minutes
    python -m benchmarks.run --profile       # also cProfile the pipeline: top 15 costs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.corpus import DEFAULT_DOCS, DEFAULT_SEED, ensure_corpus
from pantau.core.settings import PROJECT_ROOT

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
QUICK_OUT = DEFAULT_OUT.with_name("results-quick.json")  # a quick run never replaces the full
FULL: dict[str, Any] = {
    "sample": 500,
    "repeat": 3,
    "dedup_sizes": (10_000, 100_000, 1_000_000),
    "dedup_sample": 1000,
    "crawl_articles": 2000,
}
QUICK: dict[str, Any] = {
    "docs": 300,
    "sample": 40,
    "repeat": 2,
    "dedup_sizes": (1_000, 10_000),
    "dedup_sample": 200,
    "crawl_articles": 100,
}
STAGE_TIMEOUT = 3600

console = Console(width=None if sys.stdout.isatty() else 110)


def size_label(size: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if size >= div and size % div == 0:
            return f"{size // div}{unit}"
    return str(size)


def run_child(args: list[str], timeout: float = STAGE_TIMEOUT) -> dict[str, Any]:
    """Run `python ARGS` from the project root; its last stdout line is a JSON object."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    elapsed = round(time.perf_counter() - started, 1)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}", "seconds": elapsed}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"no JSON result: {lines[-1][:200]}", "seconds": elapsed}
    result["seconds"] = elapsed
    if len(lines) > 1:
        result["stdout"] = "\n".join(lines[:-1])
    return result


def interleaved_stages(
    names: tuple[str, ...], corpus: Path, docs: int, repeat: int
) -> dict[str, dict[str, Any]]:
    """Every stage once per round (one pass in a fresh process), `repeat` rounds.

    A shared VM speeds up and slows down over minutes (the same pass varied by 30 % here
    from one run to the next). Run one stage after the other and a ratio compares two
    different machines; interleaved, each round sees one machine, so the ratios hold.
    """
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for number in range(1, repeat + 1):
        for name in names:
            passes[name].append(stage(name, corpus, docs, 1, f"round {number}/{repeat}"))
    return {name: merge_passes(results) for name, results in passes.items()}


PASS_LISTS = ("rates", "cpu_rates", "ms_per_article", "cpu_ms_per_article")


def merge_passes(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One stage's passes from several processes as if from one: lists joined, peak max."""
    done = [r for r in results if not r.get("error")]
    if not done:
        return results[-1]
    merged = dict(done[-1])
    for key in PASS_LISTS:
        if key in merged:
            merged[key] = [value for r in done for value in r.get(key, [])]
    merged["peak_mb"] = max(r.get("peak_mb") or 0 for r in done)
    merged["seconds"] = round(sum(r.get("seconds") or 0 for r in done), 1)
    merged["repeat"] = len(done)
    if len(done) < len(results):
        merged["failed_passes"] = [r["error"] for r in results if r.get("error")]
    return merged


def stage(name: str, corpus: Path, docs: int, repeat: int, note: str = "") -> dict[str, Any]:
    with console.status(f"[bold]{name}[/bold] on {docs} pages x {repeat} {note}"):
        result = run_child(
            [
                "-m",
                "benchmarks.bench_pipeline",
                name,
                "--corpus",
                str(corpus),
                "--docs",
                str(docs),
                "--repeat",
                str(repeat),
            ]
        )
    done = result.get("error") or f"{result.get('seconds')} s"
    console.print(f"  {name}{f' ({note})' if note else ''}: {done}", highlight=False)
    return result


DEDUP_CHILD = """
import json, os, resource, sys
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from benchmarks.bench_dedup import run
result = run(sizes=tuple(json.loads(sys.argv[1])), sample=int(sys.argv[2]))
result = dict(result) if isinstance(result, dict) else {"result": result}
result["process_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(result, default=str))
"""


def dedup_stage(sizes: tuple[int, ...], sample: int) -> dict[str, Any]:
    with console.status(f"[bold]dedup[/bold] at {', '.join(map(size_label, sizes))} stored"):
        result = run_child(["-c", DEDUP_CHILD, json.dumps(list(sizes)), str(sample)])
    console.print(f"  dedup: {result.get('error') or str(result.get('seconds')) + ' s'}")
    return result


def crawl_stage(corpus: Path, entries: list[Any], articles: int) -> dict[str, Any]:
    from benchmarks import bench_crawl

    with console.status(
        f"[bold]crawl[/bold] of a {articles}-article loopback site: on, off, in-process"
    ):
        started = time.perf_counter()
        try:
            result = bench_crawl.run(corpus, entries, articles)
        except Exception as exc:  # a broken crawler must not lose the other figures
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.perf_counter() - started, 1)
    console.print(f"  crawl: {result.get('error') or str(result['seconds']) + ' s'}")
    return result


def median(values: list[float] | None) -> float | None:
    return round(statistics.median(values), 2) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def dedup_figures(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """us per article, peak MB and DB MB keyed by archive size, from bench_dedup's result.

    bench_dedup.run returns {"sizes": [{"articles": N, "us_per_article_mean": ..., "db_mb":
    ..., "process_peak_rss_mb": ...}, ...]}; a mapping keyed by size is accepted too.
    """
    per_size = result.get("sizes") or {}
    rows: list[tuple[Any, dict[str, Any]]] = []
    if isinstance(per_size, list):
        rows = [(r.get("articles") or r.get("size"), r) for r in per_size if isinstance(r, dict)]
    elif isinstance(per_size, dict):
        rows = [(k, r) for k, r in per_size.items() if isinstance(r, dict)]
    us: dict[str, Any] = {}
    peak: dict[str, Any] = {}
    db_mb: dict[str, Any] = {}
    for key, row in rows:
        label = size_label(int(key)) if str(key).isdigit() else str(key)
        us[label] = first_of(row, "us_per_article_mean", "us_per_article", "us_per_article_p50")
        peak[label] = first_of(row, "process_peak_rss_mb", "peak_mb", "peak_rss_mb")
        db_mb[label] = first_of(row, "db_mb", "db_size_mb")
    return us, peak, db_mb


def first_of(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def memory_gb() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def summarize(stages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Headline figures: medians over passes, by the wall clock and (cpu_*) by CPU time."""
    wall = {name: median(stages[name].get("rates")) for name in THROUGHPUT}
    cpu = {name: median(stages[name].get("cpu_rates")) for name in THROUGHPUT}
    detect = stages["detect"]
    dedup_us, dedup_peak, dedup_db = dedup_figures(stages.get("dedup", {}))
    crawl = stages.get("crawl", {})
    us_values = [v for v in dedup_us.values() if isinstance(v, int | float)]
    on, off = crawl.get("pipeline_on") or {}, crawl.get("pipeline_off") or {}
    in_process = crawl.get("pipeline_in_process") or {}
    return {
        "parse_docs_per_s": wall["parse"],
        "trafilatura_docs_per_s": wall["trafilatura"],
        "trafilatura_body_docs_per_s": wall["trafilatura_body"],
        "extract_docs_per_s": wall["extract"],
        "pipeline_docs_per_s": wall["pipeline"],
        "pipeline_vs_trafilatura": ratio(wall["pipeline"], wall["trafilatura"]),
        "pipeline_vs_trafilatura_body": ratio(wall["pipeline"], wall["trafilatura_body"]),
        "extract_vs_trafilatura": ratio(wall["extract"], wall["trafilatura"]),
        "trafilatura_vs_parse": ratio(wall["trafilatura"], wall["parse"]),
        "pipeline_vs_parse": ratio(wall["pipeline"], wall["parse"]),
        "cpu_docs_per_s": cpu,
        "cpu_pipeline_vs_trafilatura": ratio(cpu["pipeline"], cpu["trafilatura"]),
        "cpu_pipeline_vs_trafilatura_body": ratio(cpu["pipeline"], cpu["trafilatura_body"]),
        "detect_ms_per_article": median(detect.get("ms_per_article")),
        "detect_cpu_ms_per_article": median(detect.get("cpu_ms_per_article")),
        "detect_p95_ms": detect.get("p95_ms"),
        "peak_mb": {name: stages[name].get("peak_mb") for name in PEAKED},
        "dedup_us_per_article": dedup_us,
        "dedup_peak_mb": dedup_peak,
        "dedup_db_mb": dedup_db,
        "dedup_growth": round(max(us_values) / min(us_values), 2)
        if len(us_values) > 1 and min(us_values) > 0
        else None,
        "crawl_pages_per_s": crawl.get("crawl_pages_per_s"),
        "crawl_pipeline_off_pages_per_s": crawl.get("crawl_pipeline_off_pages_per_s"),
        "crawl_pipeline_ratio": crawl.get("crawl_pipeline_ratio"),
        "crawl_inprocess_pages_per_s": crawl.get("crawl_inprocess_pages_per_s"),
        "crawl_inprocess_ratio": crawl.get("crawl_inprocess_ratio"),
        "crawl_inprocess_cpu_ms_per_page": in_process.get("crawler_cpu_ms_per_page"),
        "crawl_startup_cpu_s": crawl.get("crawl_startup_cpu_s"),
        "crawl_idle_cpu_s": crawl.get("crawl_idle_cpu_s"),
        "crawl_ceiling_pages_per_s": crawl.get("crawl_ceiling_pages_per_s"),
        "crawl_ceiling_ratio": crawl.get("crawl_ceiling_ratio"),
        "crawl_ingest_processes": crawl.get("ingest_processes"),
        "crawl_cpu_ms_per_page": on.get("crawler_cpu_ms_per_page"),
        "crawl_pipeline_off_cpu_ms_per_page": off.get("crawler_cpu_ms_per_page"),
        "crawl_cpu_ratio": ratio(
            off.get("crawler_cpu_ms_per_page"), on.get("crawler_cpu_ms_per_page")
        ),
        "crawl_peak_mb": {
            "on": on.get("crawler_peak_mb"),
            "on_worker": on.get("workers_peak_mb"),
            "off": off.get("crawler_peak_mb"),
            "in_process": in_process.get("crawler_peak_mb"),
        },
    }


THROUGHPUT = ("parse", "trafilatura", "trafilatura_body", "extract", "pipeline")
PEAKED = ("parse", "trafilatura", "trafilatura_body", "extract", "pipeline", "detect")


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    peaks = [v for v in figures["dedup_peak_mb"].values() if isinstance(v, int | float)]

    def check(name: str, measured: Any, goal: str, met: bool | None) -> dict[str, Any]:
        return {"name": name, "measured": measured, "target": goal, "met": met}

    def at_least(value: Any, floor: float) -> bool | None:
        return None if value is None else value >= floor

    def under(value: Any, ceiling: float) -> bool | None:
        return None if value is None else value < ceiling

    growth = figures["dedup_growth"]
    return [
        check(
            "pipeline vs trafilatura",
            figures["pipeline_vs_trafilatura"],
            ">= 0.8",
            at_least(figures["pipeline_vs_trafilatura"], 0.8),
        ),
        check(
            "pipeline vs trafilatura body only (stricter)",
            figures["pipeline_vs_trafilatura_body"],
            ">= 0.8",
            at_least(figures["pipeline_vs_trafilatura_body"], 0.8),
        ),
        check(
            "detection ms/article",
            figures["detect_ms_per_article"],
            "< 20",
            under(figures["detect_ms_per_article"], 20),
        ),
        check("dedup cost growth", growth, "<= 2x", None if growth is None else growth <= 2),
        check(
            "dedup peak MB",
            max(peaks) if peaks else None,
            "< 2048",
            under(max(peaks) if peaks else None, 2048),
        ),
        check(
            "crawl on/off",
            figures["crawl_pipeline_ratio"],
            ">= 0.5",
            at_least(figures["crawl_pipeline_ratio"], 0.5),
        ),
    ]


def shown(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,}{unit}" if isinstance(value, int | float) else str(value)


def render(figures: dict[str, Any], checks: list[dict[str, Any]], info: dict[str, Any]) -> Table:
    box = info["machine"]
    table = Table(
        title=f"Pantau benchmark ({info['mode']}; {box['cpu_model']}, {box['cores']} cores, "
        f"Python {box['python']}; one core per stage; crawl on/off on all cores)",
        caption="wall = elapsed time; cpu = the process's own CPU time (steadier on a busy "
        "machine)",
    )
    for name, justify in (("figure", "left"), ("wall", "right"), ("cpu", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("peak MB", justify="right")
    peaks, cpu = figures["peak_mb"], figures["cpu_docs_per_s"]
    labels = {
        "parse": "lxml parse only (docs/s, the floor)",
        "trafilatura": "trafilatura alone, body + metadata (docs/s)",
        "trafilatura_body": "trafilatura alone, body only (docs/s)",
        "extract": "extract_article (docs/s)",
        "pipeline": "full pipeline (docs/s)",
    }
    for name, label in labels.items():
        wall = figures[f"{name}_docs_per_s"]
        table.add_row(label, shown(wall), shown(cpu.get(name)), shown(peaks.get(name)))
    table.add_row(
        "  pipeline / trafilatura",
        shown(figures["pipeline_vs_trafilatura"], "x"),
        shown(figures["cpu_pipeline_vs_trafilatura"], "x"),
        "",
    )
    table.add_row(
        "  pipeline / trafilatura body only",
        shown(figures["pipeline_vs_trafilatura_body"], "x"),
        shown(figures["cpu_pipeline_vs_trafilatura_body"], "x"),
        "",
    )
    table.add_row("  trafilatura / parse", shown(figures["trafilatura_vs_parse"], "x"), "", "")
    table.add_row("  pipeline / parse", shown(figures["pipeline_vs_parse"], "x"), "", "")
    table.add_row(
        "detection (ms/article, mean)",
        shown(figures["detect_ms_per_article"]),
        shown(figures["detect_cpu_ms_per_article"]),
        shown(peaks.get("detect")),
    )
    table.add_row("detection p95 (ms)", shown(figures["detect_p95_ms"]), "", "")
    for size, us in figures["dedup_us_per_article"].items():
        db = figures["dedup_db_mb"].get(size)
        label = f"dedup at {size} stored (us/article)" + (f", db {db} MB" if db else "")
        table.add_row(label, shown(us), "", shown(figures["dedup_peak_mb"].get(size)))
    crawl_peaks = figures["crawl_peak_mb"]
    table.add_row(
        f"loopback crawl, pipeline on, {figures['crawl_ingest_processes']} ingest worker(s),"
        " all cores (pages/s; cpu ms/page incl. workers; peak MB crawl process)",
        shown(figures["crawl_pages_per_s"]),
        shown(figures["crawl_cpu_ms_per_page"]),
        shown(crawl_peaks.get("on")),
    )
    table.add_row("  peak MB of one ingest worker", "", "", shown(crawl_peaks.get("on_worker")))
    table.add_row(
        "loopback crawl, pipeline off, all cores (pages/s; cpu ms/page)",
        shown(figures["crawl_pipeline_off_pages_per_s"]),
        shown(figures["crawl_pipeline_off_cpu_ms_per_page"]),
        shown(crawl_peaks.get("off")),
    )
    table.add_row(
        "  crawl on / off",
        shown(figures["crawl_pipeline_ratio"], "x"),
        shown(figures["crawl_cpu_ratio"], "x"),
        "",
    )
    table.add_row(
        "  ceiling: every core busy at the on crawl's cpu ms/page (pages/s)",
        shown(figures["crawl_ceiling_pages_per_s"]),
        "",
        "",
    )
    table.add_row(
        "  ceiling / off: the best on/off these cores allow",
        shown(figures["crawl_ceiling_ratio"], "x"),
        "",
        "",
    )
    table.add_row(
        "loopback crawl, pipeline in-process, one core (pages/s; cpu ms/page)",
        shown(figures["crawl_inprocess_pages_per_s"]),
        shown(figures["crawl_inprocess_cpu_ms_per_page"]),
        shown(crawl_peaks.get("in_process")),
    )
    table.add_row("  crawl in-process / off", shown(figures["crawl_inprocess_ratio"], "x"), "", "")
    table.add_row(
        "crawl of a single new page, pipeline on (cpu s: what any crawl that ingests pays)",
        "",
        shown(figures["crawl_startup_cpu_s"]),
        "",
    )
    table.add_row(
        "crawl that finds nothing new (cpu s)", "", shown(figures["crawl_idle_cpu_s"]), ""
    )
    table.add_section()
    mark = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[yellow]n/a[/yellow]"}
    for c in checks:
        table.add_row(f"target: {c['name']} {c['target']}", shown(c["measured"]), mark[c["met"]])
    return table


def profile_table(profile: dict[str, Any]) -> Table:
    table = Table(
        title=f"pipeline profile: top 15 cumulative ({profile.get('docs')} pages, "
        f"{profile.get('total_s')} s under cProfile)"
    )
    table.add_column("function")
    table.add_column("calls", justify="right")
    table.add_column("own s", justify="right")
    table.add_column("cum s", justify="right")
    table.add_column("cum %", justify="right")
    for r in profile.get("top_cumulative", []):
        table.add_row(
            r["function"],
            str(r["calls"]),
            str(r["tottime_s"]),
            str(r["cumtime_s"]),
            str(r["cum_pct"]),
        )
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--docs", type=int, help=f"corpus pages (default {DEFAULT_DOCS})")
    parser.add_argument("--sample", type=int, help="pages per throughput pass (0 = all docs)")
    parser.add_argument("--repeat", type=int, help="passes per stage; the median is reported")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quick", action="store_true", help="reduced run, under two minutes")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline stage")
    parser.add_argument(
        "--out", type=Path, help="results file (default results.json, or results-quick.json)"
    )
    parser.add_argument("--crawl-articles", type=int)
    parser.add_argument(
        "--dedup-sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="comma-separated stored-archive sizes, e.g. 10000,100000,1000000",
    )
    parser.add_argument("--skip", default="", help="comma-separated: pipeline,dedup,crawl")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    plan: dict[str, Any] = dict(QUICK if args.quick else {"docs": DEFAULT_DOCS, **FULL})
    for key in ("docs", "sample", "repeat", "crawl_articles", "dedup_sizes"):
        if getattr(args, key) is not None:
            plan[key] = getattr(args, key)
    docs = int(plan["docs"])
    sample = min(docs, int(plan["sample"])) or docs
    crawl_articles = min(docs, int(plan["crawl_articles"]))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = time.perf_counter()
    info: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine()}

    with console.status(f"corpus: {docs} pages, seed {args.seed}"):
        corpus, entries = ensure_corpus(docs, args.seed)
    sizes = sorted(e.bytes for e in entries)
    info["corpus"] = {
        "dir": str(corpus.relative_to(PROJECT_ROOT)),
        "seed": args.seed,
        "docs": len(entries),
        "kb_min": sizes[0] // 1024,
        "kb_median": sizes[len(sizes) // 2] // 1024,
        "kb_max": sizes[-1] // 1024,
        "copies": sum(e.copy_of is not None for e in entries),
        "kinds": {k: sum(e.kind == k for e in entries) for k in sorted({e.kind for e in entries})},
    }
    console.print(f"corpus {info['corpus']}", highlight=False)
    info["plan"] = {
        "sample": sample,
        "repeat": plan["repeat"],
        "crawl_articles": crawl_articles,
        "dedup_sizes": list(plan["dedup_sizes"]),
        "dedup_sample": plan["dedup_sample"],
    }

    stages: dict[str, dict[str, Any]] = (
        {name: {} for name in PEAKED}
        if "pipeline" in skip
        else interleaved_stages(PEAKED, corpus, sample, int(plan["repeat"]))
    )
    if args.profile and "pipeline" not in skip:
        stages["profile"] = stage("profile", corpus, sample, 1)
    stages["dedup"] = (
        {}
        if "dedup" in skip
        else dedup_stage(tuple(plan["dedup_sizes"]), int(plan["dedup_sample"]))
    )
    stages["crawl"] = {} if "crawl" in skip else crawl_stage(corpus, entries, crawl_articles)

    figures = summarize(stages)
    checks = targets(figures)
    info["runtime_s"] = round(time.perf_counter() - started, 1)
    console.print(render(figures, checks, info))
    if "profile" in stages and "top_cumulative" in stages["profile"]:
        console.print(profile_table(stages["profile"]))
    errors = {name: s["error"] for name, s in stages.items() if s.get("error")}
    for name, error in errors.items():
        console.print(f"[red]{name} failed:[/red] {error}", highlight=False)
    stages.get("profile", {}).pop("report", None)
    result = {**figures, "targets": checks, **info, "errors": errors, "stages": stages}
    result.update(national_keys(args.out))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    console.print(f"wrote {args.out} in {info['runtime_s']} s", highlight=False)


def national_keys(path: Path) -> dict[str, Any]:
    """The national-hour figures (`make bench-national`) survive a run of the others."""
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return {k: v for k, v in previous.items() if k.startswith("national_")}


if __name__ == "__main__":
    main()
