"""The ONNX Runtime embedder gives sentence-transformers' vectors, and is exported only once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.loaders import load_document
from lodestar.components.embedding.factory import bundled_embedding_path
from lodestar.components.embedding.onnx import EmbedderLayout, OnnxEmbedding, ensure_onnx, onnx_path
from lodestar.components.services import Services
from lodestar.core.settings import DEFAULT_EMBED_PACKAGE_MODEL, Settings

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


@pytest.fixture(scope="module")
def layout() -> EmbedderLayout:
    return EmbedderLayout.read(bundled_embedding_path(), 256, DEFAULT_EMBED_PACKAGE_MODEL)


@pytest.mark.model
def test_onnx_vectors_match_sentence_transformers_on_the_knowledge_base(
    layout: EmbedderLayout,
) -> None:
    from sentence_transformers import SentenceTransformer

    settings = Settings()
    network = ensure_onnx(layout, settings.embedding.cache_dir.expanduser())
    texts = [
        part
        for path in sorted(KNOWLEDGE.glob("*.md"))
        for part in load_document(
            path, doc_id=path.name, relpath=path.name, max_bytes=10**8
        ).text.split("\n\n")
        if part.strip()
    ]
    assert len(texts) > 200
    onnx = np.asarray(OnnxEmbedding(network, layout).get_text_embedding_batch(texts))
    reference = SentenceTransformer(str(layout.path), device="cpu")
    reference.max_seq_length = layout.max_seq_length
    torch_vectors = reference.encode(texts, batch_size=32)
    cosine = (onnx * torch_vectors).sum(1) / (
        np.linalg.norm(onnx, axis=1) * np.linalg.norm(torch_vectors, axis=1)
    )
    assert cosine.min() >= 0.999
    # A question is embedded on one thread, through the same network.
    question = "How big are ML engineering manager teams?"
    one = OnnxEmbedding(network, layout).get_query_embedding(question)
    assert float(np.dot(one, reference.encode(question))) >= 0.999


def test_the_export_is_keyed_by_the_model_file(layout: EmbedderLayout, tmp_path: Path) -> None:
    first = onnx_path(layout, tmp_path)
    assert first == onnx_path(layout, tmp_path)
    shorter = EmbedderLayout(
        layout.path, layout.name, layout.pooling, layout.normalize, 128, layout.weights
    )
    assert onnx_path(shorter, tmp_path) != first


def test_the_default_local_embedder_runs_on_onnx_runtime() -> None:
    services = Services(Settings())
    assert type(services.embed_model).__name__ == "OnnxEmbedding"
    assert len(services.embed_question("How big are ML teams?")) == 384


def test_an_unsupported_pooling_mode_is_a_clear_error(tmp_path: Path) -> None:
    from lodestar.core.errors import ModelNotAvailableError

    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (tmp_path / "1_Pooling" / "config.json").write_text(
        '{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false,'
        ' "pooling_mode_max_tokens": true}'
    )
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelNotAvailableError, match="pooling"):
        EmbedderLayout.read(tmp_path, 256)
