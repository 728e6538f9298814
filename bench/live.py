"""One ingest running while twenty users ask questions, on a Chroma server.

The readers are threads of this process with a query-only data dir; the writer is
`lodestar ingest` in another process with its own data dir (the one that owns the collection),
as two machines sharing one Chroma server would be. The ingest changes, deletes and adds
documents. Every passage any reader got back must be a passage as it was before the ingest or as
it is after it (same id, text, source and heading): anything else is a torn read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.corpus import load_templates, synthetic_document
from bench.measure import latency_summary
from lodestar.components.services import Services
from lodestar.components.store.keyword_index import load_keyword_retriever
from lodestar.retrieval.hybrid import retrieve

REVISION = "Revision note: the live ingest benchmark revised this variant with a quokkafish audit."

PassageKey = tuple[str, str, str, str]


def snapshot(services: Services) -> set[PassageKey]:
    """Every passage in the collection as (id, text, source, heading)."""
    data = services.vector_store.client.get(include=["documents", "metadatas"])
    return {
        (pid, str(text), str(meta.get("source", "")), str(meta.get("heading", "")))
        for pid, text, meta in zip(data["ids"], data["documents"], data["metadatas"], strict=True)
    }


def revise_corpus(
    folder: Path, knowledge: Path, change: int, delete: int, add: int
) -> dict[str, int]:
    """Change the first `change` documents, delete the next `delete`, add `add` new ones."""
    files = sorted(folder.glob("*.md"))
    for path in files[:change]:
        path.write_text(path.read_text(encoding="utf-8") + f"\n{REVISION}\n", encoding="utf-8")
    for path in files[change : change + delete]:
        path.unlink()
    templates = load_templates(knowledge)
    for n in range(len(files), len(files) + add):
        relpath, text = synthetic_document(n, templates)
        (folder / relpath).write_text(text, encoding="utf-8")
    return {"changed": change, "deleted": delete, "added": add}


def ingest_while_serving(
    reader: Services,
    writer_data_dir: Path,
    folder: Path,
    knowledge: Path,
    questions: list[str],
    threads: int = 20,
    settle_s: float = 8.0,
) -> dict[str, Any]:
    """Serve `threads` users before, during and after one ingest; check every answer."""
    chroma = reader.settings.chroma
    before = snapshot(reader)
    stop = threading.Event()
    done: list[tuple[float, float, list[PassageKey]]] = []  # (start, end, passages)
    errors: list[tuple[float, str]] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        i = n
        while not stop.is_set():
            question = questions[i % len(questions)]
            i += threads
            started = time.perf_counter()
            try:
                result = retrieve(question, reader)
            except Exception as exc:  # recorded: the benchmark reports every failure
                with lock:
                    errors.append((time.perf_counter(), f"{type(exc).__name__}: {exc}"))
                continue
            keys = [(p.node_id, p.text, p.source, p.heading) for p in result.passages]
            with lock:
                done.append((started, time.perf_counter(), keys))

    pool = [threading.Thread(target=user, args=(n,)) for n in range(threads)]
    t0 = time.perf_counter()
    for thread in pool:
        thread.start()
    time.sleep(settle_s)
    revision = revise_corpus(folder, knowledge, change=5, delete=2, add=2)
    env = dict(os.environ)
    env.update(
        LODESTAR_CHROMA__HOST=str(chroma.host),
        LODESTAR_CHROMA__PORT=str(chroma.port),
        LODESTAR_CHROMA__COLLECTION=chroma.collection,
    )
    ingest_start = time.perf_counter()
    writer = subprocess.run(
        [
            sys.executable,
            "-m",
            "lodestar",
            "ingest",
            str(folder),
            "--data-dir",
            str(writer_data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    ingest_end = time.perf_counter()
    time.sleep(settle_s)
    stop.set()
    for thread in pool:
        thread.join()
    t_end = time.perf_counter()
    after = snapshot(reader)

    valid = before | after
    torn = [key for _, _, keys in done for key in keys if key not in valid]
    windows = {
        "before": (t0, ingest_start),
        "during": (ingest_start, ingest_end),
        "after": (ingest_end, t_end),
    }
    throughput = {}
    for name, (lo, hi) in windows.items():
        finished = [(s, e) for s, e, _ in done if lo <= e < hi]
        throughput[name] = {
            "seconds": round(hi - lo, 1),
            "queries": len(finished),
            "qps": round(len(finished) / (hi - lo), 2),
            "latency": latency_summary([(e - s) * 1000 for s, e in finished]) if finished else None,
        }
    revised_hits = load_keyword_retriever(reader.keyword_cache, reader.index_state(), 10)
    sees_revision = revised_hits is not None and any(
        "quokkafish" in hit.node.get_content() for hit in revised_hits.retrieve("quokkafish audit")
    )
    match = re.search(r"(\d+) chunks embedded in ([\d.]+)s", writer.stdout)
    return {
        "threads": threads,
        "revision": revision,
        "writer_exit_code": writer.returncode,
        "writer_output": (writer.stdout + writer.stderr).strip()[-400:],
        "chunks_embedded": int(match.group(1)) if match else None,
        "ingest_s": float(match.group(2)) if match else None,
        "ingest_process_s": round(ingest_end - ingest_start, 1),
        "queries": len(done),
        "errors": len(errors),
        "error_samples": [message for _, message in errors[:3]],
        "passages_checked": sum(len(keys) for _, _, keys in done),
        "torn_reads": len(torn),
        "passages_before": len(before),
        "passages_after": len(after),
        "reader_sees_revision_after_ingest": sees_revision,
        "throughput": throughput,
    }
