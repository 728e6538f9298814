"""The Streamlit app: `main.run` renders one page per interaction (the root app.py and
`streamlit_app.py` call it); `state` holds the session and the cached services, `sidebar` the
sidebar, and `chat`, `interview` and `levels` one page each. It imports the library below it
(answering, interview, levels, ingest, components, core), never `lodestar.cli`.
"""
