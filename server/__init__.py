"""Server: answer composition with citations, the FastAPI app and the chat widget."""
