from assistant.ingest.parse import parse_record
from assistant.ingest.readers import RawRecord
from assistant.ingest.sentences import group_chunks, split_sentences
from tests.conftest import SEED


def test_offsets_point_into_the_body():
    body = "Il sig. Rossi è arrivato a Roma. Ha detto: «Bene». \nNuova riga qui! E poi?"
    sentences = split_sentences("d1", body, "it")
    assert [s.text for s in sentences] == ["Il sig. Rossi è arrivato a Roma.", "Ha detto: «Bene».",
                                           "Nuova riga qui!", "E poi?"]
    for s in sentences:
        assert body[s.char_start:s.char_end] == s.text
    assert [s.id for s in sentences] == ["d1-s000", "d1-s001", "d1-s002", "d1-s003"]


def test_chunks_hold_whole_sentences_in_order():
    body = " ".join(f"Frase numero {i} con alcune parole in più." for i in range(20))
    sentences = split_sentences("d", body, "it")
    chunks = group_chunks("d", sentences, max_words=20)
    assert [sid for c in chunks for sid in c.sentence_ids] == [s.id for s in sentences]
    assert all(len(c.text.split()) <= 20 for c in chunks)


def test_seed_parses_with_dateline_glued_to_body():
    parsed = parse_record(RawRecord(origin=str(SEED), fields={"text": SEED.read_text(encoding="utf-8")}))
    d = parsed.dispatch
    assert (d.agency, d.place, d.published_at.isoformat(), d.language) == ("AGENPARL", "Roma", "2026-02-03", "it")
    assert d.body.startswith("Le forze armate occidentali")
    assert parsed.sentences[0].text.endswith("con la Russia.")
    assert len(parsed.sentences) == 10
    again = parse_record(RawRecord(origin="elsewhere", fields={"text": SEED.read_text(encoding="utf-8")}))
    assert [s.id for s in again.sentences] == [s.id for s in parsed.sentences]
