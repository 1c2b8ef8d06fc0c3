r"""The facade base class shared by every optimizer, and the checks on its inputs.

An optimizer here is a pair of pure functions, ``init(param) -> state`` and
``update(param, grad, state, **hyperparams) -> (new_param, new_state)``, one pair
per module of this package. :class:`Optimizer` wraps such a pair in the shape of
``torch.optim``: it holds a list of parameter arrays, updates them in place on
each :meth:`Optimizer.step`, and keeps one state per parameter in
:attr:`Optimizer.state`.
"""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np


def lerp(start, end, weight):
    r"""Return :math:`(1 - w)\,\mathrm{start} + w\,\mathrm{end}`, rounded as PyTorch's
    ``lerp`` rounds it.

    The running averages of RMSprop and Adam are written this way in PyTorch.
    Its two formulas, one for small weights and one for large, keep
    ``lerp(start, end, 1.0)`` exactly ``end`` (with ``beta1 = 0`` Adam's first
    moment is the gradient, bit for bit).

    Examples
    --------
    >>> lerp(np.float32(2.0), np.float32(4.0), 0.25)
    np.float32(2.5)
    """
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def lerp_into(start, end, weight, out):
    """:func:`lerp` written into ``out`` (not ``start``), with the same operations in the
    same order."""
    np.subtract(end, start, out=out)
    if abs(weight) < 0.5:
        out *= weight
        out += start
    else:
        out *= 1 - weight
        np.subtract(end, out, out=out)
    return out


def check_non_negative(name, value):
    """Return ``value`` as a Python float after checking that it is a finite number >= 0.

    A Python float (not ``np.float64``) keeps float32 arithmetic in float32:
    NumPy treats a Python scalar as "weak" and casts it to the array's dtype.

    Examples
    --------
    >>> check_non_negative("lr", 0.1)
    0.1
    >>> check_non_negative("lr", -0.1)
    Traceback (most recent call last):
    ...
    ValueError: Invalid lr: -0.1 (must be >= 0)
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, "
                        f"got {value!r} of type {type(value).__name__}")
    if not value >= 0:  # written this way so that NaN is rejected too
        raise ValueError(f"Invalid {name}: {value} (must be >= 0)")
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (must be finite)")
    return float(value)


def check_fraction(name, value):
    """``value`` as a Python float after checking that it is a number in [0, 1].

    >>> check_fraction("alpha", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: Invalid alpha: 1.5 (must be in [0, 1])
    """
    value = check_non_negative(name, value)
    if not value <= 1:
        raise ValueError(f"Invalid {name}: {value} (must be in [0, 1])")
    return value



def check_betas(betas):
    """Return ``betas`` as a pair of Python floats, each in [0, 1), as PyTorch requires."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(f"betas must be a pair of floats, got {betas!r}")
    checked = []
    for index, beta in enumerate(betas):
        beta = check_non_negative(f"betas[{index}]", beta)
        if not beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta} "
                             "(betas must lie in [0, 1))")
        checked.append(beta)
    return tuple(checked)


def check_params(params):
    """Return ``params`` as a list after checking it holds writable float arrays.

    A single array is refused rather than iterated over (its rows would become
    the "parameters"), as ``torch.optim`` refuses a single tensor.
    """
    if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)):
        raise TypeError(
            f"params must be a list of NumPy arrays, got {type(params).__name__}; "
            "wrap a single array as [x]"
        )
    if len(params) == 0:
        raise ValueError("params is an empty list: the optimizer has nothing to update")
    for index, param in enumerate(params):
        check_param(index, param)
    for later, param in enumerate(params):
        for earlier in range(later):
            if np.may_share_memory(params[earlier], param) and np.shares_memory(
                    params[earlier], param):
                raise ValueError(f"params[{earlier}] and params[{later}] share memory: each step "
                                 "would update it twice; pass every array once")
    return list(params)


def check_param(index, param):
    """A parameter must be a writable float array (the optimizer updates it in place)."""
    if not isinstance(param, np.ndarray):
        raise TypeError(f"params[{index}] must be a NumPy array, got {type(param).__name__}")
    if not np.issubdtype(param.dtype, np.floating):
        raise TypeError(
            f"params[{index}] has dtype {param.dtype}: it must be a float array "
            "(an integer array cannot be updated in place by a fractional step)"
        )
    if not param.flags.writeable:
        raise ValueError(f"params[{index}] is read-only: the optimizer updates it in place")


