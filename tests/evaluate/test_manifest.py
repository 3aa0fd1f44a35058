"""The run manifest records every setting that shapes a run."""

from assistant.core import Assistant
from assistant.evaluate.runner import EvalOptions, EvalRunner
from assistant.settings import IndexSettings
from tests.conftest import ROOT, make_settings


def test_manifest_records_the_index_and_the_chunk_weight_applied(tmp_path):
    settings = make_settings(tmp_path / "home", index=IndexSettings(embed_chunks=False))
    options = EvalOptions(questions=ROOT / "evals" / "seed_it.jsonl", out=tmp_path / "run", retrieval_only=True)
    manifest = EvalRunner(Assistant(settings), options).manifest()
    assert manifest["index"] == {"embed_chunks": False, "chunk_max_words": settings.index.chunk_max_words}
    assert manifest["chunk_weight_applied"] == 0.0 < manifest["retrieval"]["chunk_weight"]
    assert manifest["retrieval"]["fusion"] == settings.retrieval.fusion.model_dump(mode="json")
    assert manifest["retrieval"]["translate_below_share"] == settings.retrieval.translate_below_share
