"""Streamlit app (lands with the Streamlit issue); for now it points at the CLI."""

import streamlit as st

st.set_page_config(page_title="Lodestar", page_icon="🧭")
st.title("Lodestar")
st.info('The chat UI lands with the answer engine. Meanwhile: `lodestar retrieve "QUESTION"`.')
