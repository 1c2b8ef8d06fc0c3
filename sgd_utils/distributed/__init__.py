"""Many workers for real: the algorithms of chapter 11 on separate operating-system processes.

:mod:`sgd_utils.experiments.simulated_workers` simulates workers inside one process, faithfully
enough to compute the same numbers; this layer runs them for real, so the chapter can check that
the simulated claims hold on real processes.

- :mod:`.data_parallel`: synchronous data-parallel SGD of the book's MNIST network on ``W``
  processes, gradients from ``sgd_utils`` (NumPy) all-reduced by PyTorch's ``torch.distributed``
  (gloo), started with ``torchrun`` or ``torch.multiprocessing.spawn``. PyTorch is imported only
  when a run starts, so the rest of the package works without it.
- :mod:`.hogwild`: lock-free Hogwild! SGD by several processes writing one parameter vector in
  shared memory (``multiprocessing.shared_memory``), on the sparse least-squares problem;
  :mod:`.hogwild_worker` is one worker process: its update loop on ``memoryview`` casts of the
  shared block, and the messages it exchanges with the team.
"""
