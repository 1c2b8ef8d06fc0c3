"""Experiments: the runs that chapters measure, built on the runner, the networks and the theory.

- :mod:`.measure`: rates, slopes and steps to a tolerance, read off runs.
- :mod:`.race`: every optimizer tuned on every problem over one grid of learning rates (chapter 5).
- :mod:`.grids`: grids of short MNIST runs over hyperparameters and seeds (chapters 8 and 9).
- :mod:`.range_test`: the learning-rate range test (chapter 9).
- :mod:`.simulated_workers`: many workers simulated in one process: synchronous, stale,
  lock-free and decentralised SGD (chapter 11).
"""
