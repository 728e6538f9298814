"""The chat page: questions answered with sources first, the text streamed, each statement checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import streamlit as st

from lodestar.answering.conversation import Conversation
from lodestar.answering.presentation import grounding_line
from lodestar.app.errors import show_error
from lodestar.app.interview import kit_summary, render_kit_question, write_questions
from lodestar.app.queue import show_place
from lodestar.app.state import get_engine, get_services
from lodestar.core.refusal import refusal_parts
from lodestar.core.text import citation_pattern, location

if TYPE_CHECKING:
    from lodestar.retrieval.passages import PassageFilters

_CITATION = citation_pattern(groups=False)


def chat_page(filters: PassageFilters | None, summary: dict[str, Any] | None) -> None:
    """The conversation, and a new question from the input box or a suggested topic."""
    state = st.session_state
    try:
        get_engine()  # built (and warming up) when the page first loads, not at the question
    except Exception as exc:
        show_error(exc)
        return
    if summary is not None and not summary["chunks"]:
        st.warning(
            "The knowledge base is empty. Add documents in the sidebar, or run `lodestar ingest`.",
            icon=":material/inbox:",
        )
    typed = st.chat_input("Ask a question about engineering leadership")
    question = typed or state.pending
    state.pending = None
    if not state.messages and not question:
        st.markdown(
            "#### Ask about leading an engineering team\n"
            "For example: *What should a new ML tech lead prioritise?*"
        )
    for i, message in enumerate(state.messages):
        with st.chat_message(message["role"]):
            if message["role"] == "user":
                st.markdown(message["content"])
            elif "kit" in message:
                render_chat_kit(message["kit"])
            elif "text" in message:
                st.markdown(message["text"])
            else:
                render_answer(i, message["answer"])
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        reply = kit_in_chat(question, filters)
        if reply is None:
            answer = stream_answer(question, filters)
            reply = None if answer is None else {"role": "assistant", "answer": answer}
            if answer is not None:
                render_answer(len(state.messages) + 1, answer)
        if reply is not None:
            state.messages.append({"role": "user", "content": question})
            state.messages.append(reply)


def kit_in_chat(question: str, filters: PassageFilters | None) -> dict[str, Any] | None:
    """A request for interview questions, answered by the kit writer in the chat (the message
    to keep), or None for any other question."""
    from lodestar.interview.request import kit_request_for, kit_writer_for, which_role

    try:
        request = kit_request_for(question, get_services())
    except Exception:  # an unreadable index: the answer path reports it
        return None
    if request is None:
        return None
    request.role = request.role or (filters.role if filters else None)
    if request.role is None:
        text = which_role(request.known_roles)
        st.markdown(text)
        return {"role": "assistant", "text": text}
    try:
        with st.spinner(f"Planning {request.count} interview questions for {request.role}…"):
            writer = kit_writer_for(get_services(), request)
    except Exception as exc:
        show_error(exc)
        return None
    st.markdown(f"**Interview kit: {writer.kit.role} · {writer.kit.level}**")
    for note in writer.kit.notes:
        st.caption(f"Note: {note}")
    write_questions(writer)
    st.caption(kit_summary(writer.kit.to_json()) + " · the Interview kit page exports kits")
    return {"role": "assistant", "kit": writer.kit.to_json()}


def render_chat_kit(kit: dict[str, Any]) -> None:
    """A kit written in the chat, as it was shown."""
    st.markdown(f"**Interview kit: {kit['role']} · {kit['level']}**")
    for note in kit["notes"]:
        st.caption(f"Note: {note}")
    for n, q in enumerate(kit["questions"], start=1):
        render_kit_question(n, q)
    st.caption(kit_summary(kit) + " · the Interview kit page exports kits")


def stream_answer(question: str, filters: PassageFilters | None) -> dict[str, Any] | None:
    """Answer `question` with the conversation so far, streaming the text as it comes.

    The sources show as soon as retrieval is done; while others' answers hold the model, the
    place in line shows ("2 ahead of you"). Stop, or leaving the page, gives up the place: the
    next update of the note raises Streamlit's stop, and the request leaves the line.
    """
    answers = (m["answer"] for m in st.session_state.messages if "answer" in m)
    line = st.empty()
    deltas: Iterator[str] = iter(())
    try:
        with st.spinner("Finding passages…"):
            stream = get_engine().stream(
                question,
                history=Conversation.from_answers(answers).turns,
                filters=filters,
                on_wait=lambda ahead: show_place(line, ahead, "your answer"),
            )
        reading = st.empty()
        if stream.passages:  # sources first: what the model reads, while it writes
            with reading.container():
                render_reading(stream.passages)
        with st.spinner("Reading the passages…"):
            deltas = iter(stream)
            first = next(deltas, "")
        line.empty()

        def rest() -> Iterator[str]:
            yield first
            yield from deltas

        placeholder = st.empty()
        with placeholder.container():
            st.write_stream(rest())
            # The verdicts follow the streamed text: each statement checked against its passage.
            with st.spinner("Checking each statement against its passage…"):
                answer = stream.answer().to_json()
        placeholder.empty()
        reading.empty()
        return answer
    except Exception as exc:
        show_error(exc)
        return None
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:
            close()  # an answer left half-read (Stop, an error) gives the model back at once


def render_answer(index: int, answer: dict[str, Any]) -> None:
    """A finished answer: text, sources, timings and feedback (refusals look different)."""
    if answer["refused"]:
        st.warning("**Not covered by the knowledge base.**", icon=":material/explore_off:")
        st.markdown(refusal_parts(answer["answer"])[0])
        if answer.get("closest_topics"):
            st.caption("Topics it does cover; ask about one of them:")
            for n, topic in enumerate(answer["closest_topics"]):
                if st.button(topic, key=f"topic-{index}-{n}"):
                    st.session_state.pending = f"What does the knowledge base say about {topic}?"
                    st.rerun()
    else:
        render_grounding(answer)
        st.markdown(display_citations(answer["answer"]))
        if answer["citations"]:
            render_sources(answer)
        if answer.get("removed_citations"):
            removed = ", ".join(f"[{n}]" for n in answer["removed_citations"])
            st.caption(f"Removed citations to passages that were not supplied: {removed}")
    t = answer["timings"]
    first = f" · first token {t['first_token_ms'] / 1000:.1f}s" if t.get("first_token_ms") else ""
    st.caption(f"{answer['model']} · retrieval {t['retrieval_ms']:.0f} ms{first}")
    render_feedback(index, answer)


def display_citations(text: str) -> str:
    """Answer text for Markdown: `[1]` as a bold marker, an unverified statement badged."""
    from lodestar.grounding.display import UNVERIFIED_MARK

    text = _CITATION.sub(lambda m: f"**[{m.group(1)}]**", text)
    return text.replace(UNVERIFIED_MARK, ":orange-badge[unverified]")


def render_reading(passages: list[Any]) -> None:
    """The passages being read, as cards, shown while the answer is written."""
    st.caption(f"Reading {len(passages)} passages:")
    for n, p in enumerate(passages, start=1):
        with st.expander(f"[{n}] {p.location}"):
            st.markdown(p.text)
            st.caption(p.source)


def render_sources(answer: dict[str, Any]) -> None:
    """Each cited passage as an expandable card."""
    for c in answer["citations"]:
        with st.expander(f"[{c['n']}] {location(c['title'], c['heading'])}"):
            st.markdown(c["text"])
            page = f" · page {c['page']}" if c.get("page") else ""
            st.caption(f"{c['source']}{page} · relevance {c['score']:.3f}")


def render_grounding(answer: dict[str, Any]) -> None:
    """The verification badge, and how each statement was checked."""
    tone, line = grounding_line(answer.get("verified") or {})
    icon = {
        "ok": ":material/verified:",
        "partial": ":material/rule:",
        "off": ":material/help:",
        "error": ":material/error:",
    }[tone]
    color = {"ok": "green", "partial": "orange", "off": "gray", "error": "red"}[tone]
    st.markdown(f":{color}-badge[{icon} {line}]")
    if answer.get("grounding"):
        with st.expander("How each statement was checked"):
            for verdict in answer["grounding"]:
                mark = ":green[✓]" if verdict["supported"] else ":red[✗]"
                st.markdown(f"{mark} {verdict['statement']}  \n:gray[{verdict['reason']}]")


def render_feedback(index: int, answer: dict[str, Any]) -> None:
    """Thumbs up/down with an optional comment, stored once per answer."""
    from lodestar.components.store.feedback import FeedbackStore

    state = st.session_state
    if index in state.feedback_sent:
        st.caption("Thanks, your feedback is saved.")
        return
    rating = st.feedback("thumbs", key=f"rating-{index}")
    if rating is None:
        return
    comment = st.text_input(
        "What was good or wrong? (optional)", key=f"comment-{index}", placeholder="Optional"
    )
    if st.button("Send feedback", key=f"send-{index}"):
        try:
            FeedbackStore(get_services().paths.feedback).add(
                answer, 1 if rating == 1 else -1, comment
            )
        except Exception as exc:
            show_error(exc)
        else:
            state.feedback_sent[index] = rating
            st.rerun()
