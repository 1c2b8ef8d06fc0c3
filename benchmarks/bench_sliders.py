"""How fast a slider figure answers in a live kernel (``make lab``, Binder, Colab): from the moment
the reader releases a slider to the moment the new image reaches the front end.

Each chapter runs in a real IPython kernel (tests/kernel_driver.py) with live sliders; then every
slider of every figure is moved, as JupyterLab moves it, by a widget "update" comm message: to a
position not drawn before (what the reader waits for) and back to one already drawn (cached).
Targets (issue 13): a Part I figure (chapters 1-5) redraws within 200 ms; a figure that retrains
MNIST networks (chapters 7-9) within 3 s. Each time is also given as a ratio to a reference in the
same kernel: drawing and encoding one empty figure of the same size, the least any redraw costs.

Run: ``python benchmarks/bench_sliders.py [CHAPTER.ipynb ...]`` (the whole book: a few minutes,
mostly running the chapters).
"""

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from kernel_driver import Kernel  # noqa: E402

# the figures that retrain MNIST networks: 3 s; every other figure: 0.2 s (the target of Part I)
TARGET_S = {f"chapters/{name}.ipynb": 3.0 for name in (
    "07_training_on_mnist", "08_batch_size_and_learning_rate", "09_hyperparameters_in_practice")}
SLIDERS = ("SelectionSliderModel", "FloatLogSliderModel", "FloatSliderModel", "IntSliderModel")
REFERENCE = """
import time as _time
from matplotlib.figure import Figure as _Figure
from sgd_utils.viz.widgets import render_png as _render_png
_start = _time.perf_counter()
for _ in range(5):
    _fig = _Figure(figsize=(7, 3.2), layout="constrained")
    _fig.subplots(1, 2)
    _render_png(_fig, 80, optimize=False)   # as a live redraw encodes
print("REFERENCE", (_time.perf_counter() - _start) / 5)
"""


def new_value(kernel, comm_id):
    """A value of the slider ``comm_id`` not drawn yet: the next position, or for a continuous
    slider a point between its current value and its maximum."""
    state = kernel.comms[comm_id]
    if state["_model_name"] == "SelectionSliderModel":
        last = len(state["_options_labels"]) - 1
        return "index", (state["index"] + 1 if state["index"] < last else state["index"] - 1)
    if state["_model_name"] == "FloatLogSliderModel":
        exponent = 0.5 * (state["max"] + (state["min"] + state["max"]) / 2)
        return "value", state["base"] ** exponent
    return "value", type(state["value"])((state["value"] + state["max"]) / 2)


def move(kernel, slider, key, value, image):
    """Seconds from releasing ``slider`` at ``value`` to the new ``image`` arriving."""
    kernel.set_value(slider, value, key)
    return kernel.wait_for_value(image)


def figures_of(kernel, before):
    """(sliders, image) of each slider figure shown since ``before`` (comm ids in order)."""
    new = [cid for cid in kernel.comms if cid not in before]
    images = [cid for cid in new if "slider-image" in kernel.comms[cid].get("_dom_classes", [])]
    figures = []
    for image in images:   # the sliders opened just before their figure's image
        position = new.index(image)
        sliders = [cid for cid in new[:position] if kernel.comms[cid]["_model_name"] in SLIDERS
                   and not any(cid in f[0] for f in figures)]
        figures.append((sliders, image))
    return figures


def bench(notebook):
    path = ROOT / notebook
    kernel = Kernel(path.parent)
    rows = []
    try:
        kernel.run(REFERENCE)
        reference = float(next(line.split()[1] for line in "".join(kernel.output).splitlines()
                                if line.startswith("REFERENCE")))
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            before = set(kernel.comms)
            kernel.run("".join(cell["source"]))
            for sliders, image in figures_of(kernel, before):
                for slider in sliders:
                    key, value = new_value(kernel, slider)
                    back = kernel.comms[slider][key]
                    fresh = move(kernel, slider, key, value, image)
                    cached = move(kernel, slider, key, back, image)
                    rows.append((kernel.comms[slider].get("description", "?"), fresh, cached))
    finally:
        kernel.stop()
    return rows, reference


def main(argv=None):
    notebooks = (argv if argv else sys.argv[1:]) or sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "chapters").glob("*.ipynb"))
    print("Redraw after releasing a slider, in a live kernel: new position / cached position.")
    late = []
    for notebook in notebooks:
        rows, reference = bench(notebook)
        target = TARGET_S.get(notebook, 0.2)
        print(f"{notebook} (target {target:g} s; reference: an empty figure drawn and encoded "
              f"in {reference * 1e3:.0f} ms)")
        for description, fresh, cached in rows:
            print(f"  {description:28} {fresh * 1e3:7.0f} ms ({fresh / reference:5.1f}x) / "
                  f"{cached * 1e3:5.0f} ms")
            if fresh > target:
                late.append(f"{notebook}: {description} {fresh:.2f} s")
        if rows:
            print(f"  median new-position redraw {statistics.median(r[1] for r in rows) * 1e3:.0f}"
                  " ms")
    print("over target: " + ("; ".join(late) if late else "none"))


if __name__ == "__main__":
    main()
