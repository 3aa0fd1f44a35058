"""Finding the source sentences for a question: dense and lexical search fused,
near-duplicates folded, optional reranking, expected-answer kinds, relative dates."""