def state_kinds(state):
    """What each field of a fresh state must stay: ``"array"`` (always an array), ``"optional"``
    (``None`` until the rule creates it, like SGD's momentum buffer) or ``"count"`` (a step count).
    """
    kinds = tuple("array" if isinstance(value, np.ndarray) else
                  "optional" if value is None else "count" for value in state)
    return type(state), kinds


def check_state(index, param, state, kinds):
    """``state`` (of ``params[index]``) has the type and fields ``kinds`` says, with arrays of the
    parameter's shape and dtype: checked before a step writes anything."""
    state_type, field_kinds = kinds
    if type(state) is not state_type:
        raise TypeError(f"state[{index}] must be a {state_type.__name__}, got {state!r}")
    for name, kind, value in zip(state._fields, field_kinds, state):
        where = f"state[{index}].{name}"
        if kind == "count":
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                raise ValueError(f"{where} must be a step count (an integer >= 0), got {value!r}")
        elif value is None:
            if kind == "array":
                raise ValueError(f"{where} must be an array like params[{index}], got None")
        elif not isinstance(value, np.ndarray):
            raise TypeError(f"{where} must be a NumPy array, got {type(value).__name__}")
        elif value.shape != param.shape or value.dtype != param.dtype:
            raise ValueError(f"{where} has shape {value.shape} and dtype {value.dtype}, but "
                             f"params[{index}] has shape {param.shape} and dtype {param.dtype}")


def check_grads(params, grads):
    """Return ``grads`` as a list after checking it matches ``params`` one to one.

    Each gradient must have the shape and dtype of its parameter: a float64
    gradient for a float32 parameter would silently make the update float64.
    """
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a list of NumPy arrays, got {type(grads).__name__}")
    if len(grads) != len(params):
        raise ValueError(f"grads has {len(grads)} arrays but params has {len(params)}")
    for index, (param, grad) in enumerate(zip(params, grads)):
        if not isinstance(grad, np.ndarray):
            raise TypeError(f"grads[{index}] must be a NumPy array, got {type(grad).__name__}")
        if grad.shape != param.shape:
            raise ValueError(f"grads[{index}] has shape {grad.shape} "
                             f"but params[{index}] has shape {param.shape}")
        if grad.dtype != param.dtype:
            raise TypeError(
                f"grads[{index}] has dtype {grad.dtype} but params[{index}] has dtype "
                f"{param.dtype}; cast it with .astype(np.{param.dtype})"
            )
    return list(grads)


@dataclass
class Snapshot:
    """What :meth:`Optimizer.snapshot` copies: parameters, state entries, learning rate, and
    whatever else an optimizer's fast path keeps (``extra``)."""

    params: list
    state: list | None
    lr: float
    extra: object = None


def _copied(state):
    """A NamedTuple state with its arrays copied."""
    return type(state)(*(field.copy() if isinstance(field, np.ndarray) else field
                         for field in state))


