"""The facade's own behaviour, without models."""

from assistant.core import Assistant
from assistant.settings import IndexSettings
from tests.conftest import make_settings


def test_status_names_the_configured_vector_store(tmp_path):
    for chroma in ("embedded", "127.0.0.1:8000"):
        helper = Assistant(make_settings(tmp_path / chroma.replace(":", "_"), index=IndexSettings(chroma=chroma)))
        assert helper.status(check_backends=False)["backends"]["vector_store"] == chroma


class Retriever:
    """Records the filters retrieval is given, over a catalog of dated dispatches."""

    def __init__(self):
        self.filters = []
        self.catalog = type("Catalog", (), {"language_counts": lambda _self: {"it": 1},
                                            "has_dated_dispatches": lambda _self: True})()

    def retrieve(self, question, language, top_k=None, filters=None, translation=None):
        self.filters.append(filters)
        return []


def test_retrieve_applies_relative_dates_as_ask_does(tmp_path):
    from datetime import date

    from assistant.answering.service import AnswerService
    from assistant.domain import Filters

    helper = Assistant(make_settings(tmp_path / "home"))
    retriever = Retriever()
    helper.__dict__["answers"] = AnswerService(helper.settings, retriever, llm_provider=None)
    helper.retrieve("Cosa è successo ieri al porto di Genova?", reference_date=date(2025, 3, 12))
    assert (retriever.filters[-1].since, retriever.filters[-1].until) == (date(2025, 3, 11), date(2025, 3, 11))
    explicit = Filters(since=date(2025, 1, 1))
    helper.retrieve("Cosa è successo ieri al porto di Genova?", explicit, reference_date=date(2025, 3, 12))
    assert retriever.filters[-1] == explicit  # explicit dates win, as in ask
    helper.retrieve("Chi guida il porto di Genova?")
    assert retriever.filters[-1] is None  # no period named: the filters as given


def test_components_take_their_settings(tmp_path):
    settings = make_settings(tmp_path / "home", index=IndexSettings(embed_chunks=False))
    helper = Assistant(settings)
    helper.__dict__.update(embedder=None, vectors=None)  # no model, no vector store
    assert helper.verifier.max_per_sentence == settings.verification.max_per_sentence
    assert helper.verifier.min_cosine == settings.verification.min_cosine
    assert helper.retrieval_settings.chunk_weight == 0.0 < settings.retrieval.chunk_weight  # no chunk vectors
