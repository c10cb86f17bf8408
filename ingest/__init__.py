"""Ingest: read policy files, clean them, parse clause structure and tables, chunk."""
