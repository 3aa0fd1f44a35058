"""The run manifest records every setting that shapes a run."""

from assistant.core import Assistant
from assistant.evaluate.runner import RETRIEVAL_DEPTH, EvalOptions, EvalRunner
from assistant.settings import IndexSettings
from tests.conftest import ROOT, make_settings


def test_manifest_records_the_index_and_the_chunk_weight_applied(tmp_path):
    settings = make_settings(tmp_path / "home", index=IndexSettings(embed_chunks=False))
    options = EvalOptions(questions=ROOT / "evals" / "seed_it.jsonl", out=tmp_path / "run", retrieval_only=True)
    manifest = EvalRunner(Assistant(settings), options).manifest()
    index = settings.index
    assert manifest["index"] == {"embed_chunks": False, "chunk_max_words": index.chunk_max_words,
                                 "hnsw_ef_search": index.hnsw_ef_search,
                                 "hnsw_ef_construction": index.hnsw_ef_construction,
                                 "hnsw_max_neighbors": index.hnsw_max_neighbors}
    assert manifest["chunk_weight_applied"] == 0.0 < manifest["retrieval"]["chunk_weight"]
    assert manifest["retrieval"] == settings.retrieval.model_dump(mode="json")  # fusion, pools, translation share
    assert manifest["retrieval_depth"] == RETRIEVAL_DEPTH
    assert manifest["conflicts"] == settings.conflicts.model_dump(mode="json")
    assert manifest["llm"]["question_max_tokens"] == settings.llm.question_max_tokens  # a translation's length
