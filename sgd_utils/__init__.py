"""Helpers for the executable textbook on stochastic gradient descent.

One module per concept; data flows one way,
problem/data -> optimizer -> trace/history -> plot/widget:

- ``optim``: the update rules (pure functions) and a ``torch.optim``-shaped facade.
- ``schedules``: learning-rate schedules as functions of the step.
- ``problems``: test objectives with analytic gradients, deterministic and stochastic.
- ``descent``: run an optimizer on a problem and return a trace.
- ``plots``: contour plots, trajectories and loss curves.
- ``widgets``: slider figures that work with and without a kernel.
- ``data``: MNIST, the bundled offline sample and the full set on demand.
- ``mlp``: a multilayer perceptron with vectorised backpropagation.
- ``train``: the mini-batch training loop and its history.
"""

__version__ = "0.1.0"
