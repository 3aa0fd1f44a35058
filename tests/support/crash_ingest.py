"""Run one ingest that kills itself with SIGKILL at a named point, the way a
power cut or an OOM kill would stop it:

    python -m tests.support.crash_ingest HOME DOCS [Owner.method:before|after:N]

``Owner`` is Catalog, ChromaSentences, IngestService or pipeline (for the
module's ``embed_passages``); the process dies just before or just after the
N-th call. Without a point the ingest runs to the end. The hook lives only
in this test process: the product code has no crash switch."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def arm(point: str) -> None:
    """Patch ``Owner.method`` so that its N-th call kills the process."""
    from assistant.index.catalog import Catalog
    from assistant.index.vectors import ChromaSentences
    from assistant.ingest import pipeline

    from assistant.index.catalog_postgres import PostgresCatalog

    target, when, nth = point.split(":")
    owner_name, method = target.split(".")
    # "Catalog" is whichever catalog the home uses: SQLite's or PostgreSQL's
    owners = {"Catalog": [Catalog, PostgresCatalog], "ChromaSentences": [ChromaSentences],
              "IngestService": [pipeline.IngestService], "pipeline": [pipeline]}[owner_name]
    calls = 0

    for owner in owners:
        original = getattr(owner, method)

        def wrapper(*args, _original=original, **kwargs):
            nonlocal calls
            calls += 1
            if calls == int(nth) and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = _original(*args, **kwargs)
            if calls == int(nth) and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(owner, method, wrapper)


def main(argv: list[str]) -> int:
    from assistant.core import Assistant
    from tests.support.small_corpus import settings_for

    home, docs = Path(argv[0]), Path(argv[1])
    if len(argv) > 2:
        arm(argv[2])
    report = Assistant(settings_for(home)).ingest([docs], progress=False)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
