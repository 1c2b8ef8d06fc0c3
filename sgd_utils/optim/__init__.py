r"""Optimizers: pure update rules on NumPy arrays and a ``torch.optim``-shaped facade.

Each rule is a pair of pure functions, ``<name>_init(param) -> state`` and
``<name>_update(param, grad, state, *, lr, ...) -> (new_param, new_state)``,
whose state is a ``NamedTuple`` with fields named like PyTorch's state keys.
Each facade (``GD``, ``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``)
takes a list of float arrays, PyTorch's argument names and defaults (PyTorch's implementation
flags such as ``foreach`` and ``fused`` have no counterpart), and updates the arrays in place on
``step(grads)``; ``opt.lr`` can be set between steps and ``opt.state`` holds one state per
parameter.

Examples
--------
>>> import numpy as np
>>> from sgd_utils.optim import SGD
>>> x = np.array([3.0, -1.0], dtype=np.float32)
>>> opt = SGD([x], lr=0.1, momentum=0.5)
>>> for _ in range(60):
...     opt.step([2 * x])  # the gradient of ||x||^2
>>> bool(np.abs(x).max() < 1e-3), x.dtype
(True, dtype('float32'))
"""

from .adagrad import Adagrad, AdagradState, adagrad_init, adagrad_update
from .adam import (Adam, AdamState, AdamW, adam_init, adam_update, adamw_update,
                   uncorrected_step_ratio)
from .base import Optimizer
from .rmsprop import RMSprop, RMSpropState, rmsprop_init, rmsprop_update
from .sgd import GD, SGD, GDState, SGDState, gd_init, gd_update, sgd_init, sgd_update

__all__ = [
    "Optimizer",
    "GD", "GDState", "gd_init", "gd_update",
    "SGD", "SGDState", "sgd_init", "sgd_update",
    "Adagrad", "AdagradState", "adagrad_init", "adagrad_update",
    "RMSprop", "RMSpropState", "rmsprop_init", "rmsprop_update",
    "Adam", "AdamW", "AdamState", "adam_init", "adam_update", "adamw_update",
    "uncorrected_step_ratio",
]
