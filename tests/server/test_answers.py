"""Answers over HTTP with the real bundled model: SSE parsing, follow-up
rewriting, and the official ``openai`` client against /v1/chat/completions."""

from __future__ import annotations

import json

import pytest

from assistant.domain import Answer

pytestmark = pytest.mark.slow

SEED_QUESTION = "Quando verranno dispiegate le forze occidentali in Ucraina?"
PUBLIC_KEYS = set(Answer(question="q", answer="a", language="it", abstained=True).public())


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """(event name, JSON data) for each block of an event stream."""
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def test_ask_json_matches_the_cli_shape_when_declining_without_the_model(client):
    r = client.post("/api/ask", json={"question": "Qual è la capitale dell'Australia?"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == PUBLIC_KEYS
    assert body["abstained"] is True and body["abstain_reason"] in ("low_relevance", "no_sources")
    assert body["backend"] == "" and body["citations"] == []


@pytest.mark.llm
def test_follow_up_streamed_as_sse(client, served_assistant):
    history = [{"role": "user", "content": "Cosa ha detto Mark Rutte sul dispiegamento delle forze occidentali?"},
               {"role": "assistant", "content": "Che saranno dispiegate in Ucraina solo dopo un accordo di pace [1]."}]
    with client.stream("POST", "/api/ask/stream", json={"question": "e cosa ha detto Lavrov?", "history": history}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse("".join(r.iter_text()))
    names = [n for n, _ in events]
    assert names[0] == "rewrite" and names[-1] == "final" and "error" not in names
    assert "Lavrov" in events[0][1]["question"]
    final = events[-1][1]
    assert set(final) == PUBLIC_KEYS
    assert final["question"] == "e cosa ha detto Lavrov?" and final["standalone_question"] == events[0][1]["question"]
    if final["abstained"]:
        pytest.fail(f"the follow-up was declined ({final['abstain_reason']}): {final}")
    deltas = [d["text"] for n, d in events if n == "delta"]
    assert len(deltas) >= 2 and "".join(deltas).strip()
    cites = [(i, d) for i, (n, d) in enumerate(events) if n == "citations"]
    assert cites and cites[0][1]["provisional"] is True  # the model's sources, before verification
    last_i, last = cites[-1]
    assert last["provisional"] is False and last["citations"] == final["citations"]
    assert last_i > max(i for i, n in enumerate(names) if n == "delta")
    # the citations are real sentences of the index, and the answer is about Lavrov's words
    for c in final["citations"]:
        assert served_assistant.catalog.sentences([c["sentence_id"]])[c["sentence_id"]].text == c["text"]
        assert f"[{c['n']}]" in final["answer"]
    assert any("Lavrov" in c["text"] for c in final["citations"])


@pytest.fixture(scope="module")
def openai_client(live):
    from openai import OpenAI

    return OpenAI(base_url=f"{live.url}/v1", api_key="unused", timeout=600, max_retries=0)


@pytest.mark.llm
def test_openai_client_non_streaming(openai_client):
    resp = openai_client.chat.completions.create(
        model="dispatch-assistant", messages=[{"role": "user", "content": "When will Western forces be deployed in Ukraine?"}])
    message = resp.choices[0].message
    assert resp.object == "chat.completion" and resp.choices[0].finish_reason == "stop"
    assert message.role == "assistant" and message.content.strip()
    extra = resp.model_extra
    assert extra["dispatch_answer"]["answer"] == message.content and extra["dispatch_answer"]["language"] == "en"
    assert not extra["dispatch_answer"]["abstained"], extra["dispatch_answer"]
    assert extra["citations"] and all(c["sentence_id"].startswith(c["doc_id"] + "-s") for c in extra["citations"])
    assert resp.usage.prompt_tokens > 0


@pytest.mark.llm
def test_openai_client_streaming(openai_client):
    stream = openai_client.chat.completions.create(
        model="dispatch-assistant", stream=True, messages=[{"role": "user", "content": SEED_QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) >= 4 and text.strip()
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    final = last.model_extra["dispatch_answer"]
    assert not final["abstained"], final
    assert last.model_extra["citations"] == final["citations"] and final["citations"]
