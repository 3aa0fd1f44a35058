"""Command line: ``assistant ingest | ask | status | serve | eval``."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

import assistant  # noqa: F401  (sets offline defaults before heavy imports)
from assistant.answering.events import Delta, Final
from assistant.domain import Answer, Filters
from assistant.evaluate.cli import eval_command
from assistant.index.catalog_postgres import CatalogUnavailable
from assistant.index.embedding_servers import EmbeddingServerError
from assistant.index.vectors import VectorStoreError
from assistant.llms.base import LLMError
from assistant.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=True)


def _assistant():
    from assistant.core import Assistant

    return Assistant(Settings())


def _filters(since: Optional[str], until: Optional[str], source: list[str], lang: list[str]) -> Filters:
    try:
        return Filters(since=date.fromisoformat(since) if since else None,
                       until=date.fromisoformat(until) if until else None, sources=source, languages=lang)
    except ValueError as exc:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from exc


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def ingest(paths: list[Path] = typer.Argument(..., help="Files or folders of dispatches (.txt, .jsonl)."),
           quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
           workers: int = typer.Option(1, "--workers", "-w", min=1, help=(
               "Worker processes sharing out the files (needs a PostgreSQL catalog and a Chroma server).")),
           worker: Optional[str] = typer.Option(None, "--worker", hidden=True,
                                                help="i/n: run as worker i of n of a job (JSON lines out).")) -> None:
    """Ingest dispatches; unchanged files are skipped, changed ones replaced."""
    if workers > 1:
        _ingest_job(paths, workers, quiet)
        return
    share = _worker_share(worker) if worker else None
    try:
        if share is None:
            report = _assistant().ingest(paths, progress=not quiet)
        else:
            from assistant.ingest.job import worker_line

            def tell(path: str, error: str | None, so_far) -> None:
                elsewhere = so_far.files_claimed_elsewhere > tell.elsewhere
                tell.elsewhere = so_far.files_claimed_elsewhere
                print(worker_line("file", file=path, error=error, elsewhere=elsewhere,
                                  dispatches_written=so_far.dispatches_written), flush=True)

            tell.elsewhere = 0
            report = _assistant().ingest(paths, progress=False, worker=share, on_progress=tell)
            print(worker_line("report", report={**report.__dict__}), flush=True)
            raise typer.Exit(0 if report.ok else 1)
    except (EmbeddingServerError, VectorStoreError, CatalogUnavailable) as exc:
        console.print(f"[red]Ingest stopped:[/red] {escape(str(exc))}\nWhat was written so far is kept; "
                      "dispatches caught half-way are repaired by the next ingest.", highlight=False, soft_wrap=True)
        raise typer.Exit(4) from exc
    console.print(
        f"files: {report.files_seen} seen, {report.files_ingested} ingested, {report.files_unchanged} unchanged, "
        f"{report.files_failed} failed | dispatches: {report.dispatches_written} written, "
        f"{report.dispatches_unchanged} unchanged, {report.dispatches_removed} removed | "
        f"sentences: {report.sentences_written}"
        + (f" | recovered {report.recovered} from an interrupted run" if report.recovered else "")
        + (f" | chunk vectors added to {report.chunks_backfilled} earlier chunks" if report.chunks_backfilled else ""))
    for error in report.errors:
        console.print(f"[red]error[/red] {escape(error)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


def _worker_share(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and int(index) < int(count)):
        raise typer.BadParameter("--worker is i/n with 0 <= i < n")
    return int(index), int(count)


def _ingest_job(paths: list[Path], workers: int, quiet: bool) -> None:
    from assistant.ingest.job import run_job

    settings = Settings()
    if not settings.index.catalog.startswith(("postgresql://", "postgres://")) or settings.index.chroma == "embedded":
        console.print("[red]--workers needs a shared index:[/red] ASSISTANT_INDEX__CATALOG=postgresql://... and "
                      "ASSISTANT_INDEX__CHROMA=host:port (embedded Chroma and the SQLite catalog take one ingest "
                      "at a time).", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    job = run_job(paths, workers, progress=not quiet)
    t = job.totals
    console.print(
        f"{workers} workers | files: {t['files_seen'] // max(workers, 1)} seen, {t['files_ingested']} ingested, "
        f"{t['files_unchanged']} unchanged, {t['files_failed']} failed | dispatches: {t['dispatches_written']} "
        f"written, {t['dispatches_removed']} removed | sentences: {t['sentences_written']}"
        + (f" | recovered {t['recovered']} from an interrupted run" if t["recovered"] else ""), highlight=False)
    for error in job.errors:
        console.print(f"[red]error[/red] {escape(error)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if job.ok else 1)


@app.command()
def ask(question: str = typer.Argument(..., help="The question, in Italian or English."),
        as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
        stream: bool = typer.Option(False, "--stream", help="Print the answer as it is generated."),
        top_k: Optional[int] = typer.Option(None, "--top-k", help="Source sentences given to the model."),
        since: Optional[str] = typer.Option(None, help="Only dispatches from this date (YYYY-MM-DD)."),
        until: Optional[str] = typer.Option(None, help="Only dispatches up to this date (YYYY-MM-DD)."),
        source: list[str] = typer.Option([], help="Only this agency/source (repeatable)."),
        lang: list[str] = typer.Option([], help="Only dispatches in this language (repeatable)."),
        date_reference: Optional[str] = typer.Option(
            None, "--date-reference", help="The day 'ieri', 'last week'... count from (YYYY-MM-DD; default today).")) -> None:
    """Answer a question from the indexed dispatches, citing source sentences."""
    helper = _assistant()
    filters = _filters(since, until, source, lang)
    reference = _filters(date_reference, None, [], []).since
    try:
        if stream and not as_json:
            answer = None
            for event in helper.ask_events(question, filters, top_k, reference_date=reference):
                if isinstance(event, Delta):
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, Final):
                    answer = event.answer
            sys.stdout.write("\n")
            _print_answer(answer, skip_text=not answer.abstained and answer.citations != [])
        else:
            answer = helper.ask(question, filters, top_k, reference_date=reference)
            if as_json:
                print(json.dumps(answer.public(), ensure_ascii=False, indent=2))
            else:
                _print_answer(answer)
    except EmbeddingServerError as exc:
        console.print(f"[red]The embedding server is unavailable:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(3) from exc
    except LLMError as exc:
        console.print(f"[red]The language model is unavailable:[/red] {exc}")
        fallback = getattr(exc, "fallback", None)
        if fallback is not None:
            if as_json:
                print(json.dumps(fallback.public(), ensure_ascii=False, indent=2))
            else:
                _print_answer(fallback)
        raise typer.Exit(3) from exc


def _print_answer(answer: Answer, skip_text: bool = False) -> None:
    out = Console(highlight=False)
    if not skip_text:
        out.print(answer.answer, markup=False)
    elif answer.conflicts:  # streamed: the model's words came out already; the note on the sources did not
        out.print(answer.sentences[-1].text, markup=False)
    if answer.unsupported:
        from assistant.answering.prompting import wording

        flag = wording(Settings().prompts_dir, answer.language)["unsupported"]
        for text in answer.unsupported:
            out.print(f"! {flag}: {text}", style="yellow", markup=False)
    if answer.citations:
        out.print()
    for c in answer.citations:
        where = ", ".join(x for x in (c.agency, c.place, c.published_at and c.published_at.isoformat()) if x)
        out.print(f"[{c.n}] {c.text}", markup=False)
        out.print(f"    — {where} ({c.sentence_id})", style="dim", markup=False)
    if answer.date_phrase:
        out.print(f"\n[dates {answer.filters.since} to {answer.filters.until}, from \"{answer.date_phrase}\"]",
                  style="dim", markup=False)
    if answer.translated_question:
        out.print(f"\n[also searched as \"{answer.translated_question}\"]", style="dim", markup=False)
    out.print(f"\n[{answer.backend or 'no model call'}; {answer.timings.get('total', 0):.1f} s]", style="dim",
              markup=False)


@app.command("copy-catalog")
def copy_catalog_command(target: str = typer.Argument(..., help="A postgresql:// URL (or 'sqlite' for home/catalog.sqlite)."),
                         quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")) -> None:
    """Copy the configured catalog into another (e.g. SQLite into PostgreSQL);
    the vectors stay in Chroma. Then set ASSISTANT_INDEX__CATALOG to the target."""
    from assistant.index.catalog_copy import copy_catalog
    from assistant.index.catalogs import open_catalog

    helper = _assistant()
    if target == helper.settings.index.catalog:
        raise typer.BadParameter("the target is the catalog already configured")
    destination = open_catalog(helper.settings.index.model_copy(update={"catalog": target}), helper.settings.home_dir)
    copied = copy_catalog(helper.catalog, destination, progress=not quiet)
    console.print(f"copied {copied} dispatches with their sentences, chunks and file records; "
                  f"use it with ASSISTANT_INDEX__CATALOG={escape(target)}", highlight=False, soft_wrap=True)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print status as JSON."),
           model: bool = typer.Option(True, "--model/--no-model",
                                      help="Load the model to report its state (a few seconds).")) -> None:
    """What is indexed, which backends are configured and reachable, and the model's state."""
    helper = _assistant()
    try:
        info = helper.status(load_model=model)
    finally:
        helper.close()
    if as_json:
        print(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    out = Console(highlight=False)
    out.print(f"index: {info['home']}")
    out.print(f"dispatches {info['dispatches']}, sentences {info['sentences']}, chunks {info['chunks']}, "
              f"files {info['files']}")
    out.print("by language: " + ", ".join(f"{k} {v}" for k, v in info["by_language"].items()))
    out.print("by source: " + ", ".join(f"{k} {v}" for k, v in list(info["by_source"].items())[:10]))
    b = info["backends"]
    out.print(f"embedder: {b['embedder']}; vectors: {b['vector_store']} "
              f"({'ok, ' + str(b.get('vectors')) + ' sentence and ' + str(b.get('chunk_vectors')) + ' chunk vectors' if b.get('vector_store_ok') else b.get('vector_store_error')})")
    out.print(f"llm: {b['llm_setting']} -> {b.get('llm')} ({b.get('llm_reason')})")
    out.print("model: " + describe_model_state(b["llm_state"]))


def describe_model_state(state: dict) -> str:
    """One line for the model's state: 'up (process 123, 0 crashes)', 'failed: why'..."""
    parts = [state.get("state", "unknown")]
    details = []
    if state.get("pid"):
        details.append(f"process {state['pid']}")
    if "crashes" in state:
        details.append(f"{state['crashes']} crashes, {state.get('restarts', 0)} restarts")
    if details:
        parts.append(f"({', '.join(details)})")
    if state.get("last_reason"):
        parts.append(f"last: {state['last_reason']}")
    return " ".join(parts)


@app.command()
def serve(host: Optional[str] = typer.Option(None, help="Interface to listen on (default: settings.server.host)."),
          port: Optional[int] = typer.Option(None, help="Port (default: settings.server.port).")) -> None:
    """Serve the chat UI (/ui), the HTTP API (/api, /v1, docs at /docs) and /embed."""
    from assistant.server.app import serve as run_server

    settings = Settings()
    shown = host or settings.server.host
    console.print(f"Serving on http://{'127.0.0.1' if shown == '0.0.0.0' else shown}:{port or settings.server.port}/ui/ "
                  f"(API docs at /docs)")
    run_server(settings, host, port)


app.command("eval")(eval_command)

if __name__ == "__main__":
    app()
