"""The Corrections page: in the table of contents, and every commit it cites exists."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "corrections.md"


def test_corrections_page_is_in_the_back_matter():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    reference = next(part for part in toc["parts"] if part["caption"] == "Reference")
    assert {"file": "book/corrections"} in reference["chapters"]


def test_every_cited_commit_exists():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the commits cannot be looked up")
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
    if shallow == "true":
        pytest.skip("a shallow clone: older commits are not here to look up")
    commits = re.findall(r"commit `([0-9a-f]{7,40})`", PAGE.read_text(encoding="utf-8"))
    assert commits, "the page cites no commit"
    for commit in commits:
        found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT,
                               capture_output=True)
        assert found.returncode == 0, f"corrections.md cites commit {commit}, which git lacks"
