"""Measurements that need a process of their own, so its peak memory is theirs alone.

    python -m bench.worker query  --data-dir DIR [--chroma-port N] [--concurrency 20]
    python -m bench.worker ingest --data-dir DIR --folder CORPUS --pool VECTORS.npy

Prints one JSON object as its last line of output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lodestar.core.offline import configure_offline_environment


def _settings(args: argparse.Namespace) -> Any:
    from lodestar.core.settings import ChromaSettings, Settings

    chroma = ChromaSettings(host="127.0.0.1", port=args.chroma_port) if args.chroma_port else None
    update: dict[str, Any] = {"data_dir": args.data_dir}
    if chroma is not None:
        update["chroma"] = chroma
    return Settings().model_copy(update=update)


def query(args: argparse.Namespace) -> dict[str, Any]:
    """A query process: load what a query needs, measure latency (and concurrency)."""
    from bench.latency import benchmark_questions, concurrent_retrievals, retrieval_latency
    from bench.measure import peak_rss_mb
    from lodestar.components.services import Services

    services = Services(_settings(args))
    questions = benchmark_questions()
    result: dict[str, Any] = {"latency": retrieval_latency(services, questions, k=args.k)}
    result["peak_rss_mb_after_latency"] = peak_rss_mb()
    if args.concurrency:
        result["concurrency"] = concurrent_retrievals(
            services, questions, threads=args.concurrency, per_thread=args.per_thread
        )
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def ingest(args: argparse.Namespace) -> dict[str, Any]:
    """An ingest process whose embedder replays derived vectors (see bench/replay.py).

    The real model is loaded and run on one full batch of the corpus's longest passages first,
    so the peak memory includes what embedding costs; the rest of the peak is the pipeline's.
    """
    import numpy as np

    from bench.ingest_bench import embed_texts
    from bench.measure import peak_rss_mb, timed
    from bench.replay import ReplayEmbedding
    from ingest.pipeline import ingest_paths
    from lodestar.components.services import Services

    settings = _settings(args)
    real = Services(settings)
    texts = sorted(embed_texts(args.folder, real), key=len)
    real.embed_model.get_text_embedding_batch(texts[-settings.embedding.batch_size :])
    services = Services(settings, embed_model=ReplayEmbedding(np.load(args.pool)))
    with timed() as t:
        report = ingest_paths([args.folder], services)
    return {
        "chunks": report.chunks_embedded,
        "wall_s": round(t.wall, 2),
        "cpu_s": round(t.cpu, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    """Parse the command line, run one measurement, print its JSON."""
    configure_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["query", "ingest"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--chroma-port", type=int, default=None)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--per-thread", type=int, default=5)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--pool", type=Path)
    args = parser.parse_args()
    result = query(args) if args.command == "query" else ingest(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
