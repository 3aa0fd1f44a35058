"""Summaries and reports of an evaluation run: summary.json, report.md and
report.html with plots (score distributions, latency, metrics by group)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.evaluate.metrics import METRIC_DEFINITIONS, aggregate

HEADLINE = ("n_questions", "hit@1", "hit@5", "hit@10", "mrr@10", "doc_hit@1", "doc_hit@5", "doc_hit@10",
            "doc_mrr@10", "answer_hit@5", "em", "f1", "citation_validity", "citation_precision", "citation_recall",
            "any_correct_citation", "abstention_rate_answerable", "abstention_rate_unanswerable",
            "conflict_flag_rate", "false_conflict_rate", "latest_first_rate", "superseded_answer_rate",
            "context_tokens_p50", "errors")
GROUP_METRICS = ("n_questions", "doc_hit@5", "mrr@10", "f1", "citation_precision", "any_correct_citation",
                 "abstention_rate")


def summarize(records: Sequence[dict], manifest: dict | None = None) -> dict[str, Any]:
    """Overall metrics plus the same by language, question type and answerability."""
    scored = [r for r in records if not r.get("error")]
    overall = aggregate(scored)
    recall = [r["citation_recall"] for r in scored if r.get("citation_recall") is not None]
    overall["citation_recall"] = sum(recall) / len(recall) if recall else None
    overall["errors"] = len(records) - len(scored)
    groups: dict[str, dict[str, dict]] = {}
    for field in ("language", "question_type", "answerable"):
        values = sorted({str(r.get(field)) for r in scored})
        if len(values) > 1:
            groups[field] = {v: _compact(aggregate([r for r in scored if str(r.get(field)) == v])) for v in values}
    return {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "run": manifest or {}, "metrics": overall, "by": groups,
            "definitions": {**METRIC_DEFINITIONS, "citation_recall": CITATION_RECALL, "errors": ERRORS}}


CITATION_RECALL = ("Per answered question with known gold sentences, the share of gold evidence sentences "
                   "that are cited, averaged.")
ERRORS = "Questions that could not be answered because the model failed (not counted in other metrics)."


def _compact(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in GROUP_METRICS}


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# --- plots ---------------------------------------------------------------------
def _plots(records: Sequence[dict], summary: dict, folder: Path) -> list[tuple[str, Path]]:
    """PNG plots of the run; an empty list when there is nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, Path]] = []
    scored = [r for r in records if not r.get("error")]

    def save(fig, name: str, title: str) -> None:
        path = folder / name
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append((title, path))

    top = {"answerable": [r["top_dense"] for r in scored if r.get("answerable") and r.get("top_dense") is not None],
           "unanswerable": [r["top_dense"] for r in scored
                            if not r.get("answerable") and r.get("top_dense") is not None]}
    if any(top.values()):
        fig, ax = plt.subplots(figsize=(6, 3.2))
        for label, values in top.items():
            if values:
                ax.hist(values, bins=30, alpha=0.6, label=f"{label} ({len(values)})")
        ax.set_xlabel("top dense cosine of retrieved sentences")
        ax.set_ylabel("questions")
        ax.legend()
        save(fig, "top_dense.png", "Retrieval score distribution")
    f1 = [r["f1"] for r in scored if r.get("f1") is not None]
    if f1:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(f1, bins=20, range=(0, 1))
        ax.set_xlabel("answer token F1")
        ax.set_ylabel("questions")
        save(fig, "f1.png", "Answer F1 distribution")
    totals = [(r.get("timings") or {}).get("total") for r in scored]
    totals = [t for t in totals if t is not None] or [(r.get("timings") or {}).get("retrieval") for r in scored]
    totals = [t for t in totals if t is not None]
    if totals:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(totals, bins=30)
        ax.set_xlabel("seconds per question")
        ax.set_ylabel("questions")
        save(fig, "latency.png", "Latency per question")
    rates = {label: summary["metrics"].get(key) for label, key in (
        ("conflicted: flagged,\nboth sides cited", "conflict_flag_rate"),
        ("unconflicted:\nflagged (false)", "false_conflict_rate"),
        ("updated: newer\nvalue read first", "latest_first_rate"),
        ("updated: answer gives\nonly the superseded", "superseded_answer_rate"))}
    if summary["metrics"].get("latest_first_rate") is None:  # not an updated-dispatch set
        rates = dict(list(rates.items())[:2])
    if summary["metrics"].get("conflict_flag_rate") is not None:
        fig, ax = plt.subplots(figsize=(3 * len(rates), 3.2))
        colours = ["tab:green", "tab:red", "tab:blue", "tab:orange"][:len(rates)]
        ax.bar(list(rates), [v or 0 for v in rates.values()], color=colours)
        for x, v in enumerate(rates.values()):
            ax.text(x, (v or 0) + 0.02, "n/a" if v is None else f"{v:.2f}", ha="center")
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("share of questions")
        save(fig, "conflicts.png", "Conflicting sources")
    for field, groups in summary["by"].items():
        names = list(groups)
        metric_names = [m for m in ("doc_hit@5", "mrr@10", "f1", "any_correct_citation")
                        if any(groups[n].get(m) is not None for n in names)]
        if not metric_names:
            continue
        fig, ax = plt.subplots(figsize=(max(6, len(names) * 1.2), 3.2))
        width = 0.8 / len(metric_names)
        for i, metric in enumerate(metric_names):
            ax.bar([x + i * width for x in range(len(names))], [groups[n].get(metric) or 0 for n in names],
                   width=width, label=metric)
        ax.set_xticks([x + width * (len(metric_names) - 1) / 2 for x in range(len(names))], names, rotation=20)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        save(fig, f"by_{field}.png", f"Metrics by {field.replace('_', ' ')}")
    return made


