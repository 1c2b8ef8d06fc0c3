"""Figures: plots of runs and slider figures that work with and without a kernel.

- :mod:`.plots`: contour plots, trajectories and loss curves.
- :mod:`.widgets`: :func:`~sgd_utils.viz.widgets.slider_figure`, every position precomputed for
  the web book, redrawn live in a running notebook.
- :mod:`.style`: the book's one figure style, and PNGs at twice the pixel density.
- :mod:`.phone`: every figure laid out again for a phone's text column.
- :mod:`.formulas`: formulas parsed once for all figures, not once per figure.
"""
