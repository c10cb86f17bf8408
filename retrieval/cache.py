"""Embeddings cached by content hash, per embedder: unchanged chunks are never embedded again."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """A folder per embedder holding keys.json + vectors.npy; saved atomically."""

    def __init__(self, root: Path, embedder_name: str, dim: int) -> None:
        self.folder = root / re.sub(r"[^\w.-]+", "_", embedder_name)
        self.dim = dim
        self.vectors: dict[str, np.ndarray] = {}
        keys_file, vec_file = self.folder / "keys.json", self.folder / "vectors.npy"
        if keys_file.exists() and vec_file.exists():
            keys = json.loads(keys_file.read_text())
            matrix = np.load(vec_file)
            if matrix.shape == (len(keys), dim):
                self.vectors = dict(zip(keys, matrix, strict=True))

    def missing(self, texts: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if text_key(t) not in self.vectors))

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        for t, v in zip(texts, vectors, strict=True):
            self.vectors[text_key(t)] = np.asarray(v, np.float32)

    def get(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vectors[text_key(t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        matrix = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        tmp_vec, tmp_keys = self.folder / "vectors.tmp.npy", self.folder / "keys.tmp.json"
        np.save(tmp_vec, matrix)
        tmp_keys.write_text(json.dumps(keys))
        os.replace(tmp_vec, self.folder / "vectors.npy")
        os.replace(tmp_keys, self.folder / "keys.json")
