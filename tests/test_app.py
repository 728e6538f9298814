"""The Streamlit app, flow by flow, with AppTest: real index and embedder, a fake LLM."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
import yaml
from conftest import KNOWLEDGE, REPO
from helpers import QueuedLLM, kit_question
from streamlit.testing.v1 import AppTest

from lodestar.app import state
from lodestar.components.services import Services
from lodestar.components.store.feedback import FeedbackStore
from lodestar.core.errors import LLMUnavailableError
from lodestar.core.settings import get_settings

QUESTION = "What should a new ML tech lead prioritise?"
APP = REPO / "lodestar" / "app" / "streamlit_app.py"  # the entry `lodestar ui` runs


@pytest.fixture
def app_data(tmp_path: Path, knowledge_index: Path) -> Path:
    """A private copy of the session's knowledge index (the app may write to it)."""
    data = tmp_path / "app-data"
    shutil.copytree(knowledge_index, data)
    return data


@pytest.fixture
def start_app(
    monkeypatch: pytest.MonkeyPatch, app_data: Path, embed_model: Any
) -> Iterator[Callable[..., tuple[AppTest, Any]]]:
    """Run the app as `lodestar ui` does, over `app_data` (or another dir) and a given fake LLM."""

    def start(*replies: str, llm: Any = None, data_dir: Path | None = None) -> tuple[AppTest, Any]:
        llm = llm if llm is not None else QueuedLLM.make(*replies)
        settings = get_settings().model_copy(update={"data_dir": data_dir or app_data})
        services = Services(settings, embed_model=embed_model, llm=llm)
        monkeypatch.setattr(state, "build_services", lambda settings=None: services)
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        return at, llm

    yield start
    st.cache_resource.clear()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def texts(elements: Any) -> str:
    return "\n".join(str(e.value) for e in elements)


