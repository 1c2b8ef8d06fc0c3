"""scripts/execute_notebooks.py fails when a notebook raises, naming it, so that `make book` does
not build pages from a notebook that stopped halfway (jupyter-cache files such a notebook under
"excepted", which the script once did not read: two chapters failed and the build went on)."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import execute_notebooks  # noqa: E402


def notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return str(path)


def test_a_notebook_that_raises_fails_the_script_and_is_named(tmp_path, capsys):
    good = notebook(tmp_path / "good.ipynb", "print(1 + 1)")
    bad = notebook(tmp_path / "bad.ipynb", "raise ValueError('a slider grid over budget')")
    with pytest.raises(SystemExit, match="1 notebook"):
        execute_notebooks.main(["--cache", str(tmp_path / "cache"), good, bad])
    err = capsys.readouterr().err
    assert "FAILED" in err and "bad.ipynb" in err and "a slider grid over budget" in err
    assert "good.ipynb" not in err


def test_notebooks_that_run_are_cached(tmp_path, capsys):
    good = notebook(tmp_path / "good.ipynb", "print(1 + 1)")
    execute_notebooks.main(["--cache", str(tmp_path / "cache"), good])
    execute_notebooks.main(["--cache", str(tmp_path / "cache"), good])
    out = capsys.readouterr().out
    assert "1 executed, 0 already cached" in out and "0 executed, 1 already cached" in out
