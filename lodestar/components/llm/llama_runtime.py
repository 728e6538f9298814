"""The one place llama.cpp models are loaded, in-process and for `lodestar serve-model`."""

from __future__ import annotations

import os
from typing import Any

from lodestar.core.errors import ConfigurationError

N_BATCH = 512


def default_threads() -> int:
    """All cores: llama.cpp decoding is compute-bound and the machine is otherwise idle."""
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def load_llama(model_path: str, *, n_ctx: int, n_threads: int | None, seed: int) -> Any:
    """Load a GGUF with the options measured to be fastest on these machines.

    The extra buffer types (`use_extra_bufts`) that made decoding 2-4x slower on an AVX-512 VM
    hold only weight-repacking and AMX buffers on CPU; the bootstrap builds llama.cpp with
    GGML_CPU_REPACK=OFF and AMX off, so they are empty and no loader patch is needed
    (measured in bench/answer_latency.py; see the README). Replies under a JSON schema are
    sampled by `lodestar.components.llm.grammar_sampling` (the grammar checks the chosen token, not the whole
    vocabulary): +46% tokens/s on kit replies, the same tokens when greedy.
    """
    try:
        from lodestar.components.llm.grammar_sampling import checked_grammar_llama_class

        Llama = checked_grammar_llama_class()  # noqa: N806 - the class llama-cpp-python names so
    except ImportError as exc:
        raise ConfigurationError(
            "the local backend needs llama-cpp-python",
            hint="run scripts/bootstrap.py (it builds llama-cpp-python for this CPU once)",
        ) from exc
    return Llama(
        model_path=model_path,
        n_ctx=n_ctx,
        n_threads=n_threads or default_threads(),
        n_threads_batch=n_threads or default_threads(),
        n_batch=N_BATCH,
        seed=seed,
        verbose=False,
    )