def front_matter(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def test_answer_is_streamed_with_numbered_source_cards(start_app: Callable[..., Any]) -> None:
    at, llm = start_app("Build trust first and set a clear technical direction [1]. Hire well [2].")
    ask(at, QUESTION)

    assert texts(at.markdown).count("**[1]**") == 1
    labels = [e.label for e in at.expander if e.label.startswith("[")]
    assert [label[:3] for label in labels] == ["[1]", "[2]"]
    answer = at.session_state.messages[-1]["answer"]
    first_card = next(e for e in at.expander if e.label.startswith("[1]"))
    assert answer["citations"][0]["text"][:60] in texts(first_card.markdown)
    assert "relevance" in texts(first_card.caption)
    assert "queued-fake" in texts(at.caption)
    # The model was given numbered passages and the question.
    prompt = llm.calls[0]["messages"][-1].content
    assert "[1]" in prompt
    assert QUESTION in prompt
    assert not at.error


def test_each_statement_is_marked_and_an_invented_figure_is_not_shown(
    start_app: Callable[..., Any],
) -> None:
    at, _ = start_app(
        "- Build trust first and set a clear technical direction [1].\n"
        "- Leads get a bonus of 47% [1]."
    )
    ask(at, QUESTION)

    shown = texts(at.markdown)
    assert "1 of 2 statements verified against their passages; 1 removed as unsupported" in shown
    checked = next(e for e in at.expander if e.label == "How each statement was checked")
    listing = texts(checked.markdown)
    assert "✓" in listing
    assert "✗" in listing
    assert "47 not in [1]" in listing
    answer_text = at.session_state.messages[-1]["answer"]["answer"]
    assert "47%" not in answer_text
    assert "Build trust first" in answer_text


def test_uncovered_question_is_refused_without_the_model_and_offers_topics(
    start_app: Callable[..., Any],
) -> None:
    at, llm = start_app("The knowledge base says: start with the team's goals [1].")
    ask(at, "What is the capital of France?")

    assert llm.calls == []
    assert "Not covered by the knowledge base" in texts(at.warning)
    answer = at.session_state.messages[-1]["answer"]
    assert answer["refused"]
    assert answer["closest_topics"]
    topic_buttons = [b for b in at.button if b.label in answer["closest_topics"]]
    assert len(topic_buttons) == len(answer["closest_topics"])
    assert not [e for e in at.expander if e.label.startswith("[")]  # no source cards

    topic_buttons[0].click().run()  # asking about a suggested topic reaches the model
    assert len(llm.calls) == 1
    assert answer["closest_topics"][0] in at.session_state.messages[-2]["content"]


def test_follow_up_is_condensed_with_the_history_and_new_conversation_clears_it(
    start_app: Callable[..., Any],
) -> None:
    at, llm = start_app(
        "Set a technical direction and build trust [1].",
        "How should a new ML tech lead approach hiring?",
        "Hire for curiosity and communication [1].",
    )
    ask(at, QUESTION)
    ask(at, "And what about hiring?")

    condense_prompt = llm.calls[1]["messages"][-1].content
    assert QUESTION in condense_prompt
    assert "And what about hiring?" in condense_prompt
    follow_up = at.session_state.messages[-1]["answer"]
    assert follow_up["standalone_question"] == "How should a new ML tech lead approach hiring?"
    assert len([m for m in at.chat_message if m.name == "assistant"]) == 2

    next(b for b in at.button if b.label == "New conversation").click().run()
    assert at.session_state.messages == []
    assert not at.chat_message


def test_filters_restrict_the_passages_given_to_the_model(start_app: Callable[..., Any]) -> None:
    at, _ = start_app("Lead engineers and own the MLOps platform [1].")
    role = "ML Engineering Manager"
    assert role in at.selectbox(key="role_filter").options
    at.selectbox(key="role_filter").set_value(role).run()
    ask(at, "Which tools should I know?")

    allowed = {
        p.name for p in KNOWLEDGE.glob("*.md") if role in (front_matter(p).get("roles") or [])
    }
    supplied = at.session_state.messages[-1]["answer"]["supplied"]
    assert supplied
    assert {Path(c["source"]).name for c in supplied} <= allowed


def test_interview_kit_streams_cards_keeps_going_past_a_failed_question_and_downloads(
    start_app: Callable[..., Any],
) -> None:
    at, llm = start_app(
        kit_question("How would you grow a team of ML engineers over a year?"),
        "{}",
        "not json",
        "[]",  # the second question fails its three attempts and is skipped,
        kit_question("How do you take an ML system from prototype to production?"),
        kit_question("How do you keep your team current with new technologies?"),  # its stand-in
    )
    at.radio(key="mode").set_value("Interview kit").run()
    form = at.get("form")[0]
    form.selectbox[0].set_value("ML Engineering Manager")
    form.selectbox[1].set_value("senior")
    form.number_input[0].set_value(3)
    form.button[0].click().run()
    assert not at.exception
    assert not at.error
    assert len(llm.calls) == 6

    kit = at.session_state.kit
    assert (kit["asked"], kit["made"]) == (3, 3)
    assert [q["level"] for q in kit["questions"]] == ["senior"] * 3
    shown = texts(at.markdown)
    assert "**1. How would you grow a team of ML engineers over a year?**" in shown
    assert "**2. How do you take an ML system from prototype to production?**" in shown
    assert "- Hires and mentors ML engineers" in shown
    captions = texts(at.caption)
    assert "3 of 3 questions made" in captions
    assert "asked instead" in captions
    assert "question 2 (" in captions
    assert "skipped" in captions
    assert "Source:" in captions
    names = [b.proto.label for b in at.get("download_button")]
    assert names == ["Download Markdown", "Download JSON"]
    markdown = at.session_state.kit_markdown
    assert "## Interview kit: ML Engineering Manager (senior)" in markdown
    assert "_3 questions asked for, 3 made._" in markdown

    at.radio(key="kit_view").set_value("Table").run()
    table = at.dataframe[0].value
    assert len(set(table["competency"])) == 3
    assert "Hires and mentors ML engineers" in table["strong answer shows"][0]


def test_upload_adds_a_good_file_and_rejects_a_corrupt_pdf_keeping_the_index(
    start_app: Callable[..., Any], app_data: Path
) -> None:
    at, _ = start_app()
    services = state.build_services()
    chunks_before = services.vector_store.client.count()
    good = b"# Remote onboarding\n\nPair every new hire with a buddy for their first 30 days.\n"
    corrupt = b"%PDF-1.4\n1 0 obj <<>> garbage without xref"
    at.file_uploader[0].set_value(
        [
            ("../../onboarding notes.md", good, "text/markdown"),
            ("broken.pdf", corrupt, "application/pdf"),
        ]
    )
    next(b for b in at.button if b.label == "Add to knowledge base").click().run()
    assert not at.exception

    assert "onboarding notes.md" in texts(at.success)
    assert "broken.pdf: failed" in texts(at.error)
    uploads = app_data / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["onboarding notes.md"]
    assert not list(app_data.parent.glob("onboarding*"))  # no path traversal
    assert services.vector_store.client.count() > chunks_before
    hits = services.vector_store.client.get(where={"file_name": "onboarding notes.md"})
    assert hits["ids"]

    # A different file under the same name needs confirmation.
    at.file_uploader[0].set_value(("onboarding notes.md", good + b"More.\n", "text/markdown"))
    next(b for b in at.button if b.label == "Add to knowledge base").click().run()
    assert "confirm to replace" in texts(at.error)
    assert (uploads / "onboarding notes.md").read_bytes() == good


def test_feedback_is_stored_with_the_answer(start_app: Callable[..., Any], app_data: Path) -> None:
    at, _ = start_app("Set a clear technical direction [1].")
    ask(at, QUESTION)
    at.feedback[0].set_value(0).run()  # thumbs down
    at.text_input(key="comment-1").set_value("Too vague about the first 90 days").run()
    next(b for b in at.button if b.label == "Send feedback").click().run()

    items = FeedbackStore(app_data / "feedback.sqlite3").items()
    assert len(items) == 1
    item = items[0]
    assert (item.rating, item.comment, item.question) == (
        -1,
        "Too vague about the first 90 days",
        QUESTION,
    )
    assert item.answer.startswith("Set a clear technical direction")
    assert item.citations
    assert item.citations[0]["n"] == 1
    assert item.backend == "local"
    assert "feedback is saved" in texts(at.caption)


def test_model_errors_are_shown_with_what_to_do(start_app: Callable[..., Any]) -> None:
    class DownLLM(type(QueuedLLM.make())):  # type: ignore[misc]
        def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
            raise LLMUnavailableError(
                "cannot reach the model server at http://127.0.0.1:9/v1",
                hint="start it, or set LODESTAR_LLM__BACKEND=local",
            )

    at, _ = start_app(llm=DownLLM())
    ask(at, QUESTION)
    shown = texts(at.error)
    assert "cannot reach the model server" in shown
    assert "LODESTAR_LLM__BACKEND=local" in shown
    assert at.session_state.messages == []  # nothing half-recorded


def test_empty_index_says_how_to_fill_it(start_app: Callable[..., Any], tmp_path: Path) -> None:
    at, llm = start_app(data_dir=tmp_path / "empty")
    assert "knowledge base is empty" in texts(at.warning)
    ask(at, QUESTION)
    assert "is empty" in texts(at.error)
    assert "lodestar ingest" in texts(at.error)
    assert llm.calls == []


def test_source_cards_are_shown_before_the_answer_is_complete(
    start_app: Callable[..., Any],
) -> None:
    class CutOffLLM(type(QueuedLLM.make())):  # type: ignore[misc]
        """Writes one word, then fails: whatever is on screen was shown before the end."""

        def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
            from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole

            def gen() -> Any:
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content="Build"),
                    delta="Build",
                )
                raise LLMUnavailableError("the model stopped mid-answer")

            return gen()

    at, _ = start_app(llm=CutOffLLM())
    ask(at, QUESTION)
    assert "the model stopped mid-answer" in texts(at.error)
    assert any("Reading" in str(c.value) and "passages" in str(c.value) for c in at.caption)
    cards = [e for e in at.expander if e.label.startswith("[1]")]
    assert cards, "the passages being read are shown as cards"
    assert texts(cards[0].markdown).strip()
    assert at.session_state.messages == []  # the unfinished answer is not recorded


