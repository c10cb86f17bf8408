"""Who writes the answer text: the extractive composer (default) or an LLM behind an OpenAI-compatible API.

The LLM path (`LLMGenerator`) is a layer over the extractive one, never a replacement:

1. The extractive answer is computed first. It decides refusal (the refusal model, answer.refusal): a
   refused question never reaches the model.
2. The model sees only the numbered top clauses (document title, 文号, issuer, date, clause path, text and
   the clause's responsibility records) and is told to cite them as [n] after every sentence.
3. The reply is checked sentence by sentence: a marker survives only if it names a clause that was shown
   and that clause supports the sentence (`supports`); a sentence left without a marker is dropped. The
   surviving markers are renumbered 1, 2, ... in order of first use and the citations built from them.
4. When the endpoint fails (connection, timeout, HTTP error, malformed reply) or nothing survives the
   check, the extractive answer is returned and a warning logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Protocol

import httpx
import openai

from answer.citations import Answer, Citation
from answer.compose import Composer, compose_answer
from answer.question import Question, norm
from policyqa.models import Document
from retrieval.search import SearchHit
from retrieval.tokenize import STOPWORDS, glossary

log = logging.getLogger(__name__)


class AnswerGenerator(Protocol):
    """Writes the answer to a question from its search hits, or refuses."""

    def generate(self, q: Question, hits: list[SearchHit], documents: dict[str, Document],
                 composer: Composer) -> Answer: ...


class ExtractiveGenerator:
    """The default: sentences and responsibility records quoted from the clauses (`answer.compose`)."""

    def generate(self, q: Question, hits: list[SearchHit], documents: dict[str, Document],
                 composer: Composer) -> Answer:
        return compose_answer(q, hits, documents, composer)


# -- the prompt ------------------------------------------------------------------------------------

SYSTEM_PROMPT = """You answer questions about Chinese education-policy documents for the staff of education \
bureaus and schools.
Rules:
- Use only the numbered clauses in the user's message. Do not use any other knowledge.
- Answer in the language of the question, briefly: one to three sentences.
- End every sentence with the numbers of the clauses that state it, in square brackets, e.g. [1] or [1][3].
- When answering in English, keep the names of offices, tasks, projects and documents in the original \
Chinese, in quotation marks, e.g. “教研室”.
- Copy numbers, dates and names exactly as the clauses write them.
- If the clauses do not answer the question, say that you cannot answer it from these documents."""


def clause_header(doc: Document) -> str:
    """《title》 (文号) · issuer · date · a law's status and version: the document a clause comes from, as
    the model sees it (so it can say which version of a law it quotes)."""
    parts = [f"《{doc.title}》" + (f"({doc.doc_number})" if doc.doc_number else "")]
    parts += [p for p in (doc.issuer, doc.date) if p]
    status, version = doc.extra.get("status", ""), doc.extra.get("version_date", "")
    parts += [p for p in (status, version and f"version of {version}") if p]
    return " · ".join(parts)


def clause_body(hit: SearchHit) -> str:
    """Clause path, verbatim text and rendered responsibility records: what a sentence must be backed by."""
    lines = [hit.chunk.clause_path, hit.chunk.text.strip()]
    lines += [f"Responsibility: {r.render()}" for r in hit.chunk.records]
    return "\n".join(line for line in lines if line)


def user_prompt(question: str, hits: list[SearchHit], documents: dict[str, Document]) -> str:
    blocks = [f"[{n}] {clause_header(documents[h.chunk.doc_id])}\n{clause_body(h)}"
              for n, h in enumerate(hits, start=1)]
    return "Clauses:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


# -- the support check -----------------------------------------------------------------------------

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ENGLISH_WORD = re.compile(r"[a-z][a-z\-']+")
# Share of a sentence's checkable units (CJK character bigrams, glossary words) that must occur in the
# cited clause. A faithful paraphrase keeps roughly half or more; a sentence about something else shares
# almost none (on the cases in tests/answer/test_generate.py: supported 0.57-1.0, unsupported 0-0.11).
SUPPORT_MIN = 0.4
# Paraphrase glues the clause's terms with function characters (该工程由教研室…): bigrams that touch one
# (程由, 由教) state nothing and are left out.
FUNCTION_CHARS = set("的是由该和为在了与及其此这那也都将对把被从")


def cjk_bigrams(text: str) -> set[str]:
    """Bigrams of adjacent Chinese characters (not across punctuation, spaces or Latin text), without
    those touching a function character."""
    return {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)
            if not FUNCTION_CHARS & set(run[i:i + 2])}


def supports(sentence: str, hit: SearchHit, doc: Document, question: str = "") -> bool:
    """Whether the clause backs the sentence (citation markers already removed). Cheap and lexical:

    - every number in the sentence occurs in what was shown for the clause, since a wrong figure is the
      most harmful error; and
    - at least SUPPORT_MIN of the sentence's claim units occur in the clause (path, text, records, and the
      文号/issuer/date of its header). Units are the sentence's Chinese character bigrams plus its English
      words that have glossary translations (found when any translation occurs), so English sentences are
      checked through the Chinese terms they quote, their glossary words and their numbers. Units of the
      document title and of the question are left out: naming the document or restating the question
      ("实施特色创新课程构建工程由…") says nothing about what this clause states; what the sentence adds
      must come from the clause. A sentence that only restates the question is checked on all its units.

    A sentence with no units is supported only by its numbers, and not at all without any.
    """
    claim = norm(sentence)
    evidence = norm(" ".join([clause_body(hit), doc.doc_number, doc.issuer, doc.date]))
    if any(n not in evidence + norm(doc.title) for n in NUMBER.findall(claim)):
        return False
    bigrams = cjk_bigrams(claim) - cjk_bigrams(norm(doc.title))
    words = {w for w in ENGLISH_WORD.findall(sentence.lower()) if w not in STOPWORDS and w in glossary()}
    asked_bigrams, asked_words = cjk_bigrams(norm(question)), set(ENGLISH_WORD.findall(question.lower()))
    if (bigrams - asked_bigrams) or (words - asked_words):
        bigrams, words = bigrams - asked_bigrams, words - asked_words
    units = len(bigrams) + len(words)
    if not units:
        return bool(NUMBER.search(claim))
    found = len(bigrams & cjk_bigrams(evidence)) + sum(any(t in evidence for t in glossary()[w]) for w in words)
    return found / units >= SUPPORT_MIN


# -- the reply -------------------------------------------------------------------------------------

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,,、]\s*\d+)*)\s*\]")
LEADING_MARKERS = re.compile(r"^(\s*\[\s*\d+(?:\s*[,,、]\s*\d+)*\s*\])+")
# A sentence ends after 。!? (any width), or after . ! ? followed by a space; not after "3." or "No.".
SENTENCE_END = re.compile(r"(?<=[。!?!?])|(?<=[^\d\s.][.])(?=\s)|(?<=[!?])(?=\s)")
TRAILING_PUNCT = re.compile(r"[。!?!?.;;,,::\s]*$")
# Reasoning models served by Ollama or vLLM may put their deliberation in the content: never an answer.
THINKING = re.compile(r"<think>.*?(</think>|$)", re.S)


def split_sentences(line: str) -> list[str]:
    """The sentences of one line; markers written after the full stop ("…牵头。[1]") stay with theirs."""
    sentences: list[str] = []
    for piece in SENTENCE_END.split(line):
        lead = LEADING_MARKERS.match(piece)
        if lead and sentences:
            sentences[-1] += lead.group(0)
            piece = piece[lead.end():]
        if piece.strip():
            sentences.append(piece)
    return [s.strip() for s in sentences]


def markers_of(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its [n] markers, and the numbers they cite, in order, without repeats."""
    numbers = [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"[,,、]", m.group(1))]
    text = re.sub(r"[ \t]+", " ", MARKER.sub("", sentence)).strip()
    text = re.sub(r"\s+([。!?!?.,,;;])", r"\1", text)  # "教研室 [1]。" without its marker
    return text, list(dict.fromkeys(numbers))