# --- writers ---------------------------------------------------------------------
def _metric_rows(summary: dict) -> list[tuple[str, str, str]]:
    metrics, definitions = summary["metrics"], summary["definitions"]
    return [(k, _fmt(metrics.get(k)), definitions.get(k, "")) for k in HEADLINE if k in metrics]


def _latency_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    return [(stage, _fmt(v["p50"]), _fmt(v["p95"]), _fmt(v["mean"]))
            for stage, v in sorted(summary["metrics"].get("latency", {}).items())]


def _group_tables(summary: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    tables = []
    for field, groups in summary["by"].items():
        rows = [[name] + [_fmt(values.get(m)) for m in GROUP_METRICS] for name, values in groups.items()]
        tables.append((field, [field, *GROUP_METRICS], rows))
    return tables


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_markdown(summary: dict, plots: list[tuple[str, Path]], path: Path, command: str | None) -> None:
    run = summary["run"]
    parts = [f"# Evaluation report: {Path(run.get('questions', '?')).name}", "",
             f"Created {summary['created_at']}."]
    if command:
        parts += ["", "Command:", "", f"```\n{command}\n```"]
    parts += ["", "## Run", "", _md_table(["setting", "value"], [[k, json.dumps(v, ensure_ascii=False)]
                                                                for k, v in run.items()])]
    parts += ["", "## Metrics", "", _md_table(["metric", "value", "definition"], _metric_rows(summary))]
    if _latency_rows(summary):
        parts += ["", "## Latency (seconds)", "", _md_table(["stage", "p50", "p95", "mean"], _latency_rows(summary))]
    for field, header, rows in _group_tables(summary):
        parts += ["", f"## By {field.replace('_', ' ')}", "", _md_table(header, rows)]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{title}]({p.parent.name}/{p.name})" for title, p in plots]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(summary: dict, plots: list[tuple[str, Path]], path: Path, command: str | None) -> None:
    title = f"Evaluation report: {Path(summary['run'].get('questions', '?')).name}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
             "text-align:left;vertical-align:top}code{background:#f4f4f4}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>Created {html.escape(summary['created_at'])}.</p>"]
    if command:
        parts.append(f"<p>Command: <code>{html.escape(command)}</code></p>")
    parts.append("<h2>Run</h2>" + _html_table(["setting", "value"], [
        [k, json.dumps(v, ensure_ascii=False)] for k, v in summary["run"].items()]))
    parts.append("<h2>Metrics</h2>" + _html_table(["metric", "value", "definition"], _metric_rows(summary)))
    if _latency_rows(summary):
        parts.append("<h2>Latency (seconds)</h2>" + _html_table(["stage", "p50", "p95", "mean"],
                                                                 _latency_rows(summary)))
    for field, header, rows in _group_tables(summary):
        parts.append(f"<h2>By {html.escape(field.replace('_', ' '))}</h2>" + _html_table(header, rows))
    for plot_title, plot in plots:
        data = base64.b64encode(plot.read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(plot_title)}</h2><img alt='{html.escape(plot_title)}' "
                     f"src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_reports(records: Sequence[dict], manifest: dict, out: Path, command: str | None = None) -> dict:
    """Write summary.json, report.md, report.html and plots/ into ``out``; return the summary."""
    summary = summarize(records, manifest)
    if command:
        summary["command"] = command
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    plots = _plots(records, summary, out / "plots")
    write_markdown(summary, plots, out / "report.md", command)
    write_html(summary, plots, out / "report.html", command)
    return summary