def test_levels_view_builds_the_guide_then_a_cell_opens_its_passage_and_a_kit(
    start_app: Callable[..., Any],
) -> None:
    import json
    import re

    line = re.compile(r'The passage\'s line for this level: "(?P<line>[^"]+)"')

    class Echo(type(QueuedLLM.make())):  # type: ignore[misc]
        def _next(self, messages: Any, kwargs: dict[str, Any]) -> str:
            self._calls.append({"messages": list(messages), "kwargs": kwargs})
            found = line.search(messages[-1].content)
            if found is None:  # the interview kit's question, after the guide
                return self._replies.pop(0)
            text = found.group("line")
            return json.dumps({"cell": text[0].upper() + text[1:]})

    llm = Echo()
    llm._judge = 1.0
    llm._replies.append(
        kit_question(
            "How do you define the milestones of an engineering problem?",
            signals=(
                "Defines the milestones of an engineering problem",
                "Helps teams prioritise their activities",
            ),
            follow_up="How do you avoid over-engineering?",
        )
    )
    at, _ = start_app(llm=llm)
    at.sidebar.radio(key="mode").set_value("Levels").run()
    assert not at.exception, at.exception
    assert "48 of 48 cells are not written yet" in texts(at.info)
    at.button(key="build_levels").click().run()
    assert not at.exception, at.exception
    assert len(llm.calls) == 48
    assert "16 skill areas × 3 levels · 0 of 48 cells not described" in texts(at.caption)
    table = at.dataframe[0].value
    assert list(table.columns) == ["skill area", "junior", "senior", "lead"]
    assert "Project Management › Planning" in set(table["skill area"])

    # a cell opens its source passage
    planning = list(table["skill area"]).index("Project Management › Planning")
    at.button(key=f"cell-{planning}-lead").click().run()
    assert not at.exception, at.exception
    shown = texts(at.markdown)
    assert "**Project Management › Planning · lead**" in shown
    assert "Can define the milestones of an engineering problem" in shown
    assert "**Lead ML Engineer**: can define the milestones" in shown  # the passage itself
    assert "Project Management: Planning" in texts(at.caption)

    # its button opens an interview kit aimed at that area and level
    at.button(key="level-kit").click().run()
    assert not at.exception, at.exception
    assert at.session_state.mode == "Interview kit"
    kit = at.session_state.kit
    assert kit["level"] == "lead"
    assert [q["competency"] for q in kit["questions"]] == ["Planning"]
    assert "milestones" in kit["questions"][0]["question"]

    # shown again: from the cache, the model not called
    calls = len(llm.calls)
    at.sidebar.radio(key="mode").set_value("Levels").run()
    assert not at.exception, at.exception
    assert len(llm.calls) == calls
    assert at.dataframe[0].value.shape == (16, 4)


