"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

# Booleans are strict everywhere (StrictBool): `"stream": 0` or `"in_force": "no"` is a mistake to report,
# not a value to guess at.


def has_text(value: str) -> str:
    """The question without surrounding whitespace; one of only whitespace asks nothing and is refused."""
    value = value.strip()
    if not value:
        raise ValueError("the question is only whitespace; write a question")
    return value


# A question or query. Its maximum length is POLICYQA_MAX_QUESTION_CHARS (server.deps.checked_question),
# which the published schema shows as maxLength.
Question = Annotated[str, AfterValidator(has_text), Field(min_length=1, json_schema_extra={"pattern": r"\S"})]


class Filters(BaseModel):
    doc_ids: list[str] = Field(default_factory=list, description="Only these documents.")
    issuers: list[str] = Field(default_factory=list, description="Issuer contains one of these.")
    doc_types: list[str] = Field(default_factory=list, description="e.g. 实施方案, 通知, 条例.")
    years: list[int] = Field(default_factory=list, description="Year of the document's date.")
    in_force: StrictBool | None = Field(
        None, description="Omitted or null (the default): the national law library's repealed, earlier and "
        "not-yet-effective versions are left out, other documents all kept. true: every document must be in "
        "force (not abolished, not superseded, effective). false: nothing is left out, so a law's earlier "
        "and repealed versions are searched too (for local documents the same as before: no filter).")
    as_of: dt.date | None = Field(None, description="A day (YYYY-MM-DD): each law in the version in force "
                               "that day, other documents effective by then.", examples=["2016-01-01"])
    collections: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=50, description="Only these collections: 本地文件 (documents from "
        "files without one), 国家法律 (the national law library), or one a document's sidecar or upload names "
        "(学校制度, 教育局文件 …). A key scoped to collections searches those of them it reads (403 when none).")


MAX_HISTORY_TURNS = 20  # the last ten exchanges: a follow-up's topic is in the last few (answer/followup.py)


class Turn(BaseModel):
    """An earlier message of the conversation, in the OpenAI message shape."""

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=8000, description="An answer quoted back may be long; the question "
                         "it answered is what a follow-up is read against.")


class AskRequest(BaseModel):
    question: Question = Field(..., examples=["哪个股室牵头实施特色创新课程构建工程?"])
    history: list[Turn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS,
        description="The conversation so far, oldest first ({role: user|assistant, content}). A follow-up that "
        "leaves out its topic (\"那协助的呢?\", \"what about the deadline?\") is read against the earlier "
        "questions; the response's `resolved_question` says how.",
        examples=[[{"role": "user", "content": "哪个股室牵头实施特色创新课程构建工程?"},
                   {"role": "assistant", "content": "教研室牵头[1]。"}]])
    top_k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None
    stream: StrictBool = Field(False, description="Answer as server-sent events (also with Accept: "
                         "text/event-stream): `citations`, then `delta` pieces of the answer, then `done` "
                         "with {refused, latency_ms}.")


class LawVersionOut(BaseModel):
    doc_id: str
    title: str
    version_date: str


class CitedDocument(BaseModel):
    doc_id: str
    title: str
    article: str | None = Field(None, description="第X条, when the reference names an article.")
    clause_id: str | None = Field(None, description="That article's clause in the document.")


