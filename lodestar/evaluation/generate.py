"""Propose new golden cases with ragas's TestsetGenerator, for a person to review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lodestar.core.errors import GenerationError

if TYPE_CHECKING:
    from lodestar.components.services import Services


def propose_cases(services: Services, size: int) -> list[dict[str, Any]]:
    """`size` candidate cases in the golden schema, written by the configured LLM from the
    knowledge dir; the references come from ragas and need checking before use."""
    from ragas.testset import TestsetGenerator

    from ingest.loaders import load_document

    folder = services.settings.knowledge_dir
    max_bytes = int(services.settings.ingest.max_file_mb * 1024 * 1024)
    documents = [
        load_document(
            path, doc_id=f"{folder.name}/{path.name}", relpath=path.name, max_bytes=max_bytes
        )
        for path in sorted(folder.glob("*.md"))
    ]
    generator = TestsetGenerator.from_llama_index(
        llm=services.llm, embedding_model=services.embed_model
    )
    try:
        testset = generator.generate_with_llamaindex_docs(documents, testset_size=size)
    except Exception as exc:
        raise GenerationError(
            f"ragas could not generate test cases with {services.llm_id}: {exc}",
            hint="use a capable model: LODESTAR_LLM__BACKEND=openai, or openai_like with a large model",
        ) from exc
    return [
        {
            "id": f"gen{n:03d}",
            "category": "generated",
            "question": row.get("user_input", ""),
            "reference_answer": row.get("reference", ""),
            "reference_doc_ids": [],
            "reference_contexts": row.get("reference_contexts", []),
            "key_facts": [],
            "must_refuse": False,
            "needs_review": True,
            "synthesizer": row.get("synthesizer_name", ""),
        }
        for n, row in enumerate(testset.to_list(), start=1)
    ]