def test_the_checkout_entry_runs_the_same_app_as_the_packaged_one() -> None:
    def code(path: Path) -> str:
        body = ast.parse(path.read_text(encoding="utf-8")).body
        docstring = (
            body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        )
        return "\n".join(ast.unparse(node) for node in (body[1:] if docstring else body))

    assert code(REPO / "app.py") == code(APP)
    assert code(APP).endswith("run()")


def test_lodestar_ui_gives_the_checkout_streamlit_config() -> None:
    import tomllib

    from lodestar.cli.ui import STREAMLIT_OPTIONS

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    flat = {
        f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
        for section, values in config.items()
        for key, value in values.items()
    }
    flat.pop("server.maxUploadSize")  # `lodestar ui` sets it from the ingest settings
    assert flat == STREAMLIT_OPTIONS


def test_a_request_for_interview_questions_in_the_chat_writes_a_kit(
    start_app: Callable[..., Any],
) -> None:
    request = "Give me four interview questions for a senior ML Engineering Manager"
    at, llm = start_app(
        kit_question("How would you grow a team of ML engineers over a year?"),
        kit_question("How do you take an ML system from prototype to production?"),
        kit_question("How do you keep your team current with new technologies?"),
        kit_question("Tell me about a time you set technical standards for a team."),
        "Leads build trust first [1].",
    )
    ask(at, request)
    assert not at.error
    kit = at.session_state.messages[-1]["kit"]
    assert (kit["role"], kit["level"], kit["asked"], kit["made"]) == (
        "ML Engineering Manager",
        "senior",
        4,
        4,
    )
    shown = texts(at.markdown)
    assert "**Interview kit: ML Engineering Manager · senior**" in shown
    assert "**4. Tell me about a time you set technical standards for a team.**" in shown
    assert "- Hires and mentors ML engineers" in shown
    assert "4 of 4 questions made" in texts(at.caption)
    assert len(llm.calls) == 4  # four kit questions, no answer about the role

    ask(at, QUESTION)  # the conversation goes on; the kit stays on the page
    assert "Leads build trust first" in texts(at.markdown)
    assert "**Interview kit: ML Engineering Manager · senior**" in texts(at.markdown)
