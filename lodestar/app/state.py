"""The app's state: the services and engine built once per server process, and the session's keys.

The heavy objects are built once (`st.cache_resource`) through `build_services`, from the same
factory the CLI uses; tests replace `build_services` to run the app with deterministic fakes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from lodestar.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from lodestar.answering.engine import AnswerEngine
    from lodestar.components.services import Services
    from lodestar.components.store.catalogue import Catalogue


def build_services(settings: Settings | None = None) -> Services:
    """The app's services: the configured embedder, index and LLM (built lazily)."""
    from lodestar.components.services import Services
    from lodestar.core.logs import configure_logging

    settings = settings or get_settings()
    # Once per server process (the services are cached): library warnings go to the log.
    configure_logging(settings.data_dir)
    return Services(settings)


@st.cache_resource(show_spinner="Starting Lodestar…")
def get_services() -> Services:
    """Embedder, index and LLM clients, built once per server process."""
    return build_services()


@st.cache_resource(show_spinner=False)
def get_engine() -> AnswerEngine:
    """The answer engine over the shared services, warming up on a thread from the start."""
    from lodestar.answering.engine import AnswerEngine

    engine = AnswerEngine(get_services())
    engine.warm_up_in_background()
    return engine


def start_session() -> None:
    """The session's keys, set on its first run."""
    state = st.session_state
    state.setdefault("messages", [])
    state.setdefault("feedback_sent", {})
    state.setdefault("pending", None)


def new_conversation() -> None:
    """Forget the conversation: its messages, the feedback given and a pending question."""
    state = st.session_state
    state.messages = []
    state.feedback_sent = {}
    state.pending = None


def catalogue() -> Catalogue:
    """Document types, roles and levels in the index (empty lists if it cannot be read)."""
    from lodestar.components.store.catalogue import Catalogue, read_catalogue

    try:
        return read_catalogue(get_services().vector_store.client)
    except Exception:
        return Catalogue([], [], [])


def index_summary() -> dict[str, Any] | None:
    """Index status for the sidebar, or None (with an error shown) if it cannot be read."""
    from ingest.status import index_status
    from lodestar.app.errors import show_error

    try:
        return index_status(get_services())
    except Exception as exc:  # a Chroma server that is down, an unreadable data dir
        show_error(exc)
        return None
