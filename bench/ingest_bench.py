"""Ingest throughput side by side: Lodestar, the raw embedder, and the llama-index peer.

- **ours**: `ingest_paths` (load, clean, chunk, embed, Chroma, docstores, BM25) into a fresh
  data dir.
- **raw**: the sentence-transformers model encoding the very texts our pipeline embeds (each
  passage with its "title › heading" prefix), in batches of the configured size: the limit.
- **peer**: what a llama-index user writes: `SimpleDirectoryReader` then
  `VectorStoreIndex.from_documents` into a fresh Chroma collection, with the same embedder object
  and a `SentenceSplitter` at our passage size measured in the embedder's own tokens.

The three share one loaded model, run in a rotated order in each repeat, and are timed in wall
and CPU seconds (CPU time moves much less when other processes share the cores).
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path
from typing import Any

from llama_index.core.schema import MetadataMode

from bench.corpus import corpus_nodes
from bench.measure import timed
from ingest.pipeline import ingest_paths, make_chunker
from lodestar.components.embedding.factory import local_embedding_path
from lodestar.components.services import Services
from lodestar.components.store.chroma import open_chroma_client
from lodestar.core.settings import Settings

SYSTEMS = ("ours", "raw", "peer")


def _chroma_client(path: Path) -> Any:
    return open_chroma_client(Settings(data_dir=path))


def embed_texts(folder: Path, services: Services) -> list[str]:
    """The texts our pipeline hands the embedder for a corpus folder, in order."""
    nodes = corpus_nodes(
        folder, make_chunker(services.settings, services.tokenizer), source_name=folder.name
    )
    return [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]


def token_count(texts: list[str], services: Services) -> int:
    """Tokens the embedder reads for these texts (its window, [CLS] and [SEP] included)."""
    window = services.settings.embedding.max_tokens
    return sum(min(len(services.tokenizer(text)) + 2, window) for text in texts)


class IngestBench:
    """Runs the three systems on one corpus folder with a shared embedder."""

    def __init__(self, embed_model: Any, work: Path, settings: Settings) -> None:
        """`embed_model`: the llama-index embedder all three use; `work`: scratch space."""
        self.embed_model = embed_model
        self.work = work
        self.settings = settings
        self._raw_model: Any = None

    def services(self, data_dir: Path) -> Services:
        """Lodestar services on `data_dir` with the shared embedder."""
        return Services(
            self.settings.model_copy(update={"data_dir": data_dir}), embed_model=self.embed_model
        )

    def raw_model(self) -> Any:
        """The sentence-transformers model itself, configured as Lodestar configures it."""
        if self._raw_model is None:
            from sentence_transformers import SentenceTransformer

            emb = self.settings.embedding
            self._raw_model = SentenceTransformer(
                str(local_embedding_path(emb.model)), device="cpu"
            )
            self._raw_model.max_seq_length = emb.max_tokens
        return self._raw_model

    def run_ours(self, folder: Path, data_dir: Path) -> dict[str, Any]:
        """Ingest `folder` into a fresh data dir."""
        shutil.rmtree(data_dir, ignore_errors=True)
        services = self.services(data_dir)
        with timed() as t:
            report = ingest_paths([folder], services)
        assert report.ok, report.failed
        return {"wall_s": t.wall, "cpu_s": t.cpu, "chunks": report.chunks_embedded}

    def run_raw(self, texts: list[str]) -> dict[str, Any]:
        """Encode the texts directly."""
        model = self.raw_model()
        with timed() as t:
            model.encode(texts, batch_size=self.settings.embedding.batch_size)
        return {"wall_s": t.wall, "cpu_s": t.cpu, "chunks": len(texts)}

    def run_peer(self, folder: Path, chroma_dir: Path) -> dict[str, Any]:
        """The llama-index peer into a fresh embedded Chroma."""
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        shutil.rmtree(chroma_dir, ignore_errors=True)
        collection = _chroma_client(chroma_dir).get_or_create_collection(
            "peer", metadata={"hnsw:space": "cosine"}
        )
        with timed() as t:
            documents = SimpleDirectoryReader(
                str(folder), recursive=True, required_exts=[".md"]
            ).load_data()
            VectorStoreIndex.from_documents(
                documents,
                storage_context=StorageContext.from_defaults(
                    vector_store=ChromaVectorStore(chroma_collection=collection)
                ),
                embed_model=self.embed_model,
                transformations=[self.peer_splitter()],
            )
        return {"wall_s": t.wall, "cpu_s": t.cpu, "chunks": collection.count()}

    def peer_splitter(self) -> Any:
        """The splitter a careful llama-index user sets for a 256-token embedder."""
        from llama_index.core.node_parser import SentenceSplitter

        services = self.services(self.work / "tokenizer")
        return SentenceSplitter(
            chunk_size=self.settings.chunking.chunk_tokens,
            chunk_overlap=self.settings.chunking.overlap_tokens,
            tokenizer=services.tokenizer,
        )

    def peer_texts(self, folder: Path) -> list[str]:
        """What the peer embeds (recomputed after the timed run, deterministically)."""
        from llama_index.core import SimpleDirectoryReader

        documents = SimpleDirectoryReader(
            str(folder), recursive=True, required_exts=[".md"]
        ).load_data()
        nodes = self.peer_splitter().get_nodes_from_documents(documents)
        return [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]

    def compare(
        self, name: str, folder: Path, repeats: int, keep_ours: Path | None = None
    ) -> dict[str, Any]:
        """All three systems, `repeats` rounds in rotated order; medians and ratios."""
        services = self.services(self.work / "tokenizer")
        texts = embed_texts(folder, services)
        runs: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
        for rep in range(repeats):
            order = SYSTEMS[rep % 3 :] + SYSTEMS[: rep % 3]
            for system in order:
                scratch = self.work / f"{name}-{system}-{rep}"
                if system == "ours":
                    result = self.run_ours(folder, scratch)
                elif system == "raw":
                    result = self.run_raw(texts)
                else:
                    result = self.run_peer(folder, scratch / "chroma")
                runs[system].append(result)
                print(f"  ingest {name} {system} round {rep + 1}: {_fmt(result)}", flush=True)
                if system == "ours" and rep == 0 and keep_ours is not None:
                    shutil.rmtree(keep_ours, ignore_errors=True)
                    shutil.move(str(scratch), keep_ours)
                else:
                    shutil.rmtree(scratch, ignore_errors=True)
        tokens = {
            "ours": token_count(texts, services),
            "raw": token_count(texts, services),
            "peer": token_count(self.peer_texts(folder), services),
        }
        summary: dict[str, Any] = {"corpus": name, "repeats": repeats, "systems": {}}
        for system, results in runs.items():
            wall = statistics.median(r["wall_s"] for r in results)
            cpu = statistics.median(r["cpu_s"] for r in results)
            chunks = results[0]["chunks"]
            summary["systems"][system] = {
                "chunks": chunks,
                "tokens": tokens[system],
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "chunks_per_s": round(chunks / wall, 2),
                "chunks_per_cpu_s": round(chunks / cpu, 2),
                "tokens_per_s": round(tokens[system] / wall, 1),
                "runs": [{k: round(v, 2) for k, v in r.items()} for r in results],
            }
        ours, raw, peer = (summary["systems"][s] for s in SYSTEMS)
        summary["ratios"] = {
            # Same texts: the share of the embedder's own speed the whole pipeline keeps.
            "ours_vs_raw_wall": round(ours["chunks_per_s"] / raw["chunks_per_s"], 3),
            "ours_vs_raw_cpu": round(ours["chunks_per_cpu_s"] / raw["chunks_per_cpu_s"], 3),
            # The measure, chunks/s; the peer cuts fewer, longer chunks, so the time
            # for the whole corpus and tokens/s are given too.
            "ours_vs_peer_chunks_per_s": round(ours["chunks_per_s"] / peer["chunks_per_s"], 3),
            "ours_vs_peer_chunks_per_cpu_s": round(
                ours["chunks_per_cpu_s"] / peer["chunks_per_cpu_s"], 3
            ),
            "peer_time_over_ours_wall": round(peer["wall_s"] / ours["wall_s"], 3),
            "peer_time_over_ours_cpu": round(peer["cpu_s"] / ours["cpu_s"], 3),
            "ours_vs_peer_tokens_per_s": round(ours["tokens_per_s"] / peer["tokens_per_s"], 3),
        }
        return summary


def _fmt(result: dict[str, Any]) -> str:
    return f"{result['chunks']} chunks, {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU"
