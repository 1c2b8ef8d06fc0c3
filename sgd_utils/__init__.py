"""Helpers for the executable textbook on stochastic gradient descent.

The package is in layers; each imports only from the layers above it in this list (a test checks
it), so data flows one way: problem/data -> theory -> optimizer -> run -> measurement -> figure.

- ``problems``: test objectives with analytic gradients: toy functions, least squares, logistic
  regression (``grad`` for one point, ``grads`` for many independent runs at once), and a sparse
  least-squares problem.
- ``theory``: what the mathematics predicts, as functions of numbers, arrays and problems:
  convergence rates (``rates``), mini-batch noise and the noise scale (``noise``), SGD on least
  squares solved exactly (``least_squares``), small-step and 1/t predictions (``asymptotics``),
  staleness and gossip (``workers``). It never runs an optimizer.
- ``optim``: the update rules (pure functions) under a ``torch.optim``-shaped facade whose
  optimizers own their variants (``SGD(fused=...)``, ``Adam(bias_correction=...)``), and the
  learning-rate ``schedules``.
- ``descent``: the one runner, ``run``: an optimizer on a problem, one run or many independent
  chains at once, with shuffled or independent mini-batches, stale gradients, and full or light
  recording under one divergence rule.
- ``nn``: MNIST (``data``), a multilayer perceptron with fast backpropagation (``mlp``) and its
  readable reference (``backprop``), gradient checks (``gradcheck``) and the training loop
  (``train``), which draws its batches with the runner's sampler.
- ``experiments``: what chapters measure: rates and steps (``measure``), the optimizer race
  (``race``), grids of MNIST runs (``grids``), the learning-rate range test (``range_test``), many
  workers simulated in one process (``simulated_workers``).
- ``distributed``: the same workers for real, on separate processes: synchronous data parallelism
  over ``torch.distributed`` (``data_parallel``, which imports PyTorch only when a run starts) and
  lock-free Hogwild! on shared memory (``hogwild``).
- ``viz``: plots and slider figures that work with and without a kernel.

Four small utilities serve every layer: ``report`` prints numbers so that they hold on every
machine (rounding noise as a bound, chaotic runs as a mean over seeds with its standard error),
``threads`` runs BLAS on one thread, fastest for the book's small matrices, ``checks`` holds the
argument checks the entry points share, and ``bisection`` finds thresholds such as the largest
stable learning rate.
"""

__version__ = "0.1.0"