def with_markers(text: str, numbers: list[int]) -> str:
    """Markers go before the sentence's final punctuation: "…协助[1]。", "… by “基教股” [1]."."""
    end = TRAILING_PUNCT.search(text)
    core, punct = text[:end.start()], text[end.start():].strip()
    gap = " " if len(re.findall(r"[A-Za-z]+", core)) >= 2 else ""  # Latin prose spaces its markers
    return core + gap + "".join(f"[{n}]" for n in numbers) + punct


def join_sentences(sentences: list[str]) -> str:
    """Chinese sentences run on; a space wherever Latin text meets."""
    text = sentences[0]
    for s in sentences[1:]:
        text += s if not text[-1:].isascii() and not s[:1].isascii() else " " + s
    return text


def validate_reply(reply: str, hits: list[SearchHit], documents: dict[str, Document],
                   question: str = "") -> tuple[str, list[SearchHit]]:
    """The reply keeping only supported sentences with their valid markers, renumbered in order of first
    use, and the hits those numbers now cite. ("", []) when nothing survives."""
    cited: list[SearchHit] = []
    lines = []
    for line in THINKING.sub("", reply).replace("【", "[").replace("】", "]").splitlines():
        kept = []
        for sentence in split_sentences(line):
            text, numbers = markers_of(sentence)
            valid = [hits[n - 1] for n in numbers if 1 <= n <= len(hits)
                     and supports(text, hits[n - 1], documents[hits[n - 1].chunk.doc_id], question)]
            if not valid:
                continue
            for hit in valid:
                if hit not in cited:
                    cited.append(hit)
            kept.append(with_markers(text, [cited.index(h) + 1 for h in valid]))
        if kept:
            lines.append(join_sentences(kept))
    return "\n".join(lines), cited


