"""Re-execute notebooks in place so the outputs stored in git match the code.

Usage: ``make refresh-notebooks``, or for some notebooks
``python scripts/refresh_notebooks.py chapters/07_*.ipynb``. Any machine may store the outputs:
they must hold on every machine (``make test-portable`` checks four CPU classes), so a cell whose
output changes with the BLAS kernel prints a bound or a statistic over seeds
(``sgd_utils.report``), not digits.

The stored outputs are what GitHub, Colab and nbval see. Slider figures run in live mode, so each
stores one PNG of its default position, not the precomputed stack, and the widget state is dropped
(``make book`` regenerates both). Each notebook is written only after it executed without error,
through a temporary file, so a failure leaves the stored notebook as it was.
"""

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
TIMEOUT_SECONDS = 600


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    os.environ["SGD_UTILS_SLIDERS"] = "live"  # inherited by the kernel
    client = NotebookClient(notebook, timeout=TIMEOUT_SECONDS, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=False)
    client.execute()
    # Keep the metadata minimal and stable so diffs show only what changed in the cells.
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC,
                                            "language_info": LANGUAGE_INFO})
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".ipynb", delete=False,
                                     encoding="utf-8") as tmp:
        nbformat.write(notebook, tmp)
    os.chmod(tmp.name, 0o644)  # NamedTemporaryFile creates it private
    os.replace(tmp.name, path)


def main(paths):
    if not paths:
        sys.exit("usage: refresh_notebooks.py NOTEBOOK.ipynb ...")
    for name in paths:
        path = Path(name)
        print(f"refresh_notebooks: executing {path}", flush=True)
        refresh(path)
    print(f"refresh_notebooks: {len(paths)} notebook(s) refreshed")


if __name__ == "__main__":
    main(sys.argv[1:])
