"""Evaluation reports (assistant/evaluate/report.py): the conflict metrics in the
summary, the tables and the conflicts plot."""

from __future__ import annotations

from assistant.evaluate.report import write_reports


def test_an_updated_dispatch_set_reports_what_is_read_first(tmp_path):
    records = [
        {"id": "1", "conflict_flagged": 1.0, "latest_first": 1.0, "superseded_answer": 0.0, "f1": 1.0},
        {"id": "2", "conflict_flagged": 0.0, "latest_first": 0.0, "superseded_answer": 1.0, "f1": 0.0},
        {"id": "3", "false_conflict": 0.0, "f1": 1.0},
    ]
    summary = write_reports(records, {"questions": "q.jsonl"}, tmp_path)
    metrics = summary["metrics"]
    assert (metrics["conflict_flag_rate"], metrics["false_conflict_rate"]) == (0.5, 0.0)
    assert (metrics["latest_first_rate"], metrics["superseded_answer_rate"]) == (0.5, 0.5)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "latest_first_rate" in md and "superseded_answer_rate" in md
    assert (tmp_path / "plots" / "conflicts.png").stat().st_size > 0


def test_a_set_without_updates_has_no_update_metrics(tmp_path):
    summary = write_reports([{"id": "1", "conflict_flagged": 1.0}, {"id": "2", "false_conflict": 1.0}],
                            {"questions": "q.jsonl"}, tmp_path)
    assert summary["metrics"]["latest_first_rate"] is None
    assert (tmp_path / "plots" / "conflicts.png").is_file()
