"""Looking into an index from tests: what the product does not need to ask."""

from __future__ import annotations

from assistant.index.lexical import query_terms
from assistant.index.vectors import ChromaSentences


def lexical_query(text: str) -> set[str]:
    """The lexical terms retrieval looks for in ``text`` (Italian and English stems)."""
    return query_terms(text)


def vector_ids(store: ChromaSentences, doc_ids: list[str]) -> list[str]:
    """The ids of the sentence vectors stored for these dispatches."""
    if not doc_ids:
        return []
    return store._collection.get(where={"doc_id": {"$in": doc_ids}}, include=[])["ids"]
