"""Text helpers shared by ingest, index, retrieval and answering: folding and
tokens, stemmers and stopwords, language detection, sentence spans, month names."""
