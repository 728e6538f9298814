"""Errors in the app: what happened and what to do, from the one description the CLI uses too."""

from __future__ import annotations

import streamlit as st

from lodestar.core.errors import LodestarError, describe_error

DETAILS_HINT = "Run the same question with `lodestar ask` and LODESTAR_DEBUG=1 to see the details."


def show_error(exc: BaseException) -> str:
    """Show an error as the person at the screen should see it; return its message."""
    message, hint = describe_error(exc)
    if not isinstance(exc, LodestarError):
        message, hint = f"Unexpected error: {message}", DETAILS_HINT
    st.error(message + (f"\n\n{hint}" if hint else ""), icon=":material/error:")
    return message
