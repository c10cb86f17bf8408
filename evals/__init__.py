"""Eval sets (JSONL, see evals/README.md), metrics and the eval runner."""
