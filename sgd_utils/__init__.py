"""Helpers for the executable textbook on stochastic gradient descent.

One module per concept; data flows one way,
problem/data -> optimizer -> trace/history -> plot/widget.

The core, used throughout the book:

- ``optim``: the update rules (pure functions) and a ``torch.optim``-shaped facade.
- ``schedules``: learning-rate schedules as functions of the step.
- ``problems``: test objectives with analytic gradients, deterministic and stochastic.
- ``descent``: run an optimizer on a problem and return a trace.
- ``plots``: contour plots, trajectories and loss curves.
- ``widgets``: slider figures that work with and without a kernel.
- ``data``: MNIST, the bundled offline sample and the full set on demand.
- ``mlp``: a multilayer perceptron with vectorised backpropagation.
- ``train``: the mini-batch training loop and its history.
- ``fused_sgd``: momentum SGD added into backprop's products, ``train``'s fast path.
- ``threads``: run BLAS on one thread, fastest for the book's small matrices.
- ``report``: numbers as the book prints them, so that they hold on every machine: rounding
  noise as a bound, chaotic runs as a mean over seeds with its standard error.

Theory and experiments, each introduced by the chapter that needs it:

- ``rates``: convergence rates of gradient descent and momentum on quadratics (chapters 1, 3).
- ``noise``: mini-batch gradient noise and the constant-step noise floor (chapter 2).
- ``moments``: the exact expected loss of SGD on least squares under a schedule (chapter 4).
- ``bias_correction``, ``race``: Adam without bias correction; a fair race of optimizers
  (chapter 5).
- ``gradcheck``: gradients against central finite differences (chapter 6).
- ``sweep``: grids of short MNIST runs, the noise scale, the learning-rate range test
  (chapters 7-9).
- ``chains``, ``sgd_theory``: many independent SGD runs and what the theorems predict (chapter 10).
- ``parallel``: synchronous, stale, lock-free and decentralised SGD on one machine (chapter 11).
"""

__version__ = "0.1.0"
