"""The OpenAI-compatible API, spoken to by the official openai client over a real uvicorn server."""

from __future__ import annotations

import httpx
import openai
import pytest
from helpers import RENHUAI, serve_in_thread

from server.app import create_app

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"


@pytest.fixture(scope="module")
def server_url(real_index):
    """create_app(real_index) served by uvicorn in a thread on a free loopback port."""
    with serve_in_thread(create_app(real_index), lifespan="on") as url:
        yield url


@pytest.fixture(scope="module")
def client(server_url):
    return openai.OpenAI(base_url=f"{server_url}/v1", api_key="not-needed", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def plain(server_url):
    """The same question through /api/ask, to compare with."""
    return httpx.post(f"{server_url}/api/ask", json={"question": QUESTION}, timeout=60).json()


@pytest.mark.slow
def test_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["policyqa"]
    assert models.data[0].object == "model"


@pytest.mark.slow
def test_chat_completion(client, plain):
    completion = client.chat.completions.create(
        model="policyqa",
        messages=[{"role": "system", "content": "你是教育政策助手。"}, {"role": "user", "content": QUESTION}],
    )
    assert completion.object == "chat.completion" and completion.model == "policyqa"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content
    answer, _, sources = content.partition("\n\nSources:\n")
    assert answer == plain["answer"] and "教研室" in answer
    lines = sources.splitlines()
    assert len(lines) == len(plain["citations"])
    first = plain["citations"][0]
    assert lines[0] == f"[1] {first['doc_title']} ({first['doc_number']}) — {first['clause_path']}"
    assert "仁教字〔2017〕17号" in lines[0]
    citations = completion.model_extra["citations"]
    assert [c["chunk_id"] for c in citations] == [c["chunk_id"] for c in plain["citations"]]
    assert citations[0]["doc_id"] == RENHUAI and citations[0]["n"] == 1
    usage = completion.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


@pytest.mark.slow
def test_chat_completion_stream(client):
    messages = [{"role": "user", "content": QUESTION}]
    reference = client.chat.completions.create(model="policyqa", messages=messages)
    stream = client.chat.completions.create(model="policyqa", messages=messages, stream=True)
    chunks = list(stream)
    assert len(chunks) > 5
    assert all(c.object == "chat.completion.chunk" and c.model == "policyqa" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == reference.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    for c in (chunks[0], chunks[-1]):
        assert [x["chunk_id"] for x in c.model_extra["citations"]] == \
            [x["chunk_id"] for x in reference.model_extra["citations"]]


@pytest.mark.slow
def test_raw_stream_ends_with_done(server_url):
    with httpx.stream("POST", f"{server_url}/v1/chat/completions", timeout=60,
                      json={"model": "policyqa", "stream": True,
                            "messages": [{"role": "user", "content": QUESTION}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


@pytest.mark.slow
def test_last_user_message_is_the_question(client):
    completion = client.chat.completions.create(model="policyqa", messages=[
        {"role": "user", "content": "2024年高考分数线是多少?"},
        {"role": "assistant", "content": "文件中没有找到能回答这个问题的依据。"},
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
    ])
    assert "教研室" in completion.choices[0].message.content
    assert completion.model_extra["refused"] is False


@pytest.mark.slow
def test_refusal_lists_see_also(client):
    completion = client.chat.completions.create(model="policyqa",
                                                messages=[{"role": "user", "content": "2024年高考分数线是多少?"}])
    content = completion.choices[0].message.content
    assert content.startswith("文件中没有找到能回答这个问题的依据。") and "\n\nSee also:\n[1] " in content
    assert completion.model_extra["refused"] is True


@pytest.mark.slow
def test_errors_are_openai_shaped(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="policyqa", messages=[{"role": "system", "content": "只有系统消息"}])
    assert "user message" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="policyqa", messages=[])


def test_sources_say_a_laws_status_and_version():
    from server.streaming import sources_text

    law = {"n": 1, "doc_title": "中华人民共和国教育法", "doc_number": "", "clause_path": "第二十九条",
           "status": "历史版本", "version_date": "2015-12-27",
           "newer_version": {"doc_id": "中华人民共和国教育法", "title": "中华人民共和国教育法", "version_date": "2021-04-29"}}
    plan = {"n": 2, "doc_title": "某县方案", "doc_number": "某教发〔2020〕1号", "clause_path": "一、目标",
            "status": None, "version_date": None, "newer_version": None}
    text = sources_text({"refused": False, "citations": [law, plan]})
    assert text.splitlines()[3:] == [
        "[1] 中华人民共和国教育法 [历史版本, version of 2015-12-27] (newer version: 2021-04-29) — 第二十九条",
        "[2] 某县方案 (某教发〔2020〕1号) — 一、目标"]
