"""The HTTP server: one FastAPI app with the JSON API, an OpenAI-compatible
endpoint, an embeddable page and the Gradio chat UI, all sharing one
``Assistant`` (see app.py)."""
