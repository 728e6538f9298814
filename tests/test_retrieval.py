"""Hybrid retrieval: BM25 kept in step with incremental ingests, metadata filters, refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import write

from ingest.pipeline import ingest_paths
from lodestar.components.services import Services
from lodestar.components.store.keyword_index import load_keyword_retriever
from lodestar.retrieval.hybrid import retrieve
from lodestar.retrieval.passages import PassageFilters

DOC = "---\ntitle: {title}\ndoc_type: {doc_type}\nroles: [{role}]\n---\n# {title}\n\n## Notes\n\n{body}\n"


def doc(title: str, body: str, doc_type: str = "guide", role: str = "ML Tech Lead") -> str:
    return DOC.format(title=title, body=body, doc_type=doc_type, role=role)


def bm25_texts(services: Services, query: str) -> list[str]:
    retriever = load_keyword_retriever(services.keyword_cache, services.index_state(), top_k=10)
    assert retriever is not None
    return [hit.node.get_content() for hit in retriever.retrieve(query)]


def test_bm25_index_follows_incremental_ingests(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    kb = tmp_path / "kb"
    write(kb / "a.md", doc("Rituals", "Hold a zebracorn retrospective every fortnight."))
    write(kb / "b.md", doc("Hiring", "Run a structured interview loop."))
    services = make_services()
    assert ingest_paths([kb], services).keyword_index_rebuilt
    assert any("zebracorn" in t for t in bm25_texts(services, "zebracorn retrospective"))

    assert not ingest_paths([kb], services).keyword_index_rebuilt, "nothing changed"

    write(kb / "a.md", doc("Rituals", "Hold a quokkafish retrospective every fortnight."))
    ingest_paths([kb], services)
    texts = bm25_texts(services, "quokkafish zebracorn retrospective")
    assert any("quokkafish" in t for t in texts)
    assert not any("zebracorn" in t for t in texts)

    (kb / "a.md").unlink()
    ingest_paths([kb], services)
    assert not any("quokkafish" in t for t in bm25_texts(services, "quokkafish retrospective"))


def test_a_missing_keyword_index_is_rebuilt_by_the_next_ingest(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    """As after a crash between the Chroma commit and the BM25 rebuild."""
    import shutil

    kb = tmp_path / "kb"
    write(kb / "a.md", doc("Rituals", "Hold a zebracorn retrospective every fortnight."))
    services = make_services()
    ingest_paths([kb], services)
    shutil.rmtree(services.paths.bm25)
    report = ingest_paths([kb], services)
    assert report.chunks_embedded == 0
    assert report.keyword_index_rebuilt
    assert any("zebracorn" in t for t in bm25_texts(services, "zebracorn"))


def test_filters_restrict_both_retrievers(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    kb = tmp_path / "kb"
    write(
        kb / "lead.md", doc("Lead guide", "Mentoring plans for engineers.", "guide", "ML Tech Lead")
    )
    write(
        kb / "manager.md",
        doc(
            "Manager profile",
            "Mentoring plans for engineers.",
            "role_profile",
            "ML Engineering Manager",
        ),
    )
    services = make_services()
    ingest_paths([kb], services)
    question = "mentoring plans for engineers"
    unfiltered = {p.source for p in retrieve(question, services, k=4).passages}
    assert unfiltered == {"kb/lead.md", "kb/manager.md"}
    by_role = retrieve(
        question, services, k=4, filters=PassageFilters(role="ML Engineering Manager")
    )
    assert {p.source for p in by_role.passages} == {"kb/manager.md"}
    by_type = retrieve(question, services, k=4, filters=PassageFilters(doc_type="guide"))
    assert {p.source for p in by_type.passages} == {"kb/lead.md"}


def test_unrelated_question_is_not_covered_and_names_closest_topics(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    kb = tmp_path / "kb"
    write(kb / "lead.md", doc("Lead guide", "Mentoring plans for ML engineers and code review."))
    services = make_services()
    ingest_paths([kb], services)
    result = retrieve("What is the capital of France?", services)
    assert not result.covered
    assert result.passages == []
    assert result.best_similarity < services.settings.retrieval.min_similarity
    assert result.closest_topics == ["Lead guide"]


def test_query_expansion_searches_with_a_hypothetical_answer(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    from helpers import QueuedLLM

    kb = tmp_path / "kb"
    write(kb / "a.md", doc("Rituals", "Hold a zebracorn retrospective every fortnight."))
    write(kb / "b.md", doc("Hiring", "Run a structured interview loop with four stages."))
    services = make_services()
    ingest_paths([kb], services)
    retrieval = services.settings.retrieval.model_copy(update={"expand_query": True})
    llm = QueuedLLM.make("Teams hold a zebracorn retrospective every fortnight.")
    expanded = make_services(retrieval=retrieval, llm=llm)
    question = "Xyzzy plugh?"
    assert not retrieve(question, services).covered, "control: the bare question finds nothing"
    result = retrieve(question, expanded, k=1)
    assert result.covered
    assert result.passages[0].source == "kb/a.md"
    assert question in llm.calls[0]["messages"][0].content


def test_a_lost_keyword_index_is_rebuilt_by_the_next_question(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    """The BM25 files are a cache of the collection: a question rebuilds them, no ingest needed."""
    import shutil

    kb = tmp_path / "kb"
    write(kb / "a.md", doc("Rituals", "Hold a zebracorn retrospective every fortnight."))
    ingest_paths([kb], make_services())
    services = make_services()  # a fresh process: nothing loaded yet
    shutil.rmtree(services.paths.bm25)
    assert any("zebracorn" in t for t in bm25_texts(services, "zebracorn"))
    assert services.paths.bm25.is_dir()


def test_embedding_a_question_leaves_the_thread_count_alone(
    make_services: Callable[..., Services],
) -> None:
    import torch

    services = make_services()
    before = torch.get_num_threads()
    assert len(services.embed_question("How big are ML teams?")) == 384
    assert torch.get_num_threads() == before


def test_a_question_before_any_ingest_says_to_ingest(
    make_services: Callable[..., Services],
) -> None:
    import pytest

    from lodestar.core.errors import IndexEmptyError

    with pytest.raises(IndexEmptyError, match="empty"):
        retrieve("How big are ML teams?", make_services())


def test_one_query_fusion_ranks_exactly_as_llama_index_fusion() -> None:
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    from lodestar.retrieval.fusion import fetched_retriever_class, one_query_fusion

    def hits(scores: dict[str, float]) -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(id_=i, text=i), score=s) for i, s in scores.items()]

    vector = hits({"a": 0.9, "b": 0.7, "c": 0.65, "d": 0.2})
    keyword = hits({"c": 12.0, "e": 9.0, "a": 1.5})
    fetched = fetched_retriever_class()
    for mode in ("relative_score", "reciprocal_rerank", "dist_based_score"):
        ours = one_query_fusion(
            [fetched(vector), fetched(keyword)], mode=mode, weights=[0.6, 0.4], top_k=4
        )
        theirs = QueryFusionRetriever(
            [fetched(vector), fetched(keyword)],
            llm=MockLLM(),
            mode=FUSION_MODES(mode),
            retriever_weights=[0.6, 0.4],
            similarity_top_k=4,
            num_queries=1,
            use_async=False,
        )
        assert set(vars(ours)) == set(vars(theirs))
        got = [(h.node.node_id, h.score) for h in ours.retrieve(QueryBundle("q"))]
        want = [(h.node.node_id, h.score) for h in theirs.retrieve(QueryBundle("q"))]
        assert got == want, mode
