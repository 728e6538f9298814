"""Retrieval latency (vector, BM25, hybrid top-k) and concurrent ask-style retrievals."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from bench.measure import latency_summary, timed
from lodestar.components.services import Services
from lodestar.components.store.keyword_index import load_keyword_retriever
from lodestar.evaluation.retrieval_quality import question_file
from lodestar.retrieval.hybrid import retrieve


def benchmark_questions() -> list[str]:
    """The answerable questions of the retrieval test set (document- and user-worded)."""
    rows = [json.loads(line) for line in question_file().read_text(encoding="utf-8").splitlines()]
    return [row["question"] for row in rows if row["style"] != "out_of_scope"]


def retrieval_latency(services: Services, questions: list[str], k: int = 5) -> dict[str, Any]:
    """p50/p95 of vector, BM25 and hybrid top-k, interleaved per question.

    - vector: embed the question + Chroma top-k (llama-index VectorIndexRetriever);
    - bm25: the keyword index in step with the collection, top-k;
    - hybrid: `lodestar.retrieval.hybrid.retrieve` as `ask` calls it (coverage check, both retrievers,
      fusion).
    Loading the embedder, and the first query, which loads (or on a query-only machine builds)
    the BM25 index, are reported on their own.
    """
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import QueryBundle

    with timed() as model_load:
        services.embed_model  # noqa: B018 - loaded once per process, reported on its own
    with timed() as first:
        retrieve(questions[0], services, k)
    for question in questions[1:3]:  # warm-up
        retrieve(question, services, k)
    vector = VectorStoreIndex.from_vector_store(
        services.vector_store, embed_model=services.embed_model
    ).as_retriever(similarity_top_k=k)
    ms: dict[str, list[float]] = {"vector": [], "bm25": [], "hybrid": [], "embed": []}
    for question in questions:
        started = time.perf_counter()
        embedding = services.embed_question(question)
        ms["embed"].append((time.perf_counter() - started) * 1000)
        vector.retrieve(QueryBundle(question, embedding=embedding))
        ms["vector"].append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        keyword = load_keyword_retriever(services.keyword_cache, services.index_state(), k)
        assert keyword is not None
        keyword.retrieve(question)
        ms["bm25"].append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        retrieve(question, services, k)
        ms["hybrid"].append((time.perf_counter() - started) * 1000)
    return {
        "passages": services.vector_store.client.count(),
        "model_load_ms": round(model_load.wall * 1000, 1),
        "first_query_ms": round(first.wall * 1000, 1),
        **{mode: latency_summary(values) for mode, values in ms.items()},
    }


def concurrent_retrievals(
    services: Services, questions: list[str], threads: int = 20, per_thread: int = 5
) -> dict[str, Any]:
    """`threads` users at once, each asking `per_thread` questions; same answers as one at a time?

    Every question is first retrieved sequentially; the concurrent run must return exactly the
    same passages for it (a thread-safety and torn-read check) and raise nothing.
    """
    jobs = [questions[n % len(questions)] for n in range(threads * per_thread)]
    expected: dict[str, list[str]] = {}
    with timed() as sequential:
        for question in jobs:
            expected[question] = [p.node_id for p in retrieve(question, services).passages]
    latencies: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    barrier = threading.Barrier(threads)
    lock = threading.Lock()

    def user(n: int) -> None:
        barrier.wait()
        for question in jobs[n * per_thread : (n + 1) * per_thread]:
            started = time.perf_counter()
            try:
                got = [p.node_id for p in retrieve(question, services).passages]
            except Exception as exc:  # recorded: the benchmark reports every failure
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if got != expected[question]:
                    mismatches.append(question)

    pool = [threading.Thread(target=user, args=(n,)) for n in range(threads)]
    with timed() as concurrent:
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    return {
        "threads": threads,
        "queries": len(jobs),
        "errors": len(errors),
        "error_samples": errors[:3],
        "results_differing_from_sequential": len(mismatches),
        "sequential_qps": round(len(jobs) / sequential.wall, 2),
        "concurrent_qps": round(len(jobs) / concurrent.wall, 2),
        "concurrent_latency": latency_summary(latencies) if latencies else None,
    }