class Optimizer:
    """Base of the ``torch.optim``-shaped facades over the pure update rules.

    A subclass sets :attr:`init_rule` and :attr:`update_rule` (the module's pure
    functions) and stores its hyperparameters in :attr:`hyperparams` (a dict of
    the update rule's keyword arguments other than ``lr``).

    Attributes
    ----------
    params : list of ndarray
        The arrays being optimized; :meth:`step` overwrites them in place.
    state : list of NamedTuple
        One state per parameter, fields named like PyTorch's state keys. Each
        step replaces the tuples with new ones holding new arrays, so a list of
        past ``opt.state`` values is a valid history (for plots).
    lr : float
        The learning rate, read and set between steps (schedules set it).
    """

    init_rule = None
    update_rule = None

    def __init__(self, params, lr, **hyperparams):
        self.params = check_params(params)
        self.lr = lr
        self.hyperparams = hyperparams
        self.state = [self.init_state(param) for param in self.params]
        self._state_kinds = [state_kinds(state) for state in self.state]
        # the (param, state) pairs this optimizer made or checked: only others are checked again
        self._verified = list(zip(self.params, self.state))
        self._scratch = None
        self._grads = None

    def init_state(self, param):
        """The state of ``param`` before its first step (subclasses pass the init rule its
        options)."""
        return self.init_rule(param)

    @property
    def lr(self):
        """The learning rate used by the next :meth:`step`."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_non_negative("lr", value)

    def step(self, grads):
        """Update every parameter in place from its gradient, and advance the state.

        All or nothing: the gradients, and any parameter or state entry replaced since the last
        step, are checked before anything is written, so a bad call raises an error naming
        the argument and leaves every parameter and state entry as it was.
        """
        grads = check_grads(self.params, grads)
        states = self.state
        self._check_replaced(states)
        for index, (param, grad) in enumerate(zip(self.params, grads)):
            states[index] = self.update_in_place(index, param, grad, states[index])
        self._verified = list(zip(self.params, states))

    def _check_replaced(self, states):
        """Check the parameters and states not made or checked by this optimizer (a user may
        assign ``opt.params[i]`` or ``opt.state``); the others cost an identity test."""
        if not len(self.params) == len(states) == len(self._state_kinds):
            raise ValueError(f"the optimizer has {len(self.params)} params and {len(states)} "
                             f"states but was built for {len(self._state_kinds)}: build a new "
                             "optimizer for other parameters")
        for index, (param, state) in enumerate(zip(self.params, states)):
            known_param, known_state = self._verified[index]
            if param is not known_param or state is not known_state:
                check_param(index, param)
                check_state(index, param, state, self._state_kinds[index])
            if param is not known_param:
                self._scratch = None   # the preallocated temporaries follow the new shapes

    def train_step(self, model, X, y):
        """One step of training ``model`` on the batch ``(X, y)``: backprop, then :meth:`step`.

        Returns the batch's loss, computed before the update. A non-finite loss skips the update,
        so the parameters stay the last good ones. ``model`` must hold this optimizer's params
        (``sgd_utils.nn.mlp.MLP`` and its ``loss_and_grads_unchecked``). Like ``torch.optim``'s
        ``step(closure)``, this lets the optimizer decide how the gradient and the update meet:
        :class:`~sgd_utils.optim.SGD` adds the gradients straight into its momentum buffers.
        """
        if self._grads is None or len(self._grads) != len(model.params) or any(
                g.shape != p.shape for g, p in zip(self._grads, model.params)):
            self._grads = [np.empty_like(p) for p in model.params]
        loss = model.loss_and_grads_unchecked(X, y, self._grads)
        if math.isfinite(loss):
            self.step(self._grads)
        return loss

    def snapshot(self):
        """A copy of everything a step changes: the parameters, the state and the learning rate.

        :meth:`restore` puts it back, so that training can be rewound (``fit`` does it to keep
        the last finite parameters when an update overflows). Taking it changes nothing.
        """
        return Snapshot([param.copy() for param in self.params],
                        [_copied(state) for state in self.state], self._lr)

    def restore(self, snapshot):
        """Put back the parameters (in place: models holding them see the change), the state and
        the learning rate of :meth:`snapshot`, which stays valid for another restore."""
        for param, saved in zip(self.params, snapshot.params):
            np.copyto(param, saved)
        self.state = [_copied(state) for state in snapshot.state]
        self._lr = snapshot.lr
        self._verified = list(zip(self.params, self.state))

    def update_in_place(self, index, param, grad, state):
        """Apply the update rule to ``param`` (``params[index]``) in place and return the new state.

        Subclasses on the MNIST trainer's hot path override this with the same
        operations written through preallocated arrays (tests check the bits).
        """
        new_param, new_state = self.update_rule(param, grad, state, lr=self._lr, **self.hyperparams)
        np.copyto(param, new_param)
        return new_state

    def scratch(self, index):
        """Two preallocated arrays shaped like ``params[index]``, for the temporaries of
        in-place steps."""
        if self._scratch is None:
            self._scratch = [(np.empty_like(param), np.empty_like(param)) for param in self.params]
        return self._scratch[index]

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}"
                              for key, value in {"lr": self.lr, **self.hyperparams}.items())
        return f"{type(self).__name__}({arguments})"
