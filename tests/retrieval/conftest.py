"""A small constructed corpus for the retrieval tests (real embedder, embedded
Chroma), ingested once for the package: Italian and English dispatches, a
re-issued dispatch in three versions, two agencies with near-identical text."""

import json

import pytest

from assistant.core import Assistant
from assistant.settings import RetrievalSettings
from tests.conftest import make_settings

FLOOD_V1 = ("Un'alluvione ha colpito Valencia nella notte di martedì. Le piogge hanno provocato lo straripamento "
            "del fiume Turia e l'evacuazione di duemila persone. La protezione civile ha aperto tre centri di "
            "accoglienza nei quartieri a nord della città. Le scuole resteranno chiuse fino a venerdì.")
FLOOD_V2 = FLOOD_V1.replace("duemila persone", "tremila persone").replace("tre centri", "quattro centri")
RECORDS = [
    {"id": "metro", "source": "ANSA", "published_at": "2025-03-10", "lang": "it",
     "body": "Il consiglio comunale si è riunito lunedì. La linea M4 della metropolitana di Milano aprirà il 12 "
             "ottobre con sette nuove stazioni. Il sindaco ha detto che i lavori sono costati due miliardi."},
    {"id": "grano", "source": "ANSA", "published_at": "2025-02-14", "lang": "it",
     "body": "Il prezzo del grano duro è sceso del dieci per cento a febbraio. Gli agricoltori pugliesi hanno "
             "protestato davanti alla prefettura di Bari."},
    {"id": "port", "source": "Reuters", "published_at": "2025-03-11", "lang": "en",
     "body": "The port of Genoa reopened on Tuesday after the storm. Shipping companies expect delays until "
             "Friday. The harbour master said two cranes were damaged."},
    {"id": "wind", "source": "Reuters", "published_at": "2024-11-03", "lang": "en",
     "body": "A new offshore wind farm opened near Taranto. It has ten turbines and powers sixty thousand homes."},
    {"id": "flood-a", "source": "ANSA", "published_at": "2025-03-05", "lang": "it", "body": FLOOD_V1},
    {"id": "flood-b", "source": "ANSA", "published_at": "2025-03-06", "lang": "it", "body": FLOOD_V2},
    {"id": "nodate", "source": "AGI", "lang": "it",
     "body": "La Banca centrale europea ha lasciato invariati i tassi di interesse. La presidente ha parlato "
             "di inflazione in calo."},
]


STRIKE_TEXT = ("Lo sciopero dei trasporti ha fermato {n} autobus a Torino nella giornata di giovedì. "
               "I sindacati chiedono il rinnovo del contratto nazionale. Le linee della metropolitana hanno "
               "funzionato regolarmente, mentre i treni regionali hanno subito ritardi fino a un'ora.")
STRIKE = [{"id": "strike-agi", "source": "AGI", "published_at": "2025-03-07", "lang": "it",
           "body": STRIKE_TEXT.format(n="trecento")},
          {"id": "strike-adn", "source": "Adnkronos", "published_at": "2025-03-08", "lang": "it",
           "body": STRIKE_TEXT.format(n="quattrocento")}]


def write_jsonl(path, records):
    """Write ``records`` to ``path`` as JSON lines."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="package")
def helper(tmp_path_factory):
    """An Assistant over the corpus (the re-issue and the strike ingested after the feed)."""
    root = tmp_path_factory.mktemp("retrieve")
    write_jsonl(root / "feed.jsonl", RECORDS)
    # a same-day re-issue ingested later than the first version
    write_jsonl(root / "later.jsonl", [dict(RECORDS[4], id="flood-c", published_at="2025-03-06",
                                            body=FLOOD_V2.replace("venerdì", "sabato"))])
    # min_top_cosine above 1: the ask path stops before the model (no LLM call in these tests)
    assistant = Assistant(make_settings(root / "home", retrieval=RetrievalSettings(
        min_top_cosine={"default": 1.01}, translate_questions=False)))
    assert assistant.ingest([root / "feed.jsonl"], progress=False).ok
    assert assistant.ingest([root / "later.jsonl"], progress=False).ok
    # two agencies sending the same sentence with different figures: two sources, not two versions
    write_jsonl(root / "strike.jsonl", STRIKE)
    assert assistant.ingest([root / "strike.jsonl"], progress=False).ok
    return assistant
