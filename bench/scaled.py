"""A large index made from a smaller one: every passage plus derived copies of it.

Copy `c` of a passage gets the id `<id>~c`, its text with a seeded fifth of the words dropped
(so BM25 sees distinct documents with the corpus's vocabulary), and a vector derived from the
passage's own (bench/replay.py). The source's Chroma folder is copied and only the copies are
added; Chroma's local store takes 1-2 ms per added vector on these 2 cores, so this is most of
the build.
"""

from __future__ import annotations

import random
import shutil
import threading
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from bench.measure import Timing, timed
from bench.replay import derived_vector
from lodestar.components.services import Services
from lodestar.components.store.chroma import get_collection
from lodestar.components.store.keyword_index import build_keyword_index


def _drop_words(text: str, key: str, share: float = 0.2) -> str:
    rng = random.Random(key)
    return " ".join(word for word in text.split(" ") if rng.random() >= share)


def build_scaled_index(source: Services, target: Services, copies: int) -> dict[str, Any]:
    """Make `target` hold `source`'s passages and `copies - 1` derived copies of each."""
    shutil.rmtree(target.paths.root, ignore_errors=True)
    target.paths.root.mkdir(parents=True)
    data = source.vector_store.client.get(include=["embeddings", "documents", "metadatas"])
    state = source.index_state()
    shutil.copytree(source.paths.chroma, target.paths.chroma)
    originals = [
        (metadata_dict_to_node(meta, text=text), np.asarray(vector, dtype=np.float32))
        for meta, text, vector in zip(
            data["metadatas"], data["documents"], data["embeddings"], strict=True
        )
    ]
    copies_made: list[BaseNode] = []
    for copy in range(1, copies):
        for node, vector in originals:
            key = f"{node.node_id}~{copy}"
            clone = node.model_copy(update={"id_": key})
            clone.text = _drop_words(node.get_content(), key)  # type: ignore[attr-defined]
            clone.embedding = derived_vector(vector[None, :], key).tolist()
            copies_made.append(clone)
    state.writer = None  # no data dir's docstores describe it: query-only
    state.fingerprint = f"scaled-x{copies}-{state.fingerprint}"
    bm25 = Timing()

    def keyword_index() -> None:
        # From the nodes in hand (a query-only machine would fetch them from Chroma), on the
        # other core while Chroma inserts: Chroma's add releases the GIL.
        with timed() as t:
            nodes = [n for n, _ in originals] + copies_made
            build_keyword_index(target.paths, state.keyword_key, lambda: nodes)
        bm25.wall = t.wall

    builder = threading.Thread(target=keyword_index)
    builder.start()
    store = target.vector_store
    with timed() as insert:
        for start in range(0, len(copies_made), 5000):
            store.add(copies_made[start : start + 5000])
    builder.join()
    state.publish(get_collection(target.chroma_client, target.settings.chroma.collection))
    return {
        "passages": store.client.count(),
        "chroma_add_s": round(insert.wall, 1),
        "added": len(copies_made),
        "bm25_build_s": round(bm25.wall, 1),
    }
