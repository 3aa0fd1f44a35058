"""``assistant eval`` from the command line: reports, --fail-under exit codes,
``eval compare``; and one end-to-end run with the bundled model (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED_IT = ROOT / "evals" / "seed_it.jsonl"
SEED_EN = ROOT / "evals" / "seed_en.jsonl"
CORPUS = ROOT / "corpus"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "llamacpp")
    monkeypatch.setenv("ASSISTANT_LLM__TIMEOUT_S", "600")  # a loaded machine can be slow
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


def _eval(cli, out: Path, *extra: str):
    return cli("eval", str(SEED_IT), "--corpus", str(CORPUS), "--out", str(out), "--retrieval-only", "-q", *extra)


@pytest.mark.slow
def test_eval_writes_results_summary_and_reports(cli, tmp_path):
    out = tmp_path / "run"
    result = _eval(cli, out)
    assert result.exit_code == 0, result.output
    assert len((out / "results.jsonl").read_text().splitlines()) == 12
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["n_questions"] == 12 and summary["metrics"]["doc_hit@1"] == 1.0
    assert summary["run"]["retrieval_only"] is True
    assert set(summary["by"]) >= {"question_type", "answerable"}
    assert all(summary["definitions"].get(k) for k in ("hit@5", "mrr@10", "doc_hit@5"))
    md = (out / "report.md").read_text()
    assert "| hit@5 |" in md and "assistant eval" in md and "plots/" in md
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert (out / "index" / "catalog.sqlite").exists()  # --corpus builds a fresh index in the run folder


@pytest.mark.slow
def test_fail_under_exit_codes_name_the_metric(cli, tmp_path):
    out = tmp_path / "run"
    assert _eval(cli, out, "--fail-under", "doc_hit@1=1.0").exit_code == 0
    short = _eval(cli, out, "--fail-under", "doc_hit@1=0.5", "--fail-under", "hit@1=1.01")
    assert short.exit_code == 1
    assert "hit@1" in short.output and "below 1.01" in short.output and "doc_hit@1 =" not in short.output
    missing = _eval(cli, out, "--fail-under", "f1=0.1")  # retrieval-only runs measure no F1
    assert missing.exit_code == 1 and "f1 is not measured" in missing.output
    assert _eval(cli, out, "--fail-under", "hit@1").exit_code == 2  # malformed: usage error


@pytest.mark.slow
def test_compare_prints_metric_differences_and_changed_questions(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _eval(cli, a).exit_code == 0
    assert _eval(cli, b).exit_code == 0
    results = b / "results.jsonl"
    records = [json.loads(line) for line in results.read_text().splitlines()]
    records[0]["hit@5"] = 0.0 if records[0]["hit@5"] else 1.0  # one question's outcome differs in B
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("eval", "compare", str(a), str(b))
    assert result.exit_code == 0, result.output
    assert "hit@5" in result.output and "1 question(s) changed outcome" in result.output
    assert records[0]["id"] in result.output
    assert cli("eval", "compare", str(a)).exit_code == 2
    assert cli("eval", "compare", str(a), str(tmp_path / "nothing")).exit_code == 2


@pytest.mark.slow
@pytest.mark.llm
def test_end_to_end_with_the_bundled_model(cli, tmp_path):
    """A small mixed set (answerable and unanswerable) through the real answering path."""
    lines = SEED_EN.read_text().splitlines()
    picked = tmp_path / "mini.jsonl"
    picked.write_text("\n".join(lines[:3] + lines[-2:]) + "\n")
    out = tmp_path / "run"
    result = cli("eval", str(picked), "--corpus", str(CORPUS), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 5 and not any(r.get("error") for r in records)
    for r in records:
        assert r["timings"]["total"] > 0 and r["timings"]["retrieval"] >= 0
        assert isinstance(r["abstained"], float)
        if not r["abstained"]:
            assert r["context_tokens"] > 0 and r["citations"] and r["backend"]
            assert r["citation_validity"] == 1.0  # shown citations were all given to the model
            given = {x["sentence_id"] for x in r["retrieved"]}
            assert {c["sentence_id"] for c in r["citations"]} <= given
        if r["answerable"]:
            assert 0.0 <= r["f1"] <= 1.0 and r["em"] in (0.0, 1.0)
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    # Off-topic questions are declined (measured: 4/4 in Italian and English on the seed sets).
    assert metrics["abstention_rate_unanswerable"] >= 0.5
    assert metrics["latency"]["total"]["p50"] > 0
