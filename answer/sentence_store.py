"""The answer step's sentence vectors, embedded when the index is built rather than when a question comes.

Sentence selection (answer/sentences.py) compares the question with every sentence of the clauses it reads,
under the USE model. Embedding those sentences at question time cost a question whose clauses no earlier
question had read about a sixth of its time (6 ms of 33 ms an answer over the seed questions, each asked once,
on 2 cores; benches/README.md §8, `benches/sentence_store.py`), and every upload starts a new service whose
memory of sentences is empty. So every sentence of the index is embedded once, beside the index, into a store in the
data folder keyed by the sentence's content (retrieval.cache.EmbeddingCache: one file, replaced by one
rename). A sentence the store lacks (an index built by an older version, a store deleted by hand) is embedded
on the spot as before: the store can be missing or stale without an answer being different.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from answer.sentences import SentenceEncoder, split_sentences
from policyqa.models import Chunk
from retrieval.cache import EmbeddingCache
from retrieval.embedders import Embedder, EmbedderError, USEEmbedder, model_parts

FOLDER = "answer_sentences"  # under the data folder, one subfolder per model
BATCH = 64  # sentences per model call: progress often enough, calls few enough


def sentence_model(embedder: Embedder) -> Embedder | None:
    """The model sentence selection uses: the index's USE model when it has one, else a USE model of its own
    (fast enough for a few dozen sentences a question); None when USE cannot be loaded."""
    for name, model, _ in model_parts(embedder):
        if name.startswith("use:"):
            return model
    try:
        return USEEmbedder()
    except EmbedderError:
        return None


def open_store(data_dir: Path, model: Embedder) -> EmbeddingCache:
    return EmbeddingCache(data_dir / FOLDER, model.name, model.dim)


def has_store(data_dir: Path, embedder: Embedder) -> bool:
    """Whether the data folder has a store for the embedder's sentence model (an index built before there was
    one has none)."""
    model = sentence_model(embedder)
    return model is None or open_store(data_dir, model).saved


def sentence_encoder(embedder: Embedder, data_dir: Path | None = None) -> SentenceEncoder | None:
    """The encoder for sentence selection, reading the data folder's store when it is given."""
    model = sentence_model(embedder)
    if model is None:
        return None
    return SentenceEncoder(model, store=open_store(data_dir, model) if data_dir is not None else None)


def indexed_sentences(chunks: Iterable[Chunk]) -> list[str]:
    """Every sentence sentence selection can be asked to score, once each."""
    return list(dict.fromkeys(text for chunk in chunks for _, text in split_sentences(chunk)))


def update_store(data_dir: Path, embedder: Embedder, chunks: list[Chunk], progress=None) -> int:
    """Embed the chunks' sentences the store lacks and drop those no chunk has any more; how many were
    embedded. `progress` wraps the list of batches, as the index's embedding does."""
    model = sentence_model(embedder)
    if model is None:
        return 0
    store = open_store(data_dir, model)
    texts = indexed_sentences(chunks)
    todo = store.missing(texts)
    batches = [todo[i:i + BATCH] for i in range(0, len(todo), BATCH)]
    try:
        for batch in progress(batches) if progress and batches else batches:
            store.put(batch, model.embed_passages(batch))
    except BaseException:  # cancelled or failed half-way: keep what was embedded for the next run
        if todo:
            store.save()
        raise
    if store.retain(texts) or todo or not store.saved:
        store.save()
    return len(todo)
