"""Retrieval benchmarks: quality against a naive LangChain pipeline, speed and size at 1k-100k chunks.

Run `python -m benches.run`; see benches/README.md.
"""
