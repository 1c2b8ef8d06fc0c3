r"""Adam and AdamW: bias-corrected moment estimates, as in ``torch.optim.Adam`` and
``torch.optim.AdamW``, and, for chapter 5's experiment, Adam without the bias correction.

One rule, :func:`adam_update`, is the algorithm; :func:`adamw_update` is the same rule with
decoupled weight decay, and ``bias_correction=False`` leaves the correction out
(:func:`uncorrected_step_ratio` predicts what that does). The facades :class:`Adam` and
:class:`AdamW` run the same operations in place, bit for bit.
"""

from typing import NamedTuple

import numpy as np

from ..checks import check_flag
from .base import Optimizer, check_betas, check_non_negative, lerp, lerp_into


class AdamState(NamedTuple):
    """State of Adam and AdamW.

    ``exp_avg`` and ``exp_avg_sq`` are the running first and second moments of
    the gradient; ``max_exp_avg_sq`` their running maximum (only with
    ``amsgrad``, ``None`` otherwise, as in PyTorch).
    """

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None


def adam_init(param, amsgrad=False):
    """Return the initial state of Adam or AdamW: zero moments, and a maximum only for AMSGrad."""
    return AdamState(
        step=0,
        exp_avg=np.zeros_like(param),
        exp_avg_sq=np.zeros_like(param),
        max_exp_avg_sq=np.zeros_like(param) if amsgrad else None,
    )


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                amsgrad=False, maximize=False, decoupled_weight_decay=False, bias_correction=True):
    r"""One step of Adam, optionally AMSGrad, with L2 weight decay (PyTorch's rule).

    .. math::

        g &\leftarrow -g \quad \text{(maximize)} \\
        t &\leftarrow t + 1 \\
        g &\leftarrow g + \lambda \theta \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat v &\leftarrow \max(\hat v, v) \text{ (AMSGrad)}, \qquad
            \hat v \leftarrow v \text{ otherwise} \\
        \theta &\leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \,
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    where :math:`\theta` is ``param``, :math:`g` is ``grad``, :math:`t` is
    ``state.step``, :math:`m` is ``state.exp_avg``, :math:`v` is
    ``state.exp_avg_sq``, :math:`\hat v` is ``state.max_exp_avg_sq`` (all
    starting at zero), :math:`\gamma` is ``lr``, :math:`(\beta_1, \beta_2)` is
    ``betas``, :math:`\epsilon` is ``eps`` and :math:`\lambda` is
    ``weight_decay``; operations are per coordinate. The bias corrections
    :math:`1 - \beta^t` are computed in double precision, as PyTorch does, and
    :math:`\epsilon` sits outside the square root.

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : AdamState
        From :func:`adam_init` (with the same ``amsgrad``) or the previous call.
    lr, eps, weight_decay : float
        :math:`\gamma, \epsilon, \lambda` above, all >= 0 (checked by :class:`Adam`).
    betas : tuple of float
        :math:`(\beta_1, \beta_2)`, each in [0, 1).
    amsgrad : bool
        Normalise by the running maximum of :math:`v` (Reddi, Kale and Kumar, 2018).
    maximize : bool
        Maximise the objective instead of minimising it: the gradient is negated before
        anything else (so weight decay still shrinks :math:`\theta`), as in PyTorch.
    decoupled_weight_decay : bool
        AdamW's decay instead of the L2 penalty (:func:`adamw_update`), as PyTorch's argument of
        the same name.
    bias_correction : bool
        False leaves out both divisions by :math:`1 - \beta^t`:
        :math:`\theta \leftarrow \theta - \gamma\, m / (\sqrt{\hat v} + \epsilon)`. No library
        offers this; chapter 5 runs it to show what the correction does (see
        :func:`uncorrected_step_ratio`). With :math:`\beta_1 = 0` it is RMSprop with
        ``alpha`` :math:`= \beta_2`.

    Returns
    -------
    new_param : ndarray
    new_state : AdamState
        New arrays: neither ``param`` nor ``state`` is modified.

    Notes
    -----
    Kingma and Ba (2015). Keras and TensorFlow implement the variant given at the
    end of the paper's section 2, :math:`\theta \leftarrow \theta - \gamma
    \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \frac{m}{\sqrt{v} + \hat\epsilon}`,
    with :math:`\hat\epsilon` (default ``1e-7``) added to the *uncorrected*
    :math:`\sqrt v`; it equals this rule with
    :math:`\epsilon = \hat\epsilon / \sqrt{1 - \beta_2^t}`, which differs most in
    the first steps. Weight decay here is an L2 penalty added to the gradient,
    so it is rescaled by :math:`\sqrt{\hat v}` like the rest of the gradient; for
    decay that is not, use :func:`adamw_update`.

    Examples
    --------
    The first step moves every coordinate by about ``lr``, whatever its gradient:

    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> new_x, state = adam_update(x, np.array([10.0, -0.1], dtype=np.float32), adam_init(x),
    ...                            lr=0.5)
    >>> new_x.round(5), state.step  # eps makes it slightly less than lr
    (array([ 0.5, -1.5], dtype=float32), 1)
    """
    # the operations of PyTorch's _single_tensor_adam, in its order
    lr, eps, weight_decay = float(lr), float(eps), float(weight_decay)
    beta1, beta2 = float(betas[0]), float(betas[1])
    if maximize:
        grad = -grad
    step = state.step + 1
    if weight_decay != 0:
        if decoupled_weight_decay:
            param = param * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    # beta1 * exp_avg + (1 - beta1) * grad, rounded as PyTorch
    exp_avg = lerp(state.exp_avg, grad, 1 - beta1)
    exp_avg_sq = beta2 * state.exp_avg_sq + (1 - beta2) * grad * grad
    max_exp_avg_sq = np.maximum(state.max_exp_avg_sq, exp_avg_sq) if amsgrad else None
    # Python floats (double precision) like PyTorch's; NumPy rounds them to float32 when they meet
    # the arrays. Without the correction both are 1: dividing by 1.0 changes no bit.
    step_size = lr / (1 - beta1**step) if bias_correction else lr
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5 if bias_correction else 1.0
    denom = np.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq) / bias_correction2_sqrt + eps
    new_param = param - step_size * exp_avg / denom
    return new_param, AdamState(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                                max_exp_avg_sq=max_exp_avg_sq)


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
    r"""One step of AdamW: Adam with decoupled weight decay (PyTorch's rule).

    .. math::

        g &\leftarrow -g \quad \text{(maximize)} \\
        \theta &\leftarrow \theta (1 - \gamma \lambda) \\
        \theta &\leftarrow \text{the Adam step of } \theta \text{ with gradient } g
            \text{ and no weight decay (see } \texttt{adam\_update}\text{)}

    where :math:`\theta` is ``param``, :math:`g` is ``grad``, :math:`\gamma` is
    ``lr`` and :math:`\lambda` is ``weight_decay`` (default ``1e-2``); the other
    arguments, the state and the returned values are those of :func:`adam_update`.

    Notes
    -----
    Loshchilov and Hutter (2019). The decay shrinks the parameter directly, so
    unlike Adam's L2 penalty it is neither averaged into the moments nor divided
    by :math:`\sqrt{\hat v}`: every weight decays at the same relative rate.
    PyTorch (and Keras's ``AdamW``) multiply the decay by the learning rate;
    the paper scales it by the schedule multiplier only, so with a fixed
    :math:`\gamma` its :math:`\lambda` corresponds to PyTorch's :math:`\lambda \gamma`.

    Examples
    --------
    With a zero gradient only the decay acts:

    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> new_x, _ = adamw_update(x, np.zeros_like(x), adam_init(x), lr=0.1, weight_decay=0.5)
    >>> new_x
    array([ 0.95, -1.9 ], dtype=float32)
    """
    return adam_update(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                       amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


def _adam_step_in_place(param, grad, state, scratch, lr, *, betas, eps, weight_decay, amsgrad,
                        maximize, decoupled_weight_decay, bias_correction):
    """:func:`adam_update` writing ``param`` in place, with the same operations in the same order.

    Temporaries go to the two ``scratch`` arrays; the moments are still new
    arrays at each step, so earlier states stay valid.
    """
    beta1, beta2 = betas
    work, update = scratch
    if maximize:
        grad = -grad  # a new array (maximize is rare); the scratch arrays are used below
    step = state.step + 1
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    # new arrays for the moments (out= keeps 0-d parameters arrays rather than NumPy scalars)
    exp_avg = lerp_into(state.exp_avg, grad, 1 - beta1, out=np.empty_like(param))
    exp_avg_sq = np.multiply(state.exp_avg_sq, beta2, out=np.empty_like(param))
    np.multiply(grad, 1 - beta2, out=work)
    work *= grad
    exp_avg_sq += work
    max_exp_avg_sq = np.maximum(state.max_exp_avg_sq, exp_avg_sq) if amsgrad else None
    step_size = lr / (1 - beta1**step) if bias_correction else lr
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5 if bias_correction else 1.0
    denom = np.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq, out=work)
    denom /= bias_correction2_sqrt
    denom += eps
    np.multiply(exp_avg, step_size, out=update)
    update /= denom
    param -= update
    return AdamState(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                     max_exp_avg_sq=max_exp_avg_sq)


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``, updating ``params`` in place.

    The facade of :func:`adam_update` (see there for the maths and how it
    differs from Keras's Adam); arguments, defaults and checks are PyTorch's, and
    ``bias_correction=False`` is this package's addition (chapter 5).
    :meth:`step` performs the rule's operations in the same order through
    preallocated arrays (fresh temporaries for a 784x128 weight cost page
    faults); a test checks it agrees with the rule bit for bit.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = Adam([x], lr=0.1)
    >>> opt.step([2 * x])
    >>> x.round(5), opt.state[0].step
    (array([ 0.9, -1.9], dtype=float32), 1)
    """

    init_rule = staticmethod(adam_init)
    update_rule = staticmethod(adam_update)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False,
                 bias_correction=True):
        super().__init__(
            params,
            lr,
            betas=check_betas(betas),
            eps=check_non_negative("eps", eps),
            weight_decay=check_non_negative("weight_decay", weight_decay),
            amsgrad=check_flag("amsgrad", amsgrad),
            maximize=check_flag("maximize", maximize),
            decoupled_weight_decay=check_flag("decoupled_weight_decay", decoupled_weight_decay),
            bias_correction=check_flag("bias_correction", bias_correction),
        )

    def init_state(self, param):
        return adam_init(param, self.hyperparams["amsgrad"])

    def update_in_place(self, index, param, grad, state):
        """The update rule applied in place, bit for bit (the trainer calls this once per
        mini-batch)."""
        return _adam_step_in_place(param, grad, state, self.scratch(index), self._lr,
                                   **self.hyperparams)


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``, updating ``params`` in place.

    The facade of :func:`adamw_update`: Adam with decoupled weight decay,
    default ``weight_decay=1e-2``.

    Examples
    --------
    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = AdamW([x], lr=0.1, weight_decay=0.5)
    >>> opt.step([np.zeros_like(x)])
    >>> x
    array([ 0.95, -1.9 ], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


def uncorrected_step_ratio(step, betas=(0.9, 0.999)):
    r"""The step of Adam without bias correction under a constant gradient, in learning rates:
    :math:`(1 - \beta_1^t)/\sqrt{1 - \beta_2^t}`.

    For a constant gradient :math:`g` the moments are :math:`m_t = (1 - \beta_1^t)\, g` and
    :math:`v_t = (1 - \beta_2^t)\, g^2`, biased toward zero by their zero start; with bias
    correction the ratio is 1 at every step (for :math:`\epsilon \to 0`). RMSprop's is this with
    :math:`\beta_1 = 0`, :math:`1/\sqrt{1 - \alpha^t}`.

    Parameters
    ----------
    step : int or array_like of int
        :math:`t \ge 1`, the number of the step (the first step is 1).
    betas : tuple of float
        :math:`(\beta_1, \beta_2)`, each in [0, 1).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(uncorrected_step_ratio(1), 4), round(uncorrected_step_ratio(1, betas=(0.0, 0.99)), 4)
    (3.1623, 10.0)
    """
    beta1, beta2 = check_betas(betas)
    step = np.asarray(step)
    if not np.issubdtype(step.dtype, np.integer) or np.any(step < 1):
        raise ValueError(f"step must hold integers >= 1 (the first step is 1), got {step!r}")
    ratio = (1 - beta1**step) / np.sqrt(1 - beta2**step)
    return float(ratio) if ratio.ndim == 0 else ratio
