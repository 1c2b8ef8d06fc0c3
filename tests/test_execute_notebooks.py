"""scripts/execute_notebooks.py fails when a notebook raises, naming it, so that `make book` does
not build pages from a notebook that stopped halfway (jupyter-cache files such a notebook under
"excepted", which the script once did not read: two chapters failed and the build went on)."""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

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


def test_kernels_run_blas_on_one_thread_unless_told_otherwise(tmp_path, monkeypatch):
    # the notebooks run one per core: a second BLAS thread would only wait for a core
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")   # the reader's own choice stays
    source = ("import os, threadpoolctl\n"
              "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
              "print(max(p['num_threads'] for p in threadpoolctl.threadpool_info()\n"
              "          if p['user_api'] == 'blas'))")
    path = notebook(tmp_path / "threads.ipynb", "import numpy\n" + source)
    cache = tmp_path / "cache"
    execute_notebooks.main(["--cache", str(cache), path])
    record = get_cache(str(cache)).get_cached_project_nb(path)
    outputs = get_cache(str(cache)).get_cache_bundle(record.pk).nb.cells[0].outputs
    assert "".join(o.text for o in outputs if o.output_type == "stream") == "1 3\n1\n"
    assert "OPENBLAS_NUM_THREADS" not in os.environ   # the script's own process is left alone