# -- the LLM generator -----------------------------------------------------------------------------

# What a failing or misbehaving endpoint raises: the client's own errors (connection, timeout, HTTP
# status, undecodable body) and the attribute/type errors of a reply without choices or message.
ENDPOINT_ERRORS = (openai.OpenAIError, httpx.HTTPError, AttributeError, TypeError, IndexError, ValueError)


@dataclass
class LLMGenerator:
    """Answers written by a chat model behind an OpenAI-compatible API (vLLM, Ollama, a Qwen server),
    checked against the clauses; the extractive answer otherwise (see the module docstring)."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout: float = 20.0
    fallback: AnswerGenerator | None = None
    max_clauses: int = 5  # the top hits shown to the model
    max_tokens: int = 600

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("POLICYQA_LLM_MODEL must name the model when POLICYQA_LLM_BASE_URL is set "
                             "(e.g. qwen2.5:7b-instruct for Ollama, the served model name for vLLM).")
        self.fallback = self.fallback or ExtractiveGenerator()
        # Local servers ignore the key but the client insists on one; retries would only multiply the
        # wait before the fallback.
        self.client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "none",
                                    timeout=self.timeout, max_retries=0)

    def complete(self, question: str, hits: list[SearchHit], documents: dict[str, Document]) -> str:
        """The model's reply text (raises ENDPOINT_ERRORS when the endpoint fails)."""
        completion = self.client.chat.completions.create(
            model=self.model, temperature=0, max_tokens=self.max_tokens,
            messages=[{"role": "system", "content": SYSTEM_PROMPT},
                      {"role": "user", "content": user_prompt(question, hits, documents)}],
        )
        content = completion.choices[0].message.content
        if not isinstance(content, str):
            raise TypeError(f"reply content is {type(content).__name__}, not text")
        return content

    def generate(self, q: Question, hits: list[SearchHit], documents: dict[str, Document],
                 composer: Composer) -> Answer:
        extractive = self.fallback.generate(q, hits, documents, composer)
        if extractive.refused:
            return extractive
        shown = hits[:self.max_clauses]
        question = q.normalised
        try:
            reply = self.complete(question, shown, documents)
        except ENDPOINT_ERRORS as exc:
            log.warning("LLM endpoint %s failed (%s: %s); using the extractive answer",
                        self.base_url, type(exc).__name__, exc)
            return extractive
        text, cited = validate_reply(reply, shown, documents, question)
        if not text:
            log.warning("LLM reply had no sentence with a supported citation; using the extractive answer: %r",
                        reply[:300])
            return extractive
        citations = [Citation.of(n, h.chunk, documents, h.score) for n, h in enumerate(cited, 1)]
        return replace(extractive, answer=text, citations=citations, generator="llm")
