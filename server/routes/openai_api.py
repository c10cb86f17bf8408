"""OpenAI-compatible API: GET /v1/models and POST /v1/chat/completions (the last user message is the
question).

Any OpenAI client works with base_url=<server>/v1 and any api_key. The answer's numbered citations come as
a "Sources:" list at the end of the message content and, as data, in an extra top-level `citations` field.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse

from policyqa.service import QAService
from policyqa.settings import Settings
from server.access import Access, read_filters, readable_answer
from server.curated import ask_with_approved
from server.deps import checked_question, get_service, get_settings, require_reader
from server.schemas import ChatCompletionRequest, ModelList
from server.streaming import MODEL_ID, SSE_HEADERS, chat_completion, chat_completion_chunks

router = APIRouter(prefix="/v1", tags=["openai"])
STARTED = int(time.time())


@router.get("/models", response_model=ModelList)
def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": STARTED,
                                        "owned_by": "policyqa"}]}


@router.post("/chat/completions", responses={200: {"content": {"text/event-stream": {}}}})
def chat_completions(body: ChatCompletionRequest, request: Request, service: QAService = Depends(get_service),
                     settings: Settings = Depends(get_settings), access: Access = Depends(require_reader)):
    """A chat.completion (or, with `stream: true`, chat.completion.chunk events and `data: [DONE]`)."""
    last = next((i for i in reversed(range(len(body.messages))) if body.messages[i].role == "user"), None)
    question = body.messages[last].text().strip() if last is not None else ""
    if not question:
        raise HTTPException(400, "no user message with text (only whitespace counts as none): the last "
                            "user message is the question")
    question = checked_question(question, settings, ("body", "messages", last, "content"))
    # the messages before the question are the conversation a follow-up is read against
    earlier = [{"role": m.role, "content": m.text()} for m in body.messages[:last] if m.role in ("user", "assistant")]
    resolved = service.resolve(question, earlier)
    result = ask_with_approved(request.app.state.curated, service, resolved, filters=read_filters(None, access))
    result.resolved_question = resolved if resolved != question else None
    readable_answer(result.answer, access)
    log_id = request.app.state.convlog.record("chat-stream" if body.stream else "chat", question, result.to_dict())
    if body.stream:
        return StreamingResponse(chat_completion_chunks(result, log_id), media_type="text/event-stream",
                                 headers=SSE_HEADERS)
    return chat_completion(result, question, log_id)
