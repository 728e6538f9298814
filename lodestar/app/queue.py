"""The place in line for the model, shown to whoever waits for it."""

from __future__ import annotations

from typing import Any


def show_place(slot: Any, ahead: int, what: str, done: float | None = None) -> None:
    """Tell the waiting person how many requests are ahead of `what` (an answer, a kit
    question, a level cell), on an `st.empty()`, or on a progress bar `done` of the way.

    Drawing on the page is also where Streamlit stops a script whose page was left or
    stopped: the request then leaves the line."""
    others = "1 request" if ahead == 1 else f"{ahead} requests"
    text = f"Waiting for the model: {others} ahead of you; {what} starts when they are done."
    if done is not None:
        slot.progress(done, text=text)
    else:
        slot.info(text, icon=":material/hourglass_top:")
