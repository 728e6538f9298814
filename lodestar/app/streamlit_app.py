"""Lodestar's Streamlit app, as `lodestar ui` starts it (the same entry as the checkout's app.py)."""

from lodestar.app.main import run

run()
