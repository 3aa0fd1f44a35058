"""What git keeps out of the repository: run folders, the virtualenv."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", ["evals/results/runs/seed_it-20260101-000000/results.jsonl", ".venv",
                                  ".assistant/catalog.sqlite"])
def test_generated_paths_are_ignored(path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
