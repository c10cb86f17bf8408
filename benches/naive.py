"""The naive baseline of the quality benchmark. It lives in evals/naive.py, shared with
`policyqa eval --compare naive`; this module keeps the benchmark's import path."""

from evals.naive import CHUNK_OVERLAP, CHUNK_SIZE, NaivePipeline

__all__ = ["CHUNK_OVERLAP", "CHUNK_SIZE", "NaivePipeline"]
