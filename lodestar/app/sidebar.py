"""The sidebar: the mode, filters, the model in use, the knowledge base and uploads to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from lodestar.app.errors import show_error
from lodestar.app.state import catalogue, get_services, index_summary, new_conversation

if TYPE_CHECKING:
    from lodestar.components.store.catalogue import Catalogue
    from lodestar.core.settings import Settings
    from lodestar.retrieval.passages import PassageFilters

ALL = "All"


@dataclass
class Sidebar:
    """What the sidebar chose and found, for the page to use."""

    mode: str
    filters: PassageFilters | None
    found: Catalogue
    summary: dict[str, Any] | None


def render_sidebar() -> Sidebar:
    """Draw the sidebar; return the mode, the filters and what the index holds."""
    from lodestar.retrieval.passages import PassageFilters

    with st.sidebar:
        st.title(":material/explore: Lodestar")
        st.caption("Answers for new engineering leads, from your own knowledge base.")
        mode = st.radio("Mode", ["Chat", "Interview kit", "Levels"], horizontal=True, key="mode")
        if mode == "Chat" and st.button(
            "New conversation", icon=":material/add_comment:", width="stretch"
        ):
            new_conversation()

        found = catalogue()
        with st.expander("Filters", expanded=False):
            doc_type = st.selectbox("Document type", [ALL, *found.doc_types], key="doc_type")
            role_filter = st.selectbox("Role", [ALL, *found.roles], key="role_filter")
        filters = PassageFilters.chosen(doc_type, role_filter, all_label=ALL)

        st.subheader("Model")
        st.caption(backend_label(get_services().settings))

        st.subheader("Knowledge base")
        summary = index_summary()
        if summary is not None:
            cols = st.columns(2)
            cols[0].metric("Documents", summary["documents"])
            cols[1].metric("Passages", summary["chunks"])
            st.caption(f"Last ingest: {summary['last ingest']}")
        render_uploads()
    return Sidebar(mode, filters, found, summary)


def backend_label(settings: Settings) -> str:
    """Backend and model as configured, without loading the model."""
    from lodestar.components.llm.factory import DEFAULT_OPENAI_MODEL, LOCAL_MODEL_NAME

    cfg = settings.llm
    match cfg.backend:
        case "local":
            return f"local · {cfg.model if cfg.model not in (None, '', 'bundled') else LOCAL_MODEL_NAME} (bundled, offline)"
        case "openai":
            return f"openai · {cfg.model or DEFAULT_OPENAI_MODEL}"
        case _:
            return f"{cfg.backend} · {cfg.model or '?'} at {cfg.api_base or '?'}"


def render_uploads() -> None:
    """The upload form; each file's result stays shown until the next upload."""
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
        add_uploads(uploaded, replace)
    for ok, message in st.session_state.get("upload_results", []):
        (st.success if ok else st.error)(message)


def add_uploads(uploaded: list[Any], replace: bool) -> None:
    """Save and ingest the uploaded files, with a progress bar and a line per file."""
    from ingest.uploads import add_uploads as ingest_uploads

    with st.status(f"Adding {len(uploaded)} file(s)…", expanded=True) as box:
        bar = st.progress(0.0, text="Checking files")
        done: dict[str, int] = {}

        def on_progress(stage: str, advance: int, total: int | None) -> None:
            done[stage] = done.get(stage, 0) + advance
            if total:
                label = "Embedding passages" if stage == "embedding" else "Indexing files"
                bar.progress(min(1.0, done[stage] / total), text=label)

        try:
            results = ingest_uploads(
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
            st.session_state.upload_results = [(r.ok, r.message) for r in results]
