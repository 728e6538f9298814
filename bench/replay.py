"""Derived vectors, for indexes too large to embed within the benchmark's time budget.

On 2 cores MiniLM embeds ~10-25 passages/s, so a 10k-passage index costs 7-17 minutes and a
100k one hours. The large indexes are therefore built with vectors derived from real ones: each
text gets a real passage vector (picked by a hash of the text) plus seeded noise, renormalised.
Search cost depends on the count, dimension and spread of the vectors, not on what they mean,
and questions still land near real passage vectors, so coverage checks behave as with real ones.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

NOISE = 0.5  # norm of the noise added to a unit vector: cosine ~0.9 to the passage it came from


def derived_vector(pool: np.ndarray, key: str) -> np.ndarray:
    """A unit vector near one of `pool`'s rows, a pure function of `key`."""
    seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    rng = np.random.default_rng(seed)
    base = pool[seed % len(pool)]
    noise = rng.standard_normal(pool.shape[1]).astype(np.float32)
    vector = base + NOISE * noise / np.linalg.norm(noise)
    return vector / np.linalg.norm(vector)


class ReplayEmbedding(BaseEmbedding):
    """An embedder that returns derived vectors instantly: measures everything but the model."""

    _pool: np.ndarray = PrivateAttr()

    def __init__(self, pool: np.ndarray, **kwargs: Any) -> None:
        """`pool`: real passage vectors (n x dim) to derive from."""
        super().__init__(model_name="replay", **kwargs)
        self._pool = np.asarray(pool, dtype=np.float32)

    def _get_text_embedding(self, text: str) -> list[float]:
        return derived_vector(self._pool, text).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)
