"""Lodestar's Streamlit app (`streamlit run app.py` in a checkout; `lodestar ui` anywhere).

Streamlit runs this script on every interaction: it calls the app's runner each time.
"""

from lodestar.app.main import run

run()
