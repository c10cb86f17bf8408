"""Optional LLM generation (server/generate.py) against a fake OpenAI-compatible server.

The fake server is real HTTP (FastAPI under uvicorn on a loopback port) and only its reply is scripted;
the hits come from the real seed-corpus index, so the clauses, numbering and fallbacks are the real ones.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from helpers import RENHUAI, free_port, make_settings, serve_in_thread

from answer.compose import compose_answer
from answer.generate import (
    SYSTEM_PROMPT,
    ExtractiveGenerator,
    LLMGenerator,
    markers_of,
    split_sentences,
    supports,
    validate_reply,
    with_markers,
)
from answer.question import analyse
from policyqa.models import Chunk, Document, ResponsibilityRecord
from policyqa.service import QAService, answer_generator
from retrieval.search import SearchHit
from server.app import create_app

ZH_QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
EN_QUESTION = "Which office leads the curriculum project?"
OUT_OF_SCOPE = "2024年高考分数线是多少?"
TABLE_ROW = f"{RENHUAI}#三.3"  # 3 实施特色创新课程构建工程 | 教研室 | 基教股
WORK_CLAUSE = f"{RENHUAI}#四.(三)"  # (三)实施特色创新课程构建工程。推进国家课程校本化实施……


# -- the support check and reply parsing, on hand-made clauses (fast) ------------------------------

PLAN = Document(doc_id="plan", title="仁怀市品牌学校创建工作实施方案", text="", doc_number="仁教字〔2017〕17号",
                issuer="仁怀市教育局", date="2017-05-15")


def hit(chunk_id: str, path: str, text: str, records: list[ResponsibilityRecord] | None = None) -> SearchHit:
    chunk = Chunk(chunk_id=chunk_id, doc_id="plan", clause_id=chunk_id, clause_path=path, text=text,
                  start=0, end=len(text), records=records or [])
    return SearchHit(chunk, 1.0)


ROW = hit("plan#三.3", "三、任务分工 › 3 实施特色创新课程构建工程", "3\n实施特色创新课程构建工程\n教研室\n基教股",
          [ResponsibilityRecord("实施特色创新课程构建工程", ["教研室"], ["基教股"], "plan#三.3",
                                lead_label="牵头股室", assist_label="协助股室")])
WORK = hit("plan#四.(三)", "四、工作内容 › (三)实施特色创新课程构建工程",
           "(三)实施特色创新课程构建工程。推进国家课程校本化实施,探索构建成长性德育课程、主题性实践课程、多元性"
           "特长课程、选择性拓展课程等自主选择、分层学习的课程体系。开发和使用好地方课程。鼓励学校利用校内、社区"
           "等资源,组织开发或联合开发艺术、体育、科技、心理健康等精品校本课程。全面提升校长课程领导力,提高教师"
           "课程开发力、执行力。")


@pytest.mark.parametrize(("clause", "sentence", "question"), [
    (ROW, "实施特色创新课程构建工程由教研室牵头,基教股协助", ZH_QUESTION),
    (ROW, "该工程由教研室牵头负责", ZH_QUESTION),  # paraphrase: function characters do not count against it
    (ROW, "特色创新课程构建工程的牵头股室是教研室,协助股室是基教股", ""),  # the record's labels
    (ROW, "根据《仁怀市品牌学校创建工作实施方案》,教研室牵头", ""),  # the title neither helps nor hurts
    (ROW, "是的,教研室牵头实施特色创新课程构建工程", "教研室牵头实施特色创新课程构建工程吗?"),  # restated
    (WORK, "要推进国家课程校本化实施,构建自主选择、分层学习的课程体系", "特色创新课程构建工程要做什么?"),
    (WORK, "全面提升校长的课程领导力和教师的课程开发力、执行力", ""),
    (ROW, "The lead office for “实施特色创新课程构建工程” is “教研室”, assisted by “基教股”.", EN_QUESTION),
    (ROW, "The curriculum project is led by “教研室”.", EN_QUESTION),
    (WORK, "Schools should develop school-based courses in art, sports and science.", ""),  # glossary words
    (ROW, "The plan 仁教字〔2017〕17号 was issued on 2017-05-15.", ""),  # the header's 文号 and date
])
def test_supported_sentences(clause, sentence, question):
    assert supports(sentence, clause, PLAN, question)


@pytest.mark.parametrize(("clause", "sentence", "question"), [
    # True, and the clause is about this project, but what the sentence adds is not in it.
    (WORK, "实施特色创新课程构建工程由教研室牵头,基教股协助", ZH_QUESTION),
    (WORK, "该工程由教研室牵头,基教股协助", ""),
    (ROW, "2024年高考分数线为600分", OUT_OF_SCOPE),
    (WORK, "各校要加强校园安全管理,落实安全责任", ""),
    (WORK, "全面提升校长课程领导力,提高教师课程开发力,每年培训3次", ""),  # a figure the clause lacks
    (WORK, "Funding is 5 million yuan.", ""),
    (WORK, "“教研室” leads the curriculum project.", EN_QUESTION),
    (ROW, "See the clause.", ""),  # nothing checkable
])
def test_unsupported_sentences(clause, sentence, question):
    assert not supports(sentence, clause, PLAN, question)


def test_split_sentences_keeps_markers_with_their_sentence():
    assert split_sentences("教研室牵头[1]。基教股协助。[2]") == ["教研室牵头[1]。", "基教股协助。[2]"]
    assert split_sentences("It is led by “教研室” [1]. Version 2.5 applies [2].") == \
        ["It is led by “教研室” [1].", "Version 2.5 applies [2]."]
    assert split_sentences("1. 教研室牵头[1]") == ["1. 教研室牵头[1]"]


def test_markers_are_read_in_order_and_put_back_before_the_full_stop():
    assert markers_of("教研室牵头[2][1, 2]。") == ("教研室牵头。", [2, 1])
    assert markers_of("It is “教研室” [3]. ") == ("It is “教研室”.", [3])
    assert with_markers("教研室牵头。", [1, 2]) == "教研室牵头[1][2]。"
    assert with_markers("It is “教研室”.", [1]) == "It is “教研室” [1]."
    assert with_markers("It is 教研室", [1]) == "It is 教研室 [1]"
    assert with_markers("开设AI课程;", [1]) == "开设AI课程[1];"


def test_validate_reply_drops_and_renumbers():
    reply = ("<think>条款[1]说教研室牵头实施特色创新课程构建工程。</think>\n该工程要推进国家课程校本化实施,构建自主选择、分层学习的课程体系。[2]\n"
             "实施特色创新课程构建工程由教研室牵头,基教股协助【2】[1][9]。2024年高考分数线为600分[1]。没有引用的句子。")
    text, cited = validate_reply(reply, [ROW, WORK], {"plan": PLAN}, ZH_QUESTION)
    assert text == ("该工程要推进国家课程校本化实施,构建自主选择、分层学习的课程体系[1]。\n"
                    "实施特色创新课程构建工程由教研室牵头,基教股协助[2]。")
    assert cited == [WORK, ROW]


def test_llm_needs_a_model_name():
    assert isinstance(answer_generator(make_settings()), ExtractiveGenerator)
    with pytest.raises(ValueError, match="POLICYQA_LLM_MODEL"):
        answer_generator(make_settings(llm_base_url="http://127.0.0.1:9/v1"))
    llm = answer_generator(make_settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m",
                                          llm_api_key="sk-secret"))
    assert isinstance(llm, LLMGenerator) and llm.api_key == "sk-secret" and "sk-secret" not in repr(llm)
    assert "sk-secret" not in repr(make_settings(llm_api_key="sk-secret"))


# -- the fake OpenAI-compatible server -------------------------------------------------------------


@dataclass
class Script:
    """What the fake server answers next, and what it was sent."""

    reply: str = ""
    status: int = 200
    delay_s: float = 0.0
    raw: str | None = None  # a body sent as is instead of a chat completion
    requests: list[dict] = field(default_factory=list)

    def reset(self) -> None:
        self.reply, self.status, self.delay_s, self.raw = "", 200, 0.0, None
        self.requests.clear()


def fake_llm_app(script: Script) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        script.requests.append(body)
        if script.delay_s:
            await asyncio.sleep(script.delay_s)
        if script.status != 200:
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=script.status)
        if script.raw is not None:
            return Response(script.raw, media_type="application/json")
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": script.reply}}]}

    return app


@pytest.fixture(scope="module")
def fake_server():
    script = Script()
    with serve_in_thread(fake_llm_app(script), name="fake-llm", timeout_graceful_shutdown=1) as url:
        yield script, f"{url}/v1"


@pytest.fixture
def fake(fake_server):
    """The script, reset for each test."""
    script, _ = fake_server
    script.reset()
    return script


@pytest.fixture
def llm(fake_server) -> LLMGenerator:
    return LLMGenerator(fake_server[1], "fake-qwen", timeout=10)


def ask(service: QAService, generator, question: str):
    q = analyse(question)
    hits = service.search(q)
    answer = generator.generate(q, hits, service.index.documents, service.composer)
    return hits, answer


def number_of(hits: list[SearchHit], chunk_id: str) -> int:
    """The clause number the model sees for a chunk (1-based hit rank)."""
    ids = [h.chunk.chunk_id for h in hits]
    assert chunk_id in ids, f"{chunk_id} not retrieved any more: {ids}"
    return ids.index(chunk_id) + 1


def check_citations_verbatim(answer, documents) -> None:
    for n, c in enumerate(answer.citations, start=1):
        assert c.n == n
        assert documents[c.chunk.doc_id].text[c.chunk.start:c.chunk.end] == c.chunk.text == c.to_dict()["text"]


# -- through the generator, on the real index ------------------------------------------------------


@pytest.mark.slow
def test_well_cited_reply_is_renumbered(real_index, fake, llm):
    hits = real_index.search(ZH_QUESTION)
    row, work = number_of(hits, TABLE_ROW), number_of(hits, WORK_CLAUSE)
    fake.reply = (f"该工程要推进国家课程校本化实施,构建自主选择、分层学习的课程体系[{work}]。"
                  f"实施特色创新课程构建工程由教研室牵头,基教股协助[{row}]。")
    _, answer = ask(real_index, llm, ZH_QUESTION)
    assert answer.generator == "llm" and not answer.refused
    assert answer.answer == ("该工程要推进国家课程校本化实施,构建自主选择、分层学习的课程体系[1]。"
                             "实施特色创新课程构建工程由教研室牵头,基教股协助[2]。")
    assert [c.chunk.chunk_id for c in answer.citations] == [WORK_CLAUSE, TABLE_ROW]
    check_citations_verbatim(answer, real_index.index.documents)
    assert len(fake.requests) == 1 and fake.requests[0]["model"] == "fake-qwen"


@pytest.mark.slow
def test_invalid_and_unsupported_citations_are_dropped(real_index, fake, llm):
    hits = real_index.search(ZH_QUESTION)
    row, work = number_of(hits, TABLE_ROW), number_of(hits, WORK_CLAUSE)
    fake.reply = (f"实施特色创新课程构建工程由教研室牵头,基教股协助[{work}][{row}][9]。"  # [work]: not there
                  f"2024年高考分数线为600分[{row}]。"  # supported by nothing shown
                  f"该工程还需要加强校园安全管理[{work}]。")  # a clause about the project, but not this
    _, answer = ask(real_index, llm, ZH_QUESTION)
    assert answer.generator == "llm"
    assert answer.answer == "实施特色创新课程构建工程由教研室牵头,基教股协助[1]。"
    assert [c.chunk.chunk_id for c in answer.citations] == [TABLE_ROW]
    check_citations_verbatim(answer, real_index.index.documents)


@pytest.mark.slow
def test_english_reply_checked_through_its_chinese_terms(real_index, fake, llm):
    hits = real_index.search(EN_QUESTION)
    row = number_of(hits, TABLE_ROW)
    fake.reply = (f"The lead office for “实施特色创新课程构建工程” is “教研室”, assisted by “基教股” [{row}]. "
                  f"Its budget is 5 million yuan [{row}].")
    _, answer = ask(real_index, llm, EN_QUESTION)
    assert answer.generator == "llm"
    assert answer.answer == "The lead office for “实施特色创新课程构建工程” is “教研室”, assisted by “基教股” [1]."
    assert [c.chunk.chunk_id for c in answer.citations] == [TABLE_ROW]


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["http 500", "timeout", "server down", "malformed", "no valid citation"])
def test_failures_fall_back_to_the_extractive_answer(real_index, fake, fake_server, failure, caplog):
    llm = LLMGenerator(fake_server[1], "fake-qwen", timeout=0.5)
    if failure == "http 500":
        fake.status = 500
    elif failure == "timeout":
        fake.delay_s, fake.reply = 3.0, "教研室牵头[1]。"
    elif failure == "server down":
        llm = LLMGenerator(f"http://127.0.0.1:{free_port()}/v1", "fake-qwen", timeout=2)
    elif failure == "malformed":
        fake.raw = '{"id": "x", "object": "chat.completion"}'  # no choices
    else:
        fake.reply = "文件中没有相关规定。The documents do not say [7]."
    with caplog.at_level(logging.WARNING, logger="answer.generate"):
        hits, answer = ask(real_index, llm, ZH_QUESTION)
    expected = compose_answer(analyse(ZH_QUESTION), hits, real_index.index.documents, real_index.composer)
    assert answer == expected and answer.generator == "extractive" and not answer.refused
    assert "教研室" in answer.answer
    assert any("extractive answer" in r.getMessage() for r in caplog.records)
    assert len(fake.requests) == (0 if failure == "server down" else 1)


@pytest.mark.slow
def test_refused_questions_never_reach_the_model(real_index, fake, llm):
    fake.reply = "高考分数线是600分[1]。"
    _, answer = ask(real_index, llm, OUT_OF_SCOPE)
    assert answer.refused and answer.generator == "extractive"
    assert fake.requests == []


@pytest.mark.slow
def test_prompt_holds_only_the_retrieved_clauses(real_index, fake, llm):
    fake.reply = "教研室牵头[1]。"
    hits, _ = ask(real_index, llm, ZH_QUESTION)
    (request,) = fake.requests
    system, user = request["messages"]
    assert (system["role"], system["content"]) == ("system", SYSTEM_PROMPT)
    assert user["role"] == "user" and user["content"].endswith(f"Question: {ZH_QUESTION}")
    prompt = user["content"]
    shown = hits[:llm.max_clauses]
    headers = list(re.finditer(r"^\[(\d+)\] 《", prompt, re.M))
    assert [int(m.group(1)) for m in headers] == list(range(1, len(shown) + 1))
    ends = [m.start() for m in headers[1:]] + [prompt.index("\n\nQuestion: ")]
    for h, m, end in zip(shown, headers, ends, strict=True):
        block = prompt[m.start():end]
        doc = real_index.index.documents[h.chunk.doc_id]
        assert doc.title in block and h.chunk.clause_path in block and h.chunk.text.strip() in block
        assert (doc.doc_number or "") in block
    # No other clause's text (those that are part of a shown one aside) reaches the model.
    shown_text = "\n".join(h.chunk.text for h in shown)
    others = [c for c in real_index.index.chunks
              if c.chunk_id not in {h.chunk.chunk_id for h in shown} and c.text.strip() not in shown_text]
    assert others and not [c.chunk_id for c in others if c.text.strip() in prompt]


# -- through the HTTP API --------------------------------------------------------------------------


@pytest.fixture
def llm_client(real_index, fake_server):
    settings = real_index.settings.model_copy(update={"llm_base_url": fake_server[1], "llm_model": "fake-qwen"})
    with TestClient(create_app(QAService(settings, real_index.embedder, real_index.index))) as client:
        yield client


@pytest.mark.slow
def test_api_ask_reports_the_generator(real_index, fake, llm_client):
    hits = real_index.search(ZH_QUESTION)
    row = number_of(hits, TABLE_ROW)
    fake.reply = f"实施特色创新课程构建工程由教研室牵头,基教股协助[{row}]。"
    body = llm_client.post("/api/ask", json={"question": ZH_QUESTION}).json()
    assert body["generator"] == "llm" and body["refused"] is False
    assert body["answer"] == "实施特色创新课程构建工程由教研室牵头,基教股协助[1]。"
    assert [(c["n"], c["chunk_id"]) for c in body["citations"]] == [(1, TABLE_ROW)]
    assert body["citations"][0]["text"] == next(h.chunk.text for h in hits if h.chunk.chunk_id == TABLE_ROW)

    fake.status = 503
    body = llm_client.post("/api/ask", json={"question": ZH_QUESTION}).json()
    assert body["generator"] == "extractive" and "教研室" in body["answer"] and body["citations"]

    refused = llm_client.post("/api/ask", json={"question": OUT_OF_SCOPE}).json()
    assert refused["generator"] == "extractive" and refused["refused"] is True
    assert len(fake.requests) == 2  # the refusal was not sent


@pytest.mark.slow
def test_api_without_llm_keeps_its_shape(real_index, fake):
    with TestClient(create_app(real_index)) as client:
        body = client.post("/api/ask", json={"question": ZH_QUESTION}).json()
    assert "generator" not in body and fake.requests == []
    assert "generator" in client.app.openapi()["components"]["schemas"]["AskResponse"]["properties"]
