"""One run of the app: the page set up, the sidebar drawn, the chosen page rendered.

Streamlit runs its script again on every interaction; the entry scripts (the root app.py and
`streamlit_app.py` in this package) call `run` each time, while these modules are imported once.
"""

from __future__ import annotations

import streamlit as st


def run() -> None:
    """Render the app once, for the session's current state."""
    from lodestar.core.offline import configure_offline_environment

    configure_offline_environment()  # before the pages import the library
    from lodestar.app.chat import chat_page
    from lodestar.app.interview import interview_page
    from lodestar.app.levels import levels_page
    from lodestar.app.sidebar import render_sidebar
    from lodestar.app.state import start_session

    st.set_page_config(page_title="Lodestar", page_icon=":material/explore:", layout="centered")
    start_session()
    sidebar = render_sidebar()
    if sidebar.mode == "Chat":
        chat_page(sidebar.filters, sidebar.summary)
    elif sidebar.mode == "Levels":
        levels_page()
    else:
        interview_page(sidebar.found)