class CitationOut(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    doc_title: str
    doc_number: str
    issuer: str
    date: str
    clause_path: str
    text: str
    score: float
    start: int
    end: int
    page: int | None = None
    # A law's version; null for documents that are not versioned laws.
    status: str | None = Field(None, description="A law's status: 现行有效, 已废止, 历史版本 or 已被修改.")
    version_date: str | None = Field(None, description="The date of the cited law version.")
    newer_version: LawVersionOut | None = Field(None, description="The index's newer version of the law, "
                                                "when this one is not the newest.")
    cites: list[CitedDocument] = Field(default_factory=list, description="Indexed documents the cited "
                                       "document refers to by title (依据《…法》), the cited passage's first.")


class AskResponse(BaseModel):
    answer: str
    refused: bool
    citations: list[CitationOut]
    latency_ms: float
    answerability: float = Field(0.0, description="The refusal model's probability that the documents answer "
                                 "the question; refused below its threshold (answer/data/refusal_model.json).")
    # Absent unless POLICYQA_LLM_BASE_URL is set, so the extractive-only response keeps its shape.
    generator: Literal["llm", "extractive"] | None = Field(
        None, exclude_if=lambda v: v is None,
        description="With LLM generation configured: 'llm' when the model wrote the answer, 'extractive' "
        "when it was refused, the endpoint failed or no sentence of the reply had a supported citation.")
    resolved_question: str | None = Field(None, description="A follow-up as it was understood from the "
                                          "history (shown as 理解为: …); null when the question stands alone.")
    approved: bool = Field(False, description="Served from an editor's approved answer (/api/curated) to a "
                           "question that means the same; its citations are the approved clauses, unchanged.")
    log_id: str | None = Field(None, description="The answer's row in the conversation log; send it with "
                               "/api/feedback to link the feedback to it. Null when the log is off.")


class SearchRequest(BaseModel):
    query: Question
    top_k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None
    explain: StrictBool = Field(False, description="The hit test: the clauses the answer step reads (those of "
                                "/api/ask for the same question) with each one's cosine similarity per model, "
                                "and the refusal model's answerability, threshold and verdict.")


class SearchResult(BaseModel):
    chunk_id: str
    doc_id: str
    doc_title: str
    clause_path: str
    text: str
    score: float = Field(..., description="The fused (RRF) score.")
    signals: dict[str, int] = Field(..., description="The rank of the clause in each ranking that found it "
                                    "(dense, dense:use, bm25, doc), 1 = first.")
    similarities: dict[str, float] | None = Field(
        None, exclude_if=lambda v: v is None, description="With explain: cosine similarity per model.")


class SearchResponse(BaseModel):
    results: list[SearchResult]
    answerability: float | None = Field(None, exclude_if=lambda v: v is None, description="With explain: the "
                                        "refusal model's probability that the documents answer the query.")
    threshold: float | None = Field(None, exclude_if=lambda v: v is None,
                                    description="With explain: refused below this answerability.")
    refused: bool | None = Field(None, exclude_if=lambda v: v is None,
                                 description="With explain: whether /api/ask refuses the question.")


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    doc_number: str
    issuer: str
    date: str
    doc_type: str
    n_clauses: int
    n_records: int
    collection: str = Field(..., description="国家法律 (the national law library), the collection its sidecar or "
                            "upload names, or 本地文件 (documents from files without one).")
    status: str | None = Field(None, description="A law's status (现行有效, 已废止, 历史版本, 已被修改); null for files.")
    version: str = Field("", description="A law's version date; for a file the first 10 hex digits of its "
                         "content hash (a new version of the file changes it).")
    lifecycle: Literal["in force", "abolished", "superseded", "not yet effective"] = Field(
        "in force", description="From the lifecycle fields (abolished, superseded_by, effective_date).")
    source: str = Field("", description="The file it was read from (uploads/…, corpus/…); empty for laws.")
    uploaded: bool = Field(False, description="Uploaded (in uploads/): an upload of the same name replaces it.")
    removed: dict[str, int] = Field(default_factory=dict, description="Noise lines cleaning removed, by kind.")
    read_method: str = Field("read", description="How the text was got: read, ocr or converted.")
    n_warnings: int = 0


class ClauseAnchor(BaseModel):
    clause_id: str
    path: str
    start: int
    end: int
    level: int = 0
    number: str = ""
    heading: str = ""
    parent_id: str | None = None


class RemovedLine(BaseModel):
    kind: str = Field(..., description="Why it was removed (e.g. page_marker, share_bar).")
    line: str


class RecordOut(BaseModel):
    task: str
    lead: list[str]
    assisting: list[str]
    clause_id: str
    deadline: str = Field("", description="The task's 完成时限 as the table writes it (\"2024年6月底前\", "
                          "\"长期坚持\"); empty when the table has no such column.")


class DocumentDetail(DocumentSummary):
    text: str
    clauses: list[ClauseAnchor]
    records: list[RecordOut]
    removed_lines: list[RemovedLine] = Field(default_factory=list, description="The lines cleaning removed.")
    warnings: list[str] = Field(default_factory=list, description="What the reader warned about.")


# -- live index changes ----------------------------------------------------------------------------


class JobOut(BaseModel):
    job_id: str
    kind: Literal["upload", "delete", "reindex", "laws"]  # laws: an import of national laws
    doc_id: str | None
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    message: str
    warnings: list[str]
    created_at: str
    started_at: str | None
    finished_at: str | None


class JobAccepted(JobOut):
    url: str = Field(..., description="Poll this for the job's status.")
    filename: str | None = Field(None, description="The name the upload was saved under in uploads/.")


class ReindexRequest(BaseModel):
    rebuild: StrictBool = Field(False, description="Re-read and re-embed everything, even unchanged files.")


# -- feedback --------------------------------------------------------------------------------------


class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the full citation objects of /api/ask may be sent back

    n: int | None = Field(None, ge=0, le=1000)
    doc_id: str = Field(..., min_length=1, max_length=200)
    chunk_id: str = Field("", max_length=300)
    doc_title: str = Field("", max_length=300)
    clause_path: str = Field("", max_length=500)


class FeedbackRequest(BaseModel):
    question: str = Field(..., min_length=1, description="At most POLICYQA_MAX_QUESTION_CHARS characters.")
    answer: str = Field(..., max_length=10_000)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=50)
    refused: StrictBool | None = None
    log_id: str | None = Field(None, max_length=64, description="The `log_id` of the answer (/api/ask): the "
                               "feedback is then kept with it in the conversation log too.")
    reason: Literal["错误", "不完整", "引用不对", "没回答"] | None = Field(
        None, description="Why the answer is bad (thumbs down): wrong, incomplete, wrong citation, not answered.")


