"""``assistant eval QUESTIONS.jsonl ...`` and ``assistant eval compare RUN_A RUN_B``."""

from __future__ import annotations

import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)
out_console = Console()

EXIT_SHORTFALL = 1
EXIT_ABORTED = 3


class HoldOut(str, Enum):
    article = "article"
    paragraph = "paragraph"


def _default_out(questions: Path) -> Path:
    from datetime import datetime

    return Path("evals/results/runs") / f"{questions.stem}-{datetime.now():%Y%m%d-%H%M%S}"


def eval_command(
        target: str = typer.Argument(..., metavar="QUESTIONS.jsonl | compare",
                                     help="A question set (JSON lines), or 'compare' followed by two run folders."),
        runs: list[str] = typer.Argument(None, metavar="[RUN_A RUN_B]", help="With 'compare': the two run folders."),
        corpus: list[Path] = typer.Option([], "--corpus", help="Ingest these files/folders into a fresh index "
                                          "inside the run folder (default: use the configured index)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default evals/results/runs/<set>-<time>). "
                                           "Re-running into the same folder resumes."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N questions (after sampling)."),
        sample: Optional[int] = typer.Option(None, "--sample", help="A random sample of N questions."),
        seed: int = typer.Option(0, "--seed", help="Seed of the sample."),
        retrieval_only: bool = typer.Option(False, "--retrieval-only", help="Score retrieval only; no answers are "
                                            "generated (a question may still be translated for retrieval, see "
                                            "RETRIEVAL__TRANSLATE_QUESTIONS)."),
        top_k: Optional[int] = typer.Option(None, "--top-k", help="Source sentences given to the model."),
        date_window: Optional[int] = typer.Option(None, "--date-window", help="Restrict retrieval to the N days up "
                                                  "to each question's question_date."),
        language: Optional[str] = typer.Option(None, "--lang", help="Language of the questions for the report "
                                               "(default: each question's 'lang' field, else detected)."),
        hold_out: Optional[HoldOut] = typer.Option(None, "--hold-out", help="Leave each question's gold dispatch "
                                                   "('paragraph') or every dispatch of its article, i.e. with the "
                                                   "same title ('article'), out of retrieval: the question becomes "
                                                   "unanswerable and declining is the right outcome."),
        with_evidence: bool = typer.Option(False, "--with-evidence", help="Only the questions that name gold "
                                           "evidence (applied before --sample)."),
        well_paired: bool = typer.Option(False, "--well-paired", help="Leave out cross-lingual questions whose gold "
                                         "answers answer another question (squad_en_it pairs about 1 English question "
                                         "in 11 with another Italian question's gold; applied after --sample)."),
        fail_under: list[str] = typer.Option([], "--fail-under", metavar="METRIC=VALUE",
                                             help="Exit with status 1 when a metric is below VALUE (repeatable)."),
        fail_over: list[str] = typer.Option([], "--fail-over", metavar="METRIC=VALUE",
                                            help="Exit with status 1 when a metric is above VALUE, for those where "
                                            "lower is better, e.g. false_conflict_rate (repeatable)."),
        fresh: bool = typer.Option(False, "--fresh", help="Discard earlier results in the run folder."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Evaluate retrieval, answers, citations and latency on a question set, or compare two runs."""
    if target == "compare":
        if not runs or len(runs) != 2:
            raise typer.BadParameter("usage: assistant eval compare RUN_A RUN_B")
        _compare(*runs)
        return
    if runs:
        raise typer.BadParameter(f"unexpected arguments: {' '.join(runs)}")
    from assistant.evaluate.compare import parse_threshold, shortfalls

    try:
        thresholds = [parse_threshold(spec) for spec in fail_under]
        ceilings = [parse_threshold(spec) for spec in fail_over]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    questions = Path(target)
    if not questions.is_file():
        raise typer.BadParameter(f"no such question file: {questions}")
    summary = _run(questions, corpus, out or _default_out(questions), limit, sample, seed, retrieval_only, top_k,
                   date_window, language, hold_out.value if hold_out else None, with_evidence, fresh, quiet,
                   well_paired)
    problems = ([("fail-under", p) for p in shortfalls(summary["metrics"], thresholds)]
                + [("fail-over", p) for p in shortfalls(summary["metrics"], ceilings, above=True)])
    for option, problem in problems:
        console.print(f"[red]{option}[/red] {problem}", highlight=False)
    if problems:
        raise typer.Exit(EXIT_SHORTFALL)


def _run(questions, corpus, out, limit, sample, seed, retrieval_only, top_k, date_window, language, hold_out,
         with_evidence, fresh, quiet, well_paired=False) -> dict:
    from assistant.core import Assistant
    from assistant.evaluate.report import write_reports
    from assistant.evaluate.runner import EvalAborted, EvalOptions, EvalRunner
    from assistant.settings import Settings

    options = EvalOptions(questions=questions, corpus=corpus, out=out, limit=limit, sample=sample, seed=seed,
                          retrieval_only=retrieval_only, top_k=top_k, date_window_days=date_window, language=language,
                          hold_out=hold_out, with_evidence=with_evidence, well_paired=well_paired, fresh=fresh)
    settings = Settings()
    if corpus:
        settings = settings.model_copy(update={"home": out / "index"})
    helper = Assistant(settings)
    if corpus:
        report = helper.ingest(corpus, progress=not quiet)
        if report.errors:
            console.print(f"[yellow]corpus: {len(report.errors)} file(s) or record(s) refused[/yellow]; "
                          f"first: {report.errors[0]}", highlight=False)
    runner = EvalRunner(helper, options)
    command = "assistant eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        records = runner.run(progress=not quiet)
    except EvalAborted as exc:
        console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_ABORTED) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    summary = write_reports(records, runner.manifest(), out, command)
    _print_summary(summary, out)
    return summary


def _print_summary(summary: dict, out: Path) -> None:
    from assistant.evaluate.report import HEADLINE

    table = Table(title=f"evaluation: {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in HEADLINE:
        value = summary["metrics"].get(key)
        if value is not None:
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    out_console.print(table)
    console.print(f"results: {out / 'results.jsonl'}  report: {out / 'report.md'}, {out / 'report.html'}")


def _compare(run_a: str, run_b: str) -> None:
    from assistant.evaluate.compare import compare_runs

    try:
        diff = compare_runs(run_a, run_b)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc)) from exc
    table = Table(title=f"B - A   (A = {run_a}, B = {run_b})")
    for column in ("metric", "A", "B", "B - A"):
        table.add_column(column, justify="left" if column == "metric" else "right")

    def fmt(v):
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    for row in diff["metrics"]:
        delta = row["delta"]
        table.add_row(row["metric"], fmt(row["a"]), fmt(row["b"]), "–" if delta is None else f"{delta:+.3f}")
    out_console.print(table)
    out_console.print(f"{len(diff['changed'])} question(s) changed outcome"
                      + (f"; {diff['only_in_a']} only in A, {diff['only_in_b']} only in B"
                         if diff["only_in_a"] or diff["only_in_b"] else ""))
    for change in diff["changed"]:
        before = json.dumps(change["a"], ensure_ascii=False)
        after = json.dumps(change["b"], ensure_ascii=False)
        out_console.print(f"  {change['id']}: {change['question']}\n     {before}\n  -> {after}",
                          highlight=False, markup=False)
