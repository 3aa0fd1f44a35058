"""A folder of malformed inputs mixed with valid dispatches, and what an
ingest of it must do: which dispatches end up indexed (with their exact
bodies where the encoding matters) and which files or lines are refused,
with the reason each error line must give."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

ACCENTED = "Perché è così: la città “vecchia” e l’università più antica. Già però giù è là."
DATELINES = ["(ANSA) - Roma, 3 marzo 2024 - ", "Milano, 6 nov. (Adnkronos) – ", "(AGI) – Torino – ",
             "NAPOLI (ITALPRESS) – ", "(AGENPARL) - Bari, 12 Febbraio 2026 "]
ONLY_DATELINES = ["(ANSA) - Roma, 3 marzo 2024 -", "(AGI) – Torino –", "Milano, 6 nov. (Adnkronos) –",
                  "NAPOLI (ITALPRESS) –", "Ultime notizie\n(ANSA) - Roma, 3 marzo 2024"]
UNKNOWN_DATES = ["(ANSA) - Roma, 2024/03/02 - ", "(ANSA) - Roma, 31 febbraio 2024 - ",
                 "Roma, March 3rd 2024 (Reuters) - ", "(AGI) - Genova, il giorno dopo - "]
SUBJECTS = ["Il consiglio comunale", "La giunta regionale", "Il ministero", "La prefettura", "Il tribunale"]
VERBS = ["ha approvato", "ha respinto", "ha rinviato", "ha discusso"]


@dataclass
class BadInputs:
    """The generated folder and the expected outcome of ingesting it."""

    root: Path
    tokens: dict[str, str] = field(default_factory=dict)          # token -> file it came from
    exact_bodies: dict[str, str] = field(default_factory=dict)    # token -> body expected in the catalog
    exact_by_id: dict[str, str] = field(default_factory=dict)     # dispatch id -> body expected
    undated_tokens: set[str] = field(default_factory=set)
    jsonl_ids: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)         # file path -> reason in its one error line
    bad_lines: dict[str, str] = field(default_factory=dict)       # "path:line" -> reason
    extra_errors: list[str] = field(default_factory=list)         # exact further lines (counted bad lines)
    tried: dict[str, int] = field(default_factory=dict)           # case -> files made

    @property
    def dispatches(self) -> int:
        return len(self.tokens) + len(self.jsonl_ids)


def _sentences(token: str, rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} la delibera {token} dopo una lunga discussione. "
            f"La seduta riprenderà martedì con il voto sul bilancio {token}.")


def build(root: Path, seed: int = 7) -> BadInputs:
    """Write the folder under ``root`` and return what ingesting it must give."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    out = BadInputs(root=root)
    counter = iter(range(1, 100_000))

    def put(case: str, name: str, data: bytes) -> Path:
        path = root / name
        path.write_bytes(data)
        out.tried[case] = out.tried.get(case, 0) + 1
        return path

    def valid(case: str, suffix: str, encode, prefix: str = "", exact: bool = False, dated: bool = True,
              wrap=lambda t: t) -> None:
        token = f"K{next(counter):04d}"
        body = (ACCENTED + " " + token + ".") if exact else _sentences(token, rng)
        path = put(case, f"{case}_{token}{suffix}", encode(wrap(prefix + body)))
        out.tokens[token] = str(path)
        if exact:
            out.exact_bodies[token] = body
        if not dated:
            out.undated_tokens.add(token)

    def refuse(case: str, name: str, data: bytes, reason: str) -> None:
        out.refused[str(put(case, name, data))] = reason

    utf8 = lambda t: t.encode("utf-8")  # noqa: E731
    for i in range(10):
        valid("utf8", ".txt", utf8, DATELINES[i % len(DATELINES)])
    for i in range(6):
        valid("cp1252", ".txt", lambda t: t.encode("cp1252"), DATELINES[0], exact=True)
    for name, encode in [("utf16le_bom", lambda t: t.encode("utf-16")),
                         ("utf16be_bom", lambda t: b"\xfe\xff" + t.encode("utf-16-be")),
                         ("utf16le", lambda t: t.encode("utf-16-le")), ("utf16be", lambda t: t.encode("utf-16-be"))]:
        for _ in range(3):
            valid(name, ".txt", encode, DATELINES[0], exact=True)
    for _ in range(3):
        valid("utf8_bom", ".txt", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), DATELINES[0], exact=True)
    for _ in range(4):
        valid("no_dateline", ".txt", utf8, dated=False)
    for i in range(4):
        valid("unknown_date", ".txt", utf8, UNKNOWN_DATES[i % len(UNKNOWN_DATES)], dated=False)
    for _ in range(3):
        valid("invisible", ".txt", lambda t: t.replace("è", "\u200bè\u200d").replace("la ", "la\x07 \ufeff")
              .encode("utf-8"), DATELINES[0], exact=True)
    for _ in range(3):
        valid("html_page", ".html", utf8, DATELINES[0], exact=True, wrap=lambda t: (
            "<!DOCTYPE html><html><head><title>Cronaca</title><style>p {color: red}</style></head><body>"
            f"<p>{t.replace('è', '&egrave;').replace('“', '&ldquo;')}</p><script>track()</script></body></html>"))
    for _ in range(2):
        valid("markup_in_text", ".txt", utf8, DATELINES[0], exact=True,
              wrap=lambda t: f"<p>{t.replace(' la città', ' <b>la</b> città')}</p>")
    valid("long_line", ".txt", utf8, DATELINES[0], wrap=lambda t: t + " " + " ".join(["parola"] * 2_200))
    valid("space_run", ".txt", utf8, "Roma" + " " * 200_000)

    # refused files, one error line each
    for i in range(60):  # random bytes with a NUL somewhere, as in real binary files
        junk = bytearray(rng.randrange(256) for _ in range(rng.randrange(64, 4096)))
        junk[rng.randrange(len(junk))] = 0
        refuse("binary", f"junk_{i}{rng.choice(['.txt', '.md', ''])}", bytes(junk), "binary data")
    for i in range(20):
        refuse("binary_no_nul", f"noise_{i}.txt", bytes(rng.randrange(1, 32) for _ in range(2000)), "binary data")
    for i in range(20):
        refuse("empty", f"empty_{i}.txt" if i % 2 else f"empty_{i}.jsonl", b"", "empty file")
    for i in range(20):
        refuse("blank", f"blank_{i}.txt", " \n\t\u200b\u200b \r\n".encode("utf-8") * (i + 1), "no text in file")
    for i in range(25):
        refuse("dateline_only", f"dateline_{i}.txt", ONLY_DATELINES[i % len(ONLY_DATELINES)].encode("utf-8"),
               "a dateline with no body")
    for i, ext in enumerate([".pdf", ".docx", ".csv", ".xml", ".exe", ".gz", ".png", ".doc", ".rtf", ".odt"] * 3):
        refuse("unsupported", f"file_{i}{ext}", b"%PDF-1.4 " + bytes(rng.randrange(256) for _ in range(300)),
               "unsupported file type")
    for i in range(5):
        refuse("json_array", f"array_{i}.json", json.dumps([{"body": "Una frase."}], indent=2).encode(),
               "one dispatch object per line")
    for i in range(5):
        refuse("broken_utf16", f"broken16_{i}.txt", "Frase.".encode("utf-16") + b"\x00\xd8", "broken UTF-16")
    refuse("huge_text", "huge.txt", b"", "too large for one dispatch")
    with open(root / "huge.txt", "wb") as fh:  # 20 MB of real text, one "dispatch"
        block = (_sentences("K9999", rng) + "\n").encode() * 1000
        while fh.tell() < 20 * 1024 * 1024:
            fh.write(block)
    for i in range(10):
        lines = ["{not json", "[1, 2]", json.dumps({"id": "x", "title": "senza corpo"})]
        refuse("jsonl_all_bad", f"allbad_{i}.jsonl", "\n".join(lines).encode(), "no dispatch could be read")

    # JSON lines: good lines among bad ones; each bad line gets its own error line
    bad_lines = [
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "must be a JSON object"),
        (b"42", "must be a JSON object"),
        (json.dumps({"id": "nobody", "title": "senza corpo"}).encode(), "no 'body' text"),
        (json.dumps({"id": "zw", "body": "\u200b\u200d\ufeff"}).encode(), "no 'body' text"),
        (b"[" * 100_000, "nested too deeply"),
        (b"\x00\x01\x02junk\x00" * 20, "binary data"),
        (json.dumps({"id": "onlydl", "body": "(ANSA) - Roma, 3 marzo 2024 -"}).encode(), "a dateline with no body"),
    ]
    for f in range(5):
        name = root / f"feed_{f}.jsonl"
        lines: list[bytes] = []
        for n in range(12):
            doc_id = f"j{f}-{n}"
            record = {"id": doc_id, "title": f"Titolo {n}", "body": DATELINES[n % 5] + _sentences(doc_id, rng),
                      "published_at": ["2024-03-02", "ieri", "2024-13-45", 20240302, None, {"y": 1}][n % 6]}
            if n == 1:
                record["title"] = "Titolo \ud800 spezzato"          # lone surrogate, valid JSON
            if n == 2:
                record["body"] = f"<p>{record['body']}</p><br/><p>Altro &amp; ancora.</p>"
            if n == 3:
                record["lang"] = "not a language code at all"
            raw = json.dumps(record, ensure_ascii=(n == 1)).encode("utf-8")
            if n == 4:
                raw = json.dumps(record, ensure_ascii=False).encode("cp1252")  # one line in cp1252
                out.exact_by_id[doc_id] = record["body"][len(DATELINES[4]):]
            lines.append(raw)
            out.jsonl_ids.add(doc_id)
            if n % 3 == 0:
                bad, reason = bad_lines[(f * 4 + n // 3) % len(bad_lines)]
                lines.append(bad)
                out.bad_lines[f"{name}:{len(lines)}"] = reason
            if n == 6:
                lines += [b"", b"   "]                                 # blank lines: skipped, no error
                lines.append(json.dumps(record).encode())              # the same dispatch again: kept once
        lines.append(b'{"id": "j%d-last", "body": "Manca la fine' % f)  # torn last line
        out.bad_lines[f"{name}:{len(lines)}"] = "not valid JSON"
        name.write_bytes(b"\xef\xbb\xbf" * (f == 0) + b"\n".join(lines) + b"\n" * (f % 2))
        out.tried["jsonl_mixed"] = out.tried.get("jsonl_mixed", 0) + 1

    records = [{"id": f"u16-{n}", "body": DATELINES[0] + ACCENTED + f" U16{n}."} for n in range(5)]
    (root / "feed_utf16.jsonl").write_bytes("\r\n".join(json.dumps(r, ensure_ascii=False) for r in records)
                                            .encode("utf-16"))
    out.jsonl_ids |= {r["id"] for r in records}
    out.exact_by_id |= {r["id"]: r["body"][len(DATELINES[0]):] for r in records}
    out.tried["jsonl_utf16"] = 1

    name = root / "feed_many_bad.jsonl"
    lines = [json.dumps({"id": "many-good", "body": _sentences("many", rng)}).encode()] + [b"{oops"] * 30
    name.write_bytes(b"\n".join(lines))
    out.jsonl_ids.add("many-good")
    for n in range(2, 22):
        out.bad_lines[f"{name}:{n}"] = "not valid JSON"
    out.extra_errors.append(f"{name}: 10 more bad lines not listed")
    out.tried["jsonl_many_bad"] = 1

    name = root / "feed_huge_line.jsonl"  # 20 MB: good lines around one 20 MB line
    with open(name, "wb") as fh:
        for n in range(3):
            fh.write(json.dumps({"id": f"big-{n}", "body": _sentences(f"big{n}", rng)}).encode() + b"\n")
            out.jsonl_ids.add(f"big-{n}")
        fh.write(b'{"id": "giant", "body": "' + b"parola " * (3 * 1024 * 1024) + b'"}\n')
        fh.write(json.dumps({"id": "big-3", "body": _sentences("big3", rng)}).encode() + b"\n")
        out.jsonl_ids.add("big-3")
    out.bad_lines[f"{name}:4"] = "line too long"
    out.tried["huge_jsonl"] = 1

    # links, pipes and permissions
    for i in range(3):
        os.symlink(f"loop_{i}_b", root / f"loop_{i}_a")
        os.symlink(f"loop_{i}_a", root / f"loop_{i}_b")
        out.refused[str(root / f"loop_{i}_a")] = "symbolic link loop"
        out.refused[str(root / f"loop_{i}_b")] = "symbolic link loop"
        os.symlink("missing_target.txt", root / f"dangling_{i}.txt")
        out.refused[str(root / f"dangling_{i}.txt")] = "broken symbolic link"
    out.tried["symlink_loop"], out.tried["broken_symlink"] = 6, 3
    (root / "subdir").mkdir()
    os.symlink("..", root / "subdir" / "up")  # a folder loop: must not be followed forever
    for i in range(2):
        os.mkfifo(root / f"pipe_{i}.txt")
        out.refused[str(root / f"pipe_{i}.txt")] = "not a regular file"
    out.tried["named_pipe"] = 2
    if os.geteuid() != 0:
        for i in range(3):
            path = root / f"locked_{i}.txt"
            path.write_text("(ANSA) - Roma, 3 marzo 2024 - Non si legge.")
            path.chmod(0)
            out.refused[str(path)] = "Permission denied"
        out.tried["unreadable"] = 3
    return out
