"""The level-guide page: skill areas × levels; a cell opens its source and a kit aimed at it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lodestar.app.errors import show_error
from lodestar.app.queue import show_place
from lodestar.app.sidebar import ALL
from lodestar.app.state import get_services
from lodestar.core.text import location


def levels_page() -> None:
    """Skill areas × levels from the documents that describe levels; a cell opens its source."""
    from lodestar.levels import LevelGuideBuilder, level_sources

    st.header("Level guide")
    try:
        roles = level_sources(get_services()).roles
        choice = st.selectbox("Role", [ALL, *roles], key="levels_role")
        role = None if choice == ALL else choice
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
    st.caption(level_summary(guide))
    st.download_button(
        "Download Markdown", guide.to_markdown(), file_name="level-guide.md", mime="text/markdown"
    )
    st.dataframe(level_table(guide), width="stretch", hide_index=True)
    st.markdown("**Open a cell**")
    for i, row in enumerate(guide.rows):
        cols = st.columns([2, *[1] * len(guide.levels)])
        cols[0].markdown(row.name)
        for col, level in zip(cols[1:], guide.levels, strict=True):
            n = guide.citation_number(row.cells[level])
            label = f"{level} [{n}]" if n else f"{level}: not described"
            if col.button(label, key=f"cell-{i}-{level}"):
                st.session_state.level_cell = (row.heading, level)
    chosen = st.session_state.get("level_cell")
    if chosen is None:
        return
    heading, level = chosen
    found = next((r for r in guide.rows if r.heading == heading), None)
    if found is not None and level in found.cells:
        render_level_cell(found, level, guide.citation_number(found.cells[level]), role)


def build_levels(builder: Any) -> None:
    """Write the cells the cache lacks, with a progress bar; each is saved as it is checked."""
    total = len(builder.pending)
    bar = st.progress(0.0, text=f"Writing cell 1 of {total}…")
    progress = [0]  # cells done, for the bar while the next one waits for the model
    builder.on_wait = lambda ahead: show_place(
        bar, ahead, f"cell {progress[0] + 1}", done=progress[0] / total
    )
    try:
        for done, _ in enumerate(builder, start=1):
            progress[0] = done
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
        where = location(src.title, src.heading, keep_empty="both")
        st.caption(f"Source [{n}]: {where} ({src.source})")
        st.markdown(src.text)
        st.button(
            f"Interview kit for {row.area} ({level})",
            key="level-kit",
            icon=":material/quiz:",
            on_click=open_kit,
            args=(kit_for_cell(row, level, role),),
        )


def open_kit(request: dict[str, Any]) -> None:
    """A cell's button: switch to the interview kit, aimed at the cell's area and level."""
    st.session_state.kit_request = request
    st.session_state.mode = "Interview kit"


def level_table(guide: Any) -> list[dict[str, str]]:
    """The level guide as table rows: the skill area, then each level's cell with its number."""
    table = []
    for row in guide.rows:
        entry = {"skill area": row.name}
        for level in guide.levels:
            cell = row.cells[level]
            n = guide.citation_number(cell)
            entry[level] = f"{cell.text} [{n}]" if n else cell.text
        table.append(entry)
    return table


def level_summary(guide: Any) -> str:
    """Areas, levels and cells not described, for the caption above the guide."""
    return (
        f"{len(guide.rows)} skill areas × {len(guide.levels)} levels · "
        f"{guide.not_described} of {len(guide.cells)} cells not described · {guide.model}"
    )


def kit_for_cell(row: Any, level: str, role: str | None) -> dict[str, Any]:
    """The interview kit a level-guide cell asks for: its area and level, for the chosen role
    (or the first role its document is about)."""
    return {"role": role or row.roles[0], "level": level, "area": row.area, "count": 1}
