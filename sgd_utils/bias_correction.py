r"""Adam without its bias correction, and the step sizes both versions take in their first steps.

Adam's moments start at zero, so for small :math:`t` the running averages

.. math::

    m_t = (1 - \beta_1) \sum_{s=1}^{t} \beta_1^{t-s} g_s, \qquad
    v_t = (1 - \beta_2) \sum_{s=1}^{t} \beta_2^{t-s} g_s^2

are biased toward zero: for a constant gradient :math:`g`, :math:`m_t = (1 - \beta_1^t)\, g` and
:math:`v_t = (1 - \beta_2^t)\, g^2`. Adam divides them by :math:`1 - \beta_1^t` and
:math:`1 - \beta_2^t` (Kingma and Ba, 2015, section 3). This module keeps the uncorrected rule,
:math:`\theta \leftarrow \theta - \gamma\, m_t / (\sqrt{v_t} + \epsilon)`, so that a chapter can
run both and measure what the correction does; no library ships it, and nobody should train with it.

- :func:`adam_uncorrected_update` and :class:`AdamNoBiasCorrection`: the rule and its facade.
- :func:`uncorrected_step_ratio`: the predicted step of the uncorrected rule under a constant
  gradient, in units of the learning rate.
"""

import numpy as np

from .optim.adam import AdamState, adam_init
from .optim.base import Optimizer, check_betas, check_non_negative, lerp


def adam_uncorrected_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    r"""One step of Adam with the bias correction left out.

    .. math::

        t &\leftarrow t + 1 \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \theta &\leftarrow \theta - \gamma \, \frac{m}{\sqrt{v} + \epsilon}

    with the symbols of :func:`sgd_utils.optim.adam_update` (:math:`m` is ``state.exp_avg``,
    :math:`v` is ``state.exp_avg_sq``, :math:`\gamma` is ``lr``); the moments are computed with the
    same operations, so only the last line differs from Adam's.

    Parameters
    ----------
    param, grad : ndarray
        The parameter and the gradient of the loss at ``param``, same shape and dtype.
    state : AdamState
        From :func:`sgd_utils.optim.adam_init` or the previous call.
    lr, eps : float
        :math:`\gamma, \epsilon`, both >= 0.
    betas : tuple of float
        :math:`(\beta_1, \beta_2)`, each in [0, 1).

    Returns
    -------
    new_param : ndarray
    new_state : AdamState

    Notes
    -----
    With :math:`\beta_1 = 0` this is exactly RMSprop with ``alpha`` :math:`= \beta_2` (PyTorch's
    RMSprop has no bias correction either). For a constant gradient its step is
    :math:`\gamma\,(1 - \beta_1^t) / \sqrt{1 - \beta_2^t}` per coordinate (up to :math:`\epsilon`),
    see :func:`uncorrected_step_ratio`.

    Examples
    --------
    The first step is :math:`(1 - \beta_1) / \sqrt{1 - \beta_2} \approx 3.16` learning rates:

    >>> x = np.array([1.0])
    >>> new_x, state = adam_uncorrected_update(x, np.array([2.0]), adam_init(x), lr=0.01)
    >>> float(np.round((x - new_x)[0] / 0.01, 4)), state.step
    (3.1623, 1)
    """
    lr, eps = float(lr), float(eps)
    beta1, beta2 = float(betas[0]), float(betas[1])
    exp_avg = lerp(state.exp_avg, grad, 1 - beta1)  # as in Adam: beta1 * m + (1 - beta1) * g
    exp_avg_sq = beta2 * state.exp_avg_sq + (1 - beta2) * grad * grad
    new_param = param - lr * exp_avg / (np.sqrt(exp_avg_sq) + eps)
    return new_param, AdamState(step=state.step + 1, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
                                max_exp_avg_sq=None)


class AdamNoBiasCorrection(Optimizer):
    r"""Adam without bias correction, updating ``params`` in place (the facade of
    :func:`adam_uncorrected_update`).

    Arguments and defaults are those of :class:`sgd_utils.optim.Adam` without ``weight_decay``
    and ``amsgrad``.

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> opt = AdamNoBiasCorrection([x], lr=0.1, betas=(0.0, 0.99))
    >>> opt.step([2 * x])
    >>> x.round(4)  # beta1 = 0: RMSprop's first step, lr / sqrt(1 - beta2) = 10 lr
    array([ 0., -1.])
    """

    init_rule = staticmethod(adam_init)
    update_rule = staticmethod(adam_uncorrected_update)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr, betas=check_betas(betas), eps=check_non_negative("eps", eps))


def uncorrected_step_ratio(step, betas=(0.9, 0.999)):
    r"""The step of uncorrected Adam under a constant gradient, in learning rates:
    :math:`(1 - \beta_1^t)/\sqrt{1 - \beta_2^t}`.

    With bias correction the ratio is 1 at every step (for :math:`\epsilon \to 0`); RMSprop's is
    this with :math:`\beta_1 = 0`, :math:`1/\sqrt{1 - \alpha^t}`.

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