class FeedbackAccepted(BaseModel):
    ok: bool
    at: str
    linked: bool = Field(False, description="Whether it was linked to its answer in the conversation log "
                         "(false without a log_id, or when that row is no longer kept).")


class FeedbackOut(BaseModel):
    model_config = ConfigDict(extra="allow")  # a line as it was stored

    id: str = Field(..., description="Stable id of the line (a hash of it).")
    at: str = ""
    question: str = ""
    answer: str = ""
    rating: str = ""
    comment: str = ""
    reason: str | None = None
    refused: bool | None = None
    citations: list[dict] = Field(default_factory=list)


class EvalDraftRequest(BaseModel):
    feedback_id: str = Field(..., min_length=1, max_length=40, description="The feedback (GET /api/feedback) "
                             "to turn into a draft eval item.")


class EvalDraftOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    language: str
    answerable: bool | None
    doc_ids: list[str]
    evidence: list[str]
    answer_terms: list[str]
    tags: list[str]
    review: dict


# -- approved answers and the conversation log ----------------------------------------------------


class CuratedRequest(BaseModel):
    question: Question = Field(..., examples=["哪个股室牵头实施特色创新课程构建工程?"])
    answer: str = Field(..., min_length=1, max_length=10_000, description="The approved answer; [n] refers to "
                        "the n-th citation.")
    citations: list[str] = Field(..., min_length=1, max_length=20, description="The chunk_id of each cited "
                                 "clause, as /api/ask and /api/search give them.")
    source: Literal["feedback", "log", "written"] = Field("written", description="Where the editor took it "
                                                          "from.")


class CuratedCreated(BaseModel):
    id: str


class CuratedOut(BaseModel):
    id: str
    question: str
    answer: str
    citations: list[str]
    source: str
    created_at: str
    stale: bool = Field(..., description="A cited clause was deleted or changed since approval: not served.")
    reason: str = Field(..., description="Why it is stale; empty when it is not.")


class LogCitation(BaseModel):
    n: int | None = None
    chunk_id: str | None = None
    doc_id: str | None = None
    doc_title: str | None = None
    clause_path: str | None = None


class LogEntry(BaseModel):
    id: str
    at: str
    channel: str = Field(..., description="ask, ask-stream, chat or chat-stream.")
    question: str = Field(..., description="As asked, phone, ID numbers and e-mail addresses masked.")
    answer: str
    citations: list[LogCitation]
    refused: bool
    approved: bool
    latency_ms: float | None
    answerability: float | None
    rating: Literal["up", "down"] | None
    reason: str | None
    comment: str
    feedback_at: str | None


class LogPage(BaseModel):
    entries: list[LogEntry]
    total: int = Field(..., description="Rows matching the filters.")
    retention_days: int = Field(..., description="POLICYQA_LOG_RETENTION_DAYS: older rows are deleted (0: no log).")


# -- OpenAI-compatible -----------------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ...: accepted, not used

    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [  # temperature, ...: not used
        {"model": "policyqa", "messages": [{"role": "user", "content": "哪个股室牵头实施特色创新课程构建工程?"}]},
    ]})

    model: str = "policyqa"
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: StrictBool | None = Field(False, description="Answer as chat.completion.chunk events; null: no.")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


# -- errors ----------------------------------------------------------------------------------------


class ValidationIssue(BaseModel):
    model_config = ConfigDict(extra="allow")  # FastAPI adds input, ctx, url

    loc: list[str | int]
    msg: str
    type: str


class ErrorDetail(BaseModel):
    """Every error outside /v1: a message, or for a request that failed validation (422) what failed."""

    detail: str | list[ValidationIssue]


class OpenAIErrorInfo(BaseModel):
    message: str
    type: str
    code: int | str | None = None
    param: str | None = None


class OpenAIError(BaseModel):
    """Every error under /v1, in OpenAI's shape."""

    error: OpenAIErrorInfo
