"""What an answer costs besides the query models: the search's own work and the answer step, timed alone.

    .venv/bin/python -m benches.hot_path --data DIR [--set evals/realq-dev*.jsonl] [--rounds 5]

Every question of the sets is analysed and searched once as the service does (answer_depth clauses), with each
model's query vectors kept, so that later searches do no model work. Then, for --rounds rounds, the search
(`QAService._search`: filters, BM25, the FAISS searches, the sentence ranking, fusion) and the answer step
(`answer.generate`, extractive) are timed over all questions, BM25 on the calling thread as under load. Prints
the fastest and median round's time per question for each, and a digest of the answers and rankings, so two
commits can be compared (run it from each checkout with the same --data). Nothing is written.
"""

from __future__ import annotations

import hashlib
import statistics
import time

import retrieval.search as search
from benches.common import timing_arguments
from evals.run import load_eval_set
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.embedders import enable_query_cache


class Busy:
    """Stands in for retrieval.search.ACTIVITY: more than one question in flight, so BM25 runs on the calling
    thread (as it does under load) and its time is counted."""
    count = 2


def per_question(rounds: list[float], n: int) -> str:
    return f"fastest {min(rounds) / n * 1000:.3f} ms, median {statistics.median(rounds) / n * 1000:.3f} ms"


def main() -> None:
    args = timing_arguments(__doc__, rounds=5)

    service = QAService(Settings(data_dir=args.data, query_cache_size=0))
    for embedder in [service.embedder, *getattr(service.embedder, "embedders", [])]:
        enable_query_cache(embedder, 1_000_000)  # the models run once per question, in the first pass
    search.ACTIVITY = Busy()
    questions = [service.analyse(item["question"]) for path in args.sets for item in load_eval_set(path)
                 if not item.get("history")]
    depth = service.settings.answer_depth
    searched = [service._search(q, depth, "hybrid", None) for q in questions]
    documents = service.index.documents

    def answer(q, hits):
        return service.generator.generate(q, hits, documents, service.composer)

    answers = [answer(q, hits) for q, hits in zip(questions, searched, strict=True)]
    search_rounds, answer_rounds = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for q in questions:
            service._search(q, depth, "hybrid", None)
        search_rounds.append(time.perf_counter() - started)
        started = time.perf_counter()
        for q, hits in zip(questions, searched, strict=True):
            answer(q, hits)
        answer_rounds.append(time.perf_counter() - started)
    digest = hashlib.sha1()
    for hits, a in zip(searched, answers, strict=True):
        digest.update("|".join(h.chunk.chunk_id for h in hits).encode())
        digest.update(a.answer.encode())
    n = len(questions)
    print(f"{n} questions over {len(service.index.chunks)} chunks, {args.rounds} rounds")
    print(f"search without the models: {per_question(search_rounds, n)}")
    print(f"answer step:               {per_question(answer_rounds, n)}")
    print(f"rankings and answers digest: {digest.hexdigest()[:12]}")


if __name__ == "__main__":
    main()
