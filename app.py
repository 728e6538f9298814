"""Lodestar's Streamlit app: chat for new leads, interview kits and the level guide for managers.

Rendering only: answers, kits, uploads and feedback come from the same library the CLI uses
(`lodestar.app.ui` and friends). Start it with `lodestar ui`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import streamlit as st

from lodestar.app import ui
from lodestar.core.offline import configure_offline_environment

configure_offline_environment()
st.set_page_config(page_title="Lodestar", page_icon=":material/explore:", layout="centered")


@st.cache_resource(show_spinner="Starting Lodestar…")
def get_services() -> Any:
    """Embedder, index and LLM clients, built once per server process."""
    return ui.build_services()


@st.cache_resource(show_spinner=False)
def get_engine() -> Any:
    """The answer engine over the shared services, warming up on a thread from the start."""
    from lodestar.answering.engine import AnswerEngine

    engine = AnswerEngine(get_services())
    engine.warm_up_in_background()
    return engine


def show_error(exc: BaseException) -> None:
    """An error as the person at the screen should see it: what happened and what to do."""
    message, hint = ui.explain(exc)
    st.error(message + (f"\n\n{hint}" if hint else ""), icon=":material/error:")


def index_summary() -> dict[str, Any] | None:
    """Index status for the sidebar, or None (with an error shown) if it cannot be read."""
    from ingest.status import index_status

    try:
        return index_status(get_services())
    except Exception as exc:  # a Chroma server that is down, an unreadable data dir
        show_error(exc)
        return None


def options() -> ui.FilterOptions:
    """Filter values from the index (empty lists if the index cannot be read)."""
    try:
        return ui.filter_options(get_services())
    except Exception:
        return ui.FilterOptions([], [], [])


# ---------------------------------------------------------------- sidebar
state = st.session_state
state.setdefault("messages", [])
state.setdefault("feedback_sent", {})
state.setdefault("pending", None)

with st.sidebar:
    st.title(":material/explore: Lodestar")
    st.caption("Answers for new engineering leads, from your own knowledge base.")
    mode = st.radio("Mode", ["Chat", "Interview kit", "Levels"], horizontal=True, key="mode")
    if mode == "Chat" and st.button(
        "New conversation", icon=":material/add_comment:", width="stretch"
    ):
        state.messages = []
        state.feedback_sent = {}
        state.pending = None

    found = options()
    with st.expander("Filters", expanded=False):
        doc_type = st.selectbox("Document type", [ui.ALL, *found.doc_types], key="doc_type")
        role_filter = st.selectbox("Role", [ui.ALL, *found.roles], key="role_filter")
    filters = ui.passage_filters(doc_type, role_filter)

    st.subheader("Model")
    st.caption(ui.backend_label(get_services().settings))

    st.subheader("Knowledge base")
    summary = index_summary()
    if summary is not None:
        cols = st.columns(2)
        cols[0].metric("Documents", summary["documents"])
        cols[1].metric("Passages", summary["chunks"])
        st.caption(f"Last ingest: {summary['last ingest']}")

    with st.form("upload", clear_on_submit=True, border=False):
        max_mb = get_services().settings.ingest.max_file_mb
        uploaded = st.file_uploader(
            f"Add documents (md, txt, pdf, docx, html; up to {max_mb:g} MB each)",
            type=["md", "markdown", "txt", "pdf", "docx", "html", "htm"],
            accept_multiple_files=True,
        )
        replace = st.checkbox("Replace uploaded files that have the same name")
        submitted = st.form_submit_button("Add to knowledge base", width="stretch")
    if submitted and uploaded:
        from ingest.uploads import add_uploads

        with st.status(f"Adding {len(uploaded)} file(s)…", expanded=True) as box:
            bar = st.progress(0.0, text="Checking files")
            done: dict[str, int] = {}

            def on_progress(stage: str, advance: int, total: int | None) -> None:
                done[stage] = done.get(stage, 0) + advance
                if total:
                    label = "Embedding passages" if stage == "embedding" else "Indexing files"
                    bar.progress(min(1.0, done[stage] / total), text=label)

            try:
                results = add_uploads(
                    get_services(),
                    [(f.name, f.getvalue()) for f in uploaded],
                    replace=replace,
                    on_progress=on_progress,
                )
            except Exception as exc:
                box.update(label="Upload failed", state="error")
                show_error(exc)
            else:
                bar.progress(1.0, text="Done")
                failed = [r for r in results if not r.ok]
                box.update(
                    label=f"{len(results) - len(failed)} added, {len(failed)} not added",
                    state="error" if failed else "complete",
                )
                state.upload_results = [(r.ok, r.message) for r in results]
    for ok, message in state.get("upload_results", []):
        (st.success if ok else st.error)(message)


# ---------------------------------------------------------------- chat
def render_sources(answer: dict[str, Any]) -> None:
    """Each cited passage as an expandable card."""
    for c in answer["citations"]:
        where = " › ".join(part for part in (c["title"], c["heading"]) if part)
        with st.expander(f"[{c['n']}] {where}"):
            st.markdown(c["text"])
            page = f" · page {c['page']}" if c.get("page") else ""
            st.caption(f"{c['source']}{page} · relevance {c['score']:.3f}")


def render_reading(passages: list[Any]) -> None:
    """The passages being read, as cards, shown while the answer is written."""
    st.caption(f"Reading {len(passages)} passages:")
    for n, p in enumerate(passages, start=1):
        where = " › ".join(part for part in (p.title, p.heading) if part)
        with st.expander(f"[{n}] {where}"):
            st.markdown(p.text)
            st.caption(p.source)


def render_grounding(answer: dict[str, Any]) -> None:
    """The verification badge, and how each statement was checked."""
    tone, line = ui.grounding_line(answer)
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


def render_answer(index: int, answer: dict[str, Any]) -> None:
    """A finished answer: text, sources, timings and feedback (refusals look different)."""
    if answer["refused"]:
        st.warning("**Not covered by the knowledge base.**", icon=":material/explore_off:")
        st.markdown(answer["answer"].split(" The closest topics")[0])
        if answer.get("closest_topics"):
            st.caption("Topics it does cover; ask about one of them:")
            for n, topic in enumerate(answer["closest_topics"]):
                if st.button(topic, key=f"topic-{index}-{n}"):
                    state.pending = f"What does the knowledge base say about {topic}?"
                    st.rerun()
    else:
        render_grounding(answer)
        st.markdown(ui.display_citations(answer["answer"]))
        if answer["citations"]:
            render_sources(answer)
        if answer.get("removed_citations"):
            removed = ", ".join(f"[{n}]" for n in answer["removed_citations"])
            st.caption(f"Removed citations to passages that were not supplied: {removed}")
    t = answer["timings"]
    first = f" · first token {t['first_token_ms'] / 1000:.1f}s" if t.get("first_token_ms") else ""
    st.caption(f"{answer['model']} · retrieval {t['retrieval_ms']:.0f} ms{first}")
    render_feedback(index, answer)


def stream_answer(question: str) -> dict[str, Any] | None:
    """Answer `question` with the conversation so far, streaming the text as it comes."""
    try:
        with st.spinner("Finding passages…"):
            stream = get_engine().stream(
                question, history=ui.history(state.messages), filters=filters
            )
        reading = st.empty()
        if stream.passages:  # sources first: what the model reads, while it writes
            with reading.container():
                render_reading(stream.passages)
        with st.spinner("Reading the passages…"):
            deltas: Iterator[str] = iter(stream)
            first = next(deltas, "")

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


def chat() -> None:
    """The conversation, and a new question from the input box or a suggested topic."""
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
            else:
                render_answer(i, message["answer"])
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        answer = stream_answer(question)
        if answer is not None:
            state.messages.append({"role": "user", "content": question})
            state.messages.append({"role": "assistant", "answer": answer})
            render_answer(len(state.messages) - 1, answer)


# ---------------------------------------------------------------- interview kits
def render_kit_question(n: int, q: dict[str, Any]) -> None:
    """One kit question as a card: competency, signals of a strong answer, follow-up, source."""
    with st.container(border=True):
        st.markdown(f"**{n}. {q['question']}**")
        signals = "\n".join(f"- {s}" for s in q["signals"])
        st.markdown(f"*Competency:* {q['competency']}  \n*A strong answer shows:*\n\n{signals}")
        if q.get("below"):
            st.markdown(f'*Compared with {q["below_level"]}:* the source says "{q["below"]}"')
        st.markdown(f"*Follow-up:* {q['follow_up']}")
        src = q["source"]
        st.caption(f"Source: {src['title']} › {src['heading']} ({src['source']})")


def write_kit(role: str, level: str, count: int, area: str | None = None) -> None:
    """Plan the kit, then show each question as soon as it is checked; keep what was made."""
    from dataclasses import asdict

    from lodestar.interview import KitQuestion, KitWriter

    try:
        with st.spinner("Planning the kit from the knowledge base…"):
            writer = KitWriter(get_services(), role, level, count, area=area)
    except Exception as exc:
        show_error(exc)
        return
    total = len(writer.plan.questions)
    bar = st.progress(0.0, text=f"Writing question 1 of {total}…")
    try:
        for done, event in enumerate(writer, start=1):
            if isinstance(event, KitQuestion):
                render_kit_question(writer.kit.made, asdict(event))
                state.kit = writer.kit.to_json()  # kept if the page is left mid-kit
                state.kit_markdown = writer.kit.to_markdown()
            else:
                st.warning(event.note, icon=":material/skip_next:")
            bar.progress(done / total, text=f"Writing question {min(done + 1, total)} of {total}…")
    except Exception as exc:  # keep the questions made so far
        writer.kit.stopped = ui.explain(exc)[0]
        show_error(exc)
    bar.empty()
    if writer.kit.made:
        state.kit = writer.kit.to_json()
        state.kit_markdown = writer.kit.to_markdown()
        st.rerun()


def interview() -> None:
    """Questions for a role and level, as cards or a table, downloadable as Markdown."""
    st.header("Interview kit")
    if not found.roles or not found.levels:
        st.warning(
            "No role profiles with roles and levels in the knowledge base yet. "
            "Ingest documents whose front matter lists `roles` and `levels`.",
            icon=":material/inbox:",
        )
        return
    with st.form("kit_form"):
        role = st.selectbox("Role", found.roles)
        level = st.selectbox("Level", found.levels)
        count = st.number_input("Number of questions", min_value=1, max_value=20, value=5)
        go = st.form_submit_button("Write the kit", type="primary")
    request = state.pop("kit_request", None)  # a level-guide cell's button
    if request:
        st.info(f"Interview kit for {request['area']} at {request['level']} level, from the guide.")
        write_kit(request["role"], request["level"], request["count"], request["area"])
    elif go:
        write_kit(role, level, int(count))
    kit_data = state.get("kit")
    if not kit_data:
        return
    st.subheader(f"{kit_data['role']} · {kit_data['level']}")
    st.caption(ui.kit_summary(kit_data))
    for note in kit_data["notes"]:
        st.caption(f"Note: {note}")
    name = f"interview-kit-{ui.slug(kit_data['role'])}-{ui.slug(kit_data['level'])}"
    cols = st.columns(2)
    cols[0].download_button(
        "Download Markdown", state.kit_markdown, file_name=f"{name}.md", mime="text/markdown"
    )
    cols[1].download_button(
        "Download JSON",
        json.dumps(kit_data, ensure_ascii=False, indent=2),
        file_name=f"{name}.json",
        mime="application/json",
    )
    view = st.radio("View", ["Cards", "Table"], horizontal=True, key="kit_view")
    questions = kit_data["questions"]
    if view == "Table":
        st.dataframe(
            [
                {
                    "question": q["question"],
                    "competency": q["competency"],
                    "strong answer shows": "; ".join(q["signals"]),
                    "follow-up": q["follow_up"],
                    "source": f"{q['source']['title']} › {q['source']['heading']}",
                }
                for q in questions
            ],
            width="stretch",
            hide_index=True,
        )
        return
    for n, q in enumerate(questions, start=1):
        render_kit_question(n, q)


# ---------------------------------------------------------------- level guide
def open_kit(request: dict[str, Any]) -> None:
    """A cell's button: switch to the interview kit, aimed at the cell's area and level."""
    state.kit_request = request
    state.mode = "Interview kit"


def build_levels(builder: Any) -> None:
    """Write the cells the cache lacks, with a progress bar; each is saved as it is checked."""
    total = len(builder.pending)
    bar = st.progress(0.0, text=f"Writing cell 1 of {total}…")
    try:
        for done, _ in enumerate(builder, start=1):
            bar.progress(done / total, text=f"Writing cell {min(done + 1, total)} of {total}…")
    except Exception as exc:  # the cells written so far stay in the cache
        show_error(exc)
        return
    st.rerun()


def render_level_cell(row: Any, level: str, n: int | None, role: str | None) -> None:
    """The chosen cell: its text, the passage it cites, and a kit aimed at it."""
    cell = row.cells[level]
    with st.container(border=True):
        st.markdown(f"**{row.name} · {level}**")
        if not cell.described:
            st.markdown(f"_{cell.text}_")
            st.caption(cell.reason)
            return
        st.markdown(f"{cell.text} **[{n}]**")
        src = cell.source
        st.caption(f"Source [{n}]: {src.title} › {src.heading} ({src.source})")
        st.markdown(src.text)
        st.button(
            f"Interview kit for {row.area} ({level})",
            key="level-kit",
            icon=":material/quiz:",
            on_click=open_kit,
            args=(ui.kit_for_cell(row, level, role),),
        )


def levels() -> None:
    """Skill areas × levels from the documents that describe levels; a cell opens its source."""
    from lodestar.levels import LevelGuideBuilder, level_sources

    st.header("Level guide")
    try:
        roles = level_sources(get_services()).roles
        role = st.selectbox("Role", [ui.ALL, *roles], key="levels_role")
        role = None if role == ui.ALL else role
        builder = LevelGuideBuilder(get_services(), role=role)
    except Exception as exc:  # no levelled document, a role they do not describe
        show_error(exc)
        return
    guide = builder.guide
    if builder.pending:
        st.info(
            f"{len(builder.pending)} of {len(guide.cells)} cells are not written yet "
            f"({len(guide.rows)} skill areas × {len(guide.levels)} levels). With the bundled "
            "model that takes about 3 s a cell; afterwards the guide opens instantly.",
            icon=":material/table_view:",
        )
        if st.button("Build the level guide", type="primary", key="build_levels"):
            build_levels(builder)
        return
    st.caption(ui.level_summary(guide))
    st.download_button(
        "Download Markdown", guide.to_markdown(), file_name="level-guide.md", mime="text/markdown"
    )
    st.dataframe(ui.level_table(guide), width="stretch", hide_index=True)
    st.markdown("**Open a cell**")
    for i, row in enumerate(guide.rows):
        cols = st.columns([2, *[1] * len(guide.levels)])
        cols[0].markdown(row.name)
        for col, level in zip(cols[1:], guide.levels, strict=True):
            n = guide.citation_number(row.cells[level])
            label = f"{level} [{n}]" if n else f"{level}: not described"
            if col.button(label, key=f"cell-{i}-{level}"):
                state.level_cell = (row.heading, level)
    chosen = state.get("level_cell")
    row = next((r for r in guide.rows if chosen and r.heading == chosen[0]), None)
    if row is not None and chosen[1] in row.cells:
        render_level_cell(row, chosen[1], guide.citation_number(row.cells[chosen[1]]), role)


if mode == "Chat":
    chat()
elif mode == "Levels":
    levels()
else:
    interview()
