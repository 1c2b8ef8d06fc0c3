"""Live slider figures driven as JupyterLab drives them: a real IPython kernel, and slider moves
sent as widget comm messages ("update" with the new value), not Python calls in the test.

The figure under test is the book's own: chapter 1's first one, gradient descent on its valley
(its learning-rate slider is continuous in a kernel), built by the chapter's code.
"""

import json
from pathlib import Path

import pytest

from kernel_driver import Kernel

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_gradient_descent.ipynb"


@pytest.fixture(scope="module")
def chapter_kernel():
    kernel = Kernel(CHAPTER.parent)
    try:
        cells = json.loads(CHAPTER.read_text())["cells"]
        code = [("".join(c["source"])) for c in cells if c["cell_type"] == "code"]
        upto = next(i for i, source in enumerate(code) if "slider_figure(draw_valley" in source)
        for source in code[:upto + 1]:
            kernel.run(source)
        yield kernel
    finally:
        kernel.stop()


def image_comm(kernel):
    return next(cid for cid, state in kernel.comms.items()
                if "slider-image" in state.get("_dom_classes", []))


def test_a_released_slider_redraws_the_figure_for_any_learning_rate(chapter_kernel):
    kernel = chapter_kernel
    slider = next(cid for cid, state in kernel.comms.items()
                  if state.get("_model_name") == "FloatLogSliderModel")
    image = image_comm(kernel)
    before = kernel.comms[image]["value"]
    assert "learning rate η = 0.1." in before

    kernel.set_value(slider, 0.0731)     # between the book's positions
    kernel.wait_for_value(image)
    after = kernel.comms[image]["value"]
    assert "learning rate η = 0.0731." in after and after != before


def test_a_value_drawn_before_comes_back_from_the_cache(chapter_kernel):
    kernel = chapter_kernel
    slider = next(cid for cid, state in kernel.comms.items()
                  if state.get("_model_name") == "FloatLogSliderModel")
    image = image_comm(kernel)
    statuses = []

    def shown(message):
        content = message["content"]
        if message["msg_type"] != "comm_msg":
            return False
        state = content["data"].get("state", {})
        if "Drawing the figure" in str(state.get("value", "")):
            statuses.append(state["value"])
        return content["comm_id"] == image and "value" in state

    # Away from the default first: each test may get its own kernel (pytest-xdist), and setting
    # the value a slider already has sends nothing back.
    kernel.set_value(slider, 0.0512)
    kernel.wait_for_value(image)
    kernel.set_value(slider, 0.1)        # the default, drawn when the figure was shown
    kernel.drain(shown)
    assert "learning rate η = 0.1." in kernel.comms[image]["value"]
    assert not statuses, "a cached image was announced as being drawn"
