"""Looking into an index from tests: what the product does not need to ask."""

from __future__ import annotations

from assistant.index.lexical import expression_of, query_terms
from assistant.index.vectors import ChromaSentences


def lexical_query(text: str) -> str | None:
    """The FTS5 query retrieval builds from ``text`` (Italian and English stems)."""
    return expression_of(query_terms(text))


def vector_ids(store: ChromaSentences, doc_ids: list[str]) -> list[str]:
    """The ids of the sentence vectors stored for these dispatches."""
    if not doc_ids:
        return []
    return store._collection.get(where={"doc_id": {"$in": doc_ids}}, include=[])["ids"]
