"""The interview-kit page: questions for a role and level, as cards or a table, downloadable."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from lodestar.app.errors import show_error
from lodestar.app.queue import show_place
from lodestar.app.state import get_services
from lodestar.core.text import location

if TYPE_CHECKING:
    from lodestar.components.store.catalogue import Catalogue


def interview_page(found: Catalogue) -> None:
    """Questions for a role and level, as cards or a table, downloadable as Markdown."""
    state = st.session_state
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
    if kit_data:
        render_kit(kit_data)


def render_kit(kit_data: dict[str, Any]) -> None:
    """The kit made last: its caption, downloads, and its questions as cards or a table."""
    st.subheader(f"{kit_data['role']} · {kit_data['level']}")
    st.caption(kit_summary(kit_data))
    for note in kit_data["notes"]:
        st.caption(f"Note: {note}")
    name = f"interview-kit-{slug(kit_data['role'])}-{slug(kit_data['level'])}"
    cols = st.columns(2)
    cols[0].download_button(
        "Download Markdown",
        st.session_state.kit_markdown,
        file_name=f"{name}.md",
        mime="text/markdown",
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
                    "source": location(
                        q["source"]["title"], q["source"]["heading"], keep_empty="both"
                    ),
                }
                for q in questions
            ],
            width="stretch",
            hide_index=True,
        )
        return
    for n, q in enumerate(questions, start=1):
        render_kit_question(n, q)


def write_kit(role: str, level: str, count: int, area: str | None = None) -> None:
    """Plan the kit, then show each question as soon as it is checked; keep what was made."""
    from lodestar.interview import KitWriter

    state = st.session_state
    try:
        with st.spinner("Planning the kit from the knowledge base…"):
            writer = KitWriter(get_services(), role, level, count, area=area)
    except Exception as exc:
        show_error(exc)
        return

    def keep(kit: Any) -> None:  # kept if the page is left mid-kit
        state.kit = kit.to_json()
        state.kit_markdown = kit.to_markdown()

    write_questions(writer, keep)
    if writer.kit.made:
        keep(writer.kit)
        st.rerun()


def write_questions(writer: Any, keep: Callable[[Any], None] | None = None) -> None:
    """Each question's card as soon as it is checked (a skipped one as a warning), with a
    progress bar that shows the place in line while the model is busy; an error keeps what
    was made (`keep(kit)` after each question)."""
    from dataclasses import asdict

    from lodestar.interview import KitQuestion

    total = len(writer.plan.questions)
    bar = st.progress(0.0, text=f"Writing question 1 of {total}…")
    progress = [0]  # questions done, for the bar while the next one waits for the model
    writer.on_wait = lambda ahead: show_place(
        bar, ahead, f"question {progress[0] + 1}", done=progress[0] / total
    )
    try:
        for done, event in enumerate(writer, start=1):
            progress[0] = done
            if isinstance(event, KitQuestion):
                render_kit_question(writer.kit.made, asdict(event))
                if keep is not None:
                    keep(writer.kit)
            else:
                st.warning(event.note, icon=":material/skip_next:")
            bar.progress(done / total, text=f"Writing question {min(done + 1, total)} of {total}…")
    except Exception as exc:  # keep the questions made so far
        writer.kit.stopped = show_error(exc)
    bar.empty()


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
        where = location(src["title"], src["heading"], keep_empty="both")
        st.caption(f"Source: {where} ({src['source']})")


def kit_summary(kit: dict[str, Any]) -> str:
    """Asked for, made, time and model of a kit, for the caption above it."""
    text = (
        f"{kit['made']} of {kit['asked']} questions made in {kit['seconds']:.0f} s · {kit['model']}"
    )
    if kit.get("stopped"):
        text += f" · stopped early: {kit['stopped']}"
    return text


def slug(text: str) -> str:
    """File-name friendly form of a role or level."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "kit"
