"""Retrieval: embed chunks into a FAISS index, jieba BM25, and hybrid search over both."""
