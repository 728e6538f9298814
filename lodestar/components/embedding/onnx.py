"""The local embedder on ONNX Runtime: exported once from its sentence-transformers folder.

Importing torch and sentence-transformers costs ~4 s of every command that embeds a question;
ONNX Runtime (already a dependency of chromadb) loads the same network in ~0.2 s. The export runs
once per model file (at setup, or on first use), traces the transformer with its pooling and
normalisation, and is accepted only if its vectors match sentence-transformers' (cosine >= 0.999)
on probe texts of every length. The result is cached in the embedding cache dir under a key made
from the model file's path, size and modification time, so a changed model is exported again.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from lodestar.core.errors import ModelNotAvailableError

EXPORT_VERSION = 1
MIN_COSINE = 0.999
PROBES = (
    "How big are ML engineering manager teams?",
    "mentoring",
    "An ML Engineering Team Lead guides a team of ML engineers, sets technical direction, "
    "reviews designs and code, and keeps models reliable in production.",
    # Longer than any window: checks truncation is the same as sentence-transformers'.
    " ".join(["The senior engineer owns the deployment pipeline and reviews every change."] * 60),
)


@dataclass(frozen=True)
class EmbedderLayout:
    """What the export needs to know about a sentence-transformers folder."""

    path: Path
    name: str
    pooling: str  # "mean" or "cls"
    normalize: bool
    max_seq_length: int
    weights: Path

    @classmethod
    def read(cls, path: Path, max_tokens: int, name: str | None = None) -> EmbedderLayout:
        """Read modules.json / pooling config; only mean or CLS pooling is supported."""
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = {m["type"].rsplit(".", 1)[-1]: m for m in modules}
        pooling = "mean"
        if "Pooling" in kinds:
            config = json.loads(
                (path / kinds["Pooling"]["path"] / "config.json").read_text(encoding="utf-8")
            )
            if config.get("pooling_mode_cls_token"):
                pooling = "cls"
            elif not config.get("pooling_mode_mean_tokens", True):
                raise ModelNotAvailableError(
                    f"the embedding model in {path} uses a pooling mode ONNX export does not "
                    "support (only mean and CLS)",
                    hint="set LODESTAR_EMBEDDING__RUNTIME=torch",
                )
        st_config = path / "sentence_bert_config.json"
        window = max_tokens
        if st_config.exists():
            seq = json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length")
            window = min(window, int(seq)) if seq else window
        weights = next(
            (path / f for f in ("model.safetensors", "pytorch_model.bin") if (path / f).exists()),
            None,
        )
        if weights is None:
            raise ModelNotAvailableError(f"no model weights in {path}")
        return cls(path, name or path.name, pooling, "Normalize" in kinds, window, weights)

    def cache_key(self) -> str:
        """Changes when the weights file, the window or the export code changes (one stat)."""
        stat = self.weights.stat()
        raw = f"{self.weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.max_seq_length}"
        raw += f"|{self.pooling}|{self.normalize}|v{EXPORT_VERSION}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def onnx_path(layout: EmbedderLayout, cache_dir: Path) -> Path:
    """Where the exported network of this model lives."""
    return cache_dir / f"{layout.name}-{layout.cache_key()}.onnx"


def ensure_onnx(layout: EmbedderLayout, cache_dir: Path) -> Path:
    """The exported network, exporting and verifying it first if it is not cached yet."""
    target = onnx_path(layout, cache_dir)
    if not target.exists():
        export(layout, target)
    return target


def export(layout: EmbedderLayout, target: Path) -> float:
    """Trace the model to ONNX, verify it against sentence-transformers; return the lowest cosine.

    Needs torch, transformers, sentence-transformers and onnx (installed with Lodestar). The file
    appears only once it has passed the check, so a failed or interrupted export leaves nothing.
    """
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(layout.path)).eval()
    wrapped = _pooled_module(model, layout)
    ids = torch.ones((2, 8), dtype=torch.long)
    names = _input_names(model)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in names}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter warns about indexing with negative indices in general;
            # the pooling here uses none, and the cosine check below would catch a wrong graph.
            warnings.simplefilter("ignore", UserWarning)
            torch.onnx.export(
                wrapped,
                tuple(ids if n != "token_type_ids" else torch.zeros_like(ids) for n in names),
                str(partial),
                input_names=list(names),
                output_names=["embedding"],
                dynamic_axes={**dynamic, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        reference = SentenceTransformer(str(layout.path), device="cpu")
        reference.max_seq_length = layout.max_seq_length
        expected = reference.encode(list(PROBES), normalize_embeddings=False)
        got = OnnxEncoder(partial, layout, threads=1).encode(list(PROBES))
        cosine = float(
            np.min(
                (expected * got).sum(1)
                / np.linalg.norm(expected, axis=1)
                / np.linalg.norm(got, axis=1)
            )
        )
        if cosine < MIN_COSINE:
            raise ModelNotAvailableError(
                f"the ONNX export of {layout.path.name} does not match sentence-transformers "
                f"(cosine {cosine:.4f} < {MIN_COSINE})",
                hint="set LODESTAR_EMBEDDING__RUNTIME=torch",
            )
        partial.replace(target)
        return cosine
    finally:
        partial.unlink(missing_ok=True)


def _input_names(model: Any) -> tuple[str, ...]:
    """BERT-style models take token types; MPNet-style ones do not."""
    import inspect

    params = inspect.signature(model.forward).parameters
    names = ("input_ids", "attention_mask", "token_type_ids")
    return tuple(n for n in names if n in params)


def _pooled_module(model: Any, layout: EmbedderLayout) -> Any:
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            kwargs = dict(zip(_input_names(model), inputs, strict=True))
            hidden = self.model(**kwargs).last_hidden_state
            if layout.pooling == "cls":
                vector = hidden[:, 0]
            else:
                mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                vector = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if layout.normalize:
                vector = torch.nn.functional.normalize(vector, p=2, dim=1)
            return vector

    return Pooled()


class OnnxEncoder:
    """Tokenizer + ONNX Runtime session: texts in, vectors out (numpy)."""

    def __init__(self, network: Path, layout: EmbedderLayout, *, threads: int) -> None:
        """Load the session with `threads` intra-op threads and no busy-waiting."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning threads take the core llama.cpp needs; on 2 cores that costs more than it saves.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(network), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = tuple(i.name for i in self.session.get_inputs())
        self.tokenizer = Tokenizer.from_file(str(layout.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(layout.max_seq_length)
        self.tokenizer.enable_padding()

    def encode(self, texts: Sequence[str]) -> Any:
        """Vectors of `texts` as one float32 array."""
        import numpy as np

        encoded = self.tokenizer.encode_batch(list(texts))
        fields = {
            "input_ids": [e.ids for e in encoded],
            "attention_mask": [e.attention_mask for e in encoded],
            "token_type_ids": [e.type_ids for e in encoded],
        }
        feed = {name: np.asarray(fields[name], dtype=np.int64) for name in self.inputs}
        return self.session.run(None, feed)[0]


class OnnxEmbedding(BaseEmbedding):
    """llama-index embedder over an exported network; questions on one thread, batches on all."""

    _network: Path = PrivateAttr()
    _layout: EmbedderLayout = PrivateAttr()
    _encoders: dict[int, OnnxEncoder] = PrivateAttr(default_factory=dict)

    def __init__(self, network: Path, layout: EmbedderLayout, **kwargs: Any) -> None:
        """`network`: the exported file; `layout`: the folder it was exported from."""
        super().__init__(model_name=layout.name, **kwargs)
        self._network = network
        self._layout = layout
        self._encoders = {}

    @classmethod
    def class_name(cls) -> str:
        """llama-index's registry name."""
        return "LodestarOnnxEmbedding"

    def _encoder(self, threads: int) -> OnnxEncoder:
        # A ~15-token question gains nothing from a second thread and waits for it when the
        # cores are busy; a batch of passages uses every core.
        if threads not in self._encoders:
            self._encoders[threads] = OnnxEncoder(self._network, self._layout, threads=threads)
        return self._encoders[threads]

    def _vectors(self, texts: list[str], threads: int) -> list[list[float]]:
        return [list(map(float, v)) for v in self._encoder(threads).encode(texts)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vectors([query], 1)[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vectors([text], 1)[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._vectors(texts, os.cpu_count() or 1)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
