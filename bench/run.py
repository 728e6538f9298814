"""`python -m bench`: every benchmark in one run, written to bench/results/.

Ingest throughput (ours, the raw embedder, the llama-index peer, side by side), re-ingest of
unchanged corpora, retrieval latency at three corpus sizes in embedded and server mode, memory,
concurrency (20 users; an ingest while serving), and answer latency with the bundled model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lodestar.core.offline import configure_offline_environment

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
RESULTS = ROOT / "bench" / "results"
CACHE = Path.home() / ".cache" / "lodestar" / "bench"


def _size_label(chunks: int) -> str:
    return f"{round(chunks / 1000)}k" if chunks >= 1000 else str(chunks)


def run_worker(*args: str) -> dict[str, Any]:
    """Run `python -m bench.worker ARGS` and return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.worker {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


class Phases:
    """Wall time of each phase of the run, printed as it goes."""

    def __init__(self) -> None:
        """Start the clock."""
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time one phase."""
        print(f"[{time.perf_counter() - self.started:6.0f}s] {name}…", flush=True)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 1)

    @property
    def total(self) -> float:
        """Seconds since the start."""
        return round(time.perf_counter() - self.started, 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder [bench/results]")
    parser.add_argument(
        "--work-dir", type=Path, help="scratch folder [a new temp dir, removed after]"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds of the starter-KB ingest comparison [3]"
    )
    parser.add_argument(
        "--synthetic-chunks",
        type=int,
        default=500,
        help="synthetic corpus embedded for real by all three systems [500]",
    )
    parser.add_argument(
        "--synthetic-repeats",
        type=int,
        default=3,
        help="rounds of the synthetic ingest comparison [3]; one round is ~10 s per system on "
        "an AVX-512 machine, and a single round moved the ratio to the raw embedder by 0.12 "
        "between two runs",
    )
    parser.add_argument(
        "--mid-chunks", type=int, default=10000, help="the ~10k corpus (vectors replayed) [10000]"
    )
    parser.add_argument(
        "--large-copies",
        type=int,
        default=10,
        help="the large index is the mid one times this [10 → ~100k]",
    )
    parser.add_argument(
        "--server-large",
        action="store_true",
        help="also measure the large index through a Chroma server",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="rebuild the large index instead of reusing ~/.cache/lodestar/bench",
    )
    parser.add_argument(
        "--skip-answer",
        action="store_true",
        help="skip the answer-latency benchmark (bundled LLM, ~3 min)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one round, no answers: a smoke test (~4 min)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.synthetic_chunks, args.mid_chunks, args.large_copies = 1, 300, 2000, 3
        args.skip_answer = True
    return args


def main(argv: list[str] | None = None) -> None:
    """Run everything and write bench/results/bench.{md,json} and retrieval_latency.png."""
    configure_offline_environment()
    args = parse_args(argv)
    from bench.measure import load_average, machine

    results: dict[str, Any] = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": {"start": load_average()},
        "ingest": {},
        "reingest": {},
        "retrieval": {"embedded": {}, "server": {}},
        "memory": {},
        "concurrency": {},
        "answer": None,
        "team": None,
    }
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="lodestar-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    phases = Phases()
    try:
        _run(args, work, results, phases)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    results["load_average"]["end"] = load_average()
    results["phase_seconds"] = phases.seconds
    results["total_seconds"] = phases.total
    results["notes"] = notes(results, args)
    from bench.report import targets, write_json, write_markdown, write_plot

    results["targets"] = targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    plot = "retrieval_latency.png"
    write_plot(results, args.out / plot)
    write_json(results, args.out / "bench.json")
    write_markdown(results, args.out / "bench.md", plot)
    print((args.out / "bench.md").read_text(encoding="utf-8"))


def _run(args: argparse.Namespace, work: Path, results: dict[str, Any], phases: Phases) -> None:
    import numpy as np

    from bench.corpus import write_corpus
    from bench.ingest_bench import IngestBench
    from bench.replay import ReplayEmbedding
    from ingest.pipeline import ingest_paths, make_chunker
    from lodestar.components.services import Services
    from lodestar.core.settings import get_settings

    settings = get_settings()

    def services(data_dir: Path, **kwargs: Any) -> Services:
        return Services(settings.model_copy(update={"data_dir": data_dir}), **kwargs)

    with phases.phase("load the embedder, write the synthetic corpora"):
        base = services(work / "base")
        embed_model = base.embed_model
        chunker = make_chunker(base.settings, base.tokenizer)
        small, _, small_chunks = write_corpus(
            work / "c-small", KNOWLEDGE, args.synthetic_chunks, chunker
        )
        mid, mid_docs, mid_chunks = write_corpus(
            work / "c-mid", KNOWLEDGE, args.mid_chunks, chunker
        )
    small_label, mid_label = _size_label(small_chunks), _size_label(mid_chunks)
    large_label = _size_label(mid_chunks * args.large_copies)
    idx = {
        "starter": work / "idx-starter",
        small_label: work / "idx-small",
        mid_label: work / "idx-mid",
        large_label: work / "idx-large",
    }

    ingest = IngestBench(embed_model, work / "ingest", settings)
    with phases.phase(f"ingest comparison on the starter KB ({args.repeats} rounds)"):
        results["ingest"]["starter"] = ingest.compare(
            "starter KB (knowledge/)", KNOWLEDGE, args.repeats, keep_ours=idx["starter"]
        )
    with phases.phase(f"ingest comparison on {small_chunks} synthetic chunks"):
        results["ingest"]["synthetic"] = ingest.compare(
            f"synthetic, {small_chunks} chunks",
            small,
            args.synthetic_repeats,
            keep_ours=idx[small_label],
        )
    pool_path = work / "pool.npy"
    pool = np.asarray(
        services(idx[small_label]).vector_store.client.get(include=["embeddings"])["embeddings"],
        dtype=np.float32,
    )
    np.save(pool_path, pool)

    with phases.phase(
        f"ingest {mid_chunks} chunks with replayed vectors (ours in its own process, peer)"
    ):
        ours = run_worker(
            "ingest",
            "--data-dir",
            str(idx[mid_label]),
            "--folder",
            str(mid),
            "--pool",
            str(pool_path),
        )
        peer = IngestBench(ReplayEmbedding(pool), work / "ingest", settings).run_peer(
            mid, work / "peer-mid" / "chroma"
        )
        shutil.rmtree(work / "peer-mid", ignore_errors=True)
        raw_rate = results["ingest"]["synthetic"]["systems"]["raw"]["chunks_per_s"]
        raw_s = ours["chunks"] / raw_rate
        results["ingest"]["at_scale"] = {
            "chunks": ours["chunks"],
            "documents": mid_docs,
            "ours": {**ours, "per_1k_s": round(ours["wall_s"] / ours["chunks"] * 1000, 2)},
            "peer": {
                "chunks": peer["chunks"],
                "wall_s": round(peer["wall_s"], 2),
                "cpu_s": round(peer["cpu_s"], 2),
                "per_1k_s": round(peer["wall_s"] / peer["chunks"] * 1000, 2),
            },
            "raw_chunks_per_s": raw_rate,
            "raw_projected_s": round(raw_s, 1),
            "ours_vs_raw_projected": round(raw_s / (raw_s + ours["wall_s"]), 3),
            "peer_vs_raw_projected": round(
                raw_s / (raw_s * peer["chunks"] / ours["chunks"] + peer["wall_s"]), 3
            ),
        }
        results["memory"][
            f"ingest of {ours['chunks']} chunks (vectors replayed, model loaded and run on its largest batch)"
        ] = ours["peak_rss_mb"]

    with phases.phase("re-ingest the unchanged corpora"):
        for label, folder in ((small_label, small), (mid_label, mid)):
            runs, embedded = [], 0
            for _ in range(3):
                report = ingest_paths([folder], services(idx[label]))
                runs.append(round(report.seconds, 2))
                embedded += report.chunks_embedded
            results["reingest"][label] = {
                "median_s": statistics.median(runs),
                "runs_s": runs,
                "chunks_embedded": embedded,
            }

    with phases.phase(f"build the {large_label} index from the {mid_label} one"):
        results["large_index"] = large_index(args, idx[mid_label], idx[large_label], services)

    from bench.latency import benchmark_questions

    for label in (small_label, mid_label, large_label):
        extra = ["--concurrency", "20"] if label == mid_label else []
        with phases.phase(f"retrieval latency, embedded, {label}"):
            row = run_worker("query", "--data-dir", str(idx[label]), *extra)
        if "concurrency" in row:
            results["concurrency"]["threads"] = {
                **row.pop("concurrency"),
                "passages": row["latency"]["passages"],
            }
        results["retrieval"]["embedded"][label] = row
        results["memory"][f"query process, {row['latency']['passages']} chunks (embedded)"] = row[
            "peak_rss_mb"
        ]

    from lodestar.components.store.chroma_server import run_chroma_server

    server_sizes = [small_label, mid_label] + ([large_label] if args.server_large else [])
    for label in server_sizes:
        with phases.phase(f"retrieval latency, Chroma server, {label}"):
            served = work / f"server-{label}" / "chroma"
            shutil.copytree(idx[label] / "chroma", served)
            with run_chroma_server(served) as server:
                row = run_worker(
                    "query",
                    "--data-dir",
                    str(work / f"query-only-{label}"),
                    "--chroma-port",
                    str(server.port),
                )
            shutil.rmtree(served.parent, ignore_errors=True)
        results["retrieval"]["server"][label] = row

    from bench.live import ingest_while_serving
    from lodestar.core.settings import ChromaSettings

    with phases.phase(f"ingest while 20 users ask ({small_label} chunks, Chroma server)"):
        writer = work / "writer"
        shutil.copytree(idx[small_label], writer, ignore=shutil.ignore_patterns("chroma"))
        served = work / "server-live" / "chroma"
        shutil.copytree(idx[small_label] / "chroma", served)
        with run_chroma_server(served) as server:
            reader = Services(
                settings.model_copy(
                    update={
                        "data_dir": work / "reader",
                        "chroma": ChromaSettings(host=server.host, port=server.port),
                    }
                ),
                embed_model=embed_model,
            )
            results["concurrency"]["live_ingest"] = ingest_while_serving(
                reader, writer, small, KNOWLEDGE, benchmark_questions()
            )

    if not args.skip_answer:
        # Separate processes: each loads the bundled model afresh and reports its own peak RSS.
        for key, script, label in (
            ("answer", "answer_latency", "answer latency with the bundled model"),
            ("kit", "kit_latency", "interview-kit latency with the bundled model"),
            ("team", "team_latency", "1 to 4 askers at once with the bundled model"),
        ):
            with phases.phase(label):
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        f"bench.{script}",
                        "--data-dir",
                        str(idx["starter"]),
                        "--out",
                        str(args.out),
                    ],
                    cwd=ROOT,
                    check=True,
                )
                results[key] = json.loads((args.out / f"{script}.json").read_text(encoding="utf-8"))
        with phases.phase("cold start and sources first, each command a new process"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.cold_start",
                    "--data-dir",
                    str(idx["starter"]),
                    "--out",
                    str(args.out),
                    "--baseline",
                    "",  # the comparison with older code is a standalone run's
                ],
                cwd=ROOT,
                check=True,
            )
            results["cold_start"] = json.loads(
                (args.out / "cold_start.json").read_text(encoding="utf-8")
            )


def large_index(
    args: argparse.Namespace, mid: Path, target: Path, services: Callable[[Path], Any]
) -> dict[str, Any]:
    """Build the large index, or copy it from the cache of an earlier identical run.

    It is a pure function of knowledge/, the benchmark's generators, the sizes and the chromadb
    version, and building it (~1.5 ms per passage for Chroma alone) is the longest phase after
    the embedding comparisons, so one copy is kept in ~/.cache/lodestar/bench (--no-cache
    rebuilds it).
    """
    from bench.scaled import build_scaled_index

    digest = hashlib.sha256()
    for path in sorted(KNOWLEDGE.glob("*.md")) + [
        ROOT / "bench" / name for name in ("corpus.py", "replay.py", "scaled.py")
    ]:
        digest.update(path.read_bytes())
    digest.update(f"{args.synthetic_chunks}/{args.mid_chunks}/{args.large_copies}".encode())
    digest.update(metadata.version("chromadb").encode())
    cached = CACHE / f"large-{digest.hexdigest()[:16]}"
    if not args.no_cache and (cached / "done.json").exists():
        shutil.copytree(cached, target)
        return {**json.loads((cached / "done.json").read_text()), "from_cache": str(cached)}
    built = build_scaled_index(services(mid), services(target), args.large_copies)
    if not args.no_cache:
        shutil.rmtree(CACHE, ignore_errors=True)  # keep one: it is ~2 GB
        shutil.copytree(target, cached)
        (cached / "done.json").write_text(json.dumps(built))
    return built


def notes(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """What a reader must know to interpret the figures."""
    load = results["load_average"]
    cores = results["machine"]["cores"]
    # The run's own worker processes raise the load it ends with; only the starting figure says
    # whether something else was using the cores.
    shared = load["start"][0] >= 1.0
    out = [
        (
            f"The {cores} cores were shared with other work during the run (load average "
            f"{load['start'][0]} at the start, {load['end'][0]} at the end): absolute times are "
            "noisy;"
            if shared
            else f"Nothing else was running when the run started (load average "
            f"{load['start'][0]}; {load['end'][0]} at the end, from the run's own processes);"
        )
        + " the ratios come from the three systems run side by side, in rotated order, and "
        "CPU-time ratios are given next to wall-time ones because CPU time moves much less when "
        "other processes take the cores.",
        "Embedding is real for the starter KB and the synthetic corpus. The ~10k and ~100k "
        "indexes use vectors derived from the real ones (bench/replay.py, bench/scaled.py): "
        "MiniLM embeds ~10-25 passages/s on these 2 cores, so a real 10k ingest alone would take "
        "7-17 min of the 15-min budget, three systems side by side three times that. At 10k the "
        "ingest table therefore measures everything but the model, and the ratio to the raw "
        "embedder is projected from the raw rate measured on the synthetic corpus.",
        "Synthetic corpora are deterministic variants of knowledge/ (bench/corpus.py): same front "
        "matter, headings and sentences, shuffled and mixed between documents; the ~100k index "
        "is the ~10k one plus copies with a seeded fifth of the words dropped.",
    ]
    large = results.get("large_index") or {}
    if large.get("from_cache"):
        out.append(
            f"The {large['passages']}-chunk index was copied from the cache of an earlier "
            f"identical run ({large['from_cache']}); building it took {large['chroma_add_s']} s "
            f"of Chroma inserts then (`--no-cache` rebuilds it)."
        )
    if args.skip_answer:
        out.append(
            "Answer latency was skipped (--skip-answer); see answer_latency.md from an earlier run."
        )
    return out


if __name__ == "__main__":
    main()
