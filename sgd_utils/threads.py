"""How many threads BLAS may use: one is fastest for the book's small matrices.

The networks here multiply a batch of 1-512 rows by layers of at most 784 x 256. For products
that small, a second BLAS thread costs more in synchronisation than it saves, and far more when
other processes share the cores: on a busy 2-core machine one thread made a training run
4.6 s instead of 58 s. Results are the same up to float rounding.
"""

import contextlib

from threadpoolctl import threadpool_limits


def blas_threads(num_threads):
    """A context in which BLAS (OpenBLAS, MKL, ...) runs on ``num_threads`` threads.

    ``None`` leaves the setting alone. The previous limit is restored on exit.

    >>> import numpy as np
    >>> with blas_threads(1):
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    if num_threads is None:
        return contextlib.nullcontext()
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"blas_threads must be an integer >= 1 or None, got {num_threads!r}")
    return threadpool_limits(limits=num_threads, user_api="blas")
