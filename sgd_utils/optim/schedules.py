r"""Learning-rate schedules: the learning rate as a function of the step.

A schedule is a callable ``schedule(step) -> float`` giving the learning rate
to use for step ``step`` (counted from 0). Use it with an optimizer facade,

>>> schedule = StepLR(lr=0.1, step_size=2, gamma=0.5)
>>> [schedule(t) for t in range(5)]
[0.1, 0.1, 0.05, 0.05, 0.025]

or pass it to :func:`sgd_utils.descent.run`, which sets ``opt.lr = schedule(t)``
before step ``t``. Where PyTorch has the same schedule, the class carries the
name and the arguments of its ``torch.optim.lr_scheduler`` counterpart, and
``schedule(t)`` equals the learning rate torch uses for its ``t``-th
``optimizer.step()`` (the value after ``t`` calls of ``scheduler.step()``).
PyTorch computes most schedules recursively, multiplying the previous rate;
here each value is the closed form, so the two agree to rounding (~1e-15).
"""

import math
from bisect import bisect_right
from dataclasses import dataclass, fields
from numbers import Integral, Real
from operator import index


def _check(condition, message):
    if not condition:
        raise ValueError(message)


class Schedule:
    """Base class: validates the step and calls ``self.lr_at(step)``."""

    def __call__(self, step):
        step = index(step)  # TypeError for floats: a step is a count
        _check(step >= 0, f"step must be >= 0, got step={step}")
        try:
            lr = float(self.lr_at(step))
        except OverflowError:  # Python's float power raises instead of returning inf
            lr = math.inf
        _check(math.isfinite(lr), f"{self!r} gives no finite learning rate at step {step}: "
                                  "its parameters overflow there")
        return lr

    def lr_at(self, step):
        raise NotImplementedError


def _check_field_types(schedule):
    """Each field holds what its annotation says, else an error naming it: a ``float`` a finite
    real number (not a string or a bool), an ``int`` an integer, a ``bool`` a bool, a ``str``
    a string. The ranges are checked by each class."""
    for field in fields(schedule):
        value, kind, name = getattr(schedule, field.name), field.type, field.name
        if kind in (float, "float"):
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(f"{name} must be a real number, got {name}={value!r}")
            _check(math.isfinite(value), f"{name} must be finite, got {name}={value!r}")
        elif kind in (int, "int"):
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name} must be an integer, got {name}={value!r}")
        elif kind in (bool, "bool") and not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {name}={value!r}")
        elif kind in (str, "str") and not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {name}={value!r}")


def _is_count(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def _check_count(name, value):
    _check(_is_count(value), f"{name} must be an integer >= 1, got {name}={value!r}")


def _check_lr(name, value):
    _check(value >= 0 and math.isfinite(value),
           f"{name} must be finite and >= 0, got {name}={value!r}")


@dataclass(frozen=True)
class Constant(Schedule):
    r"""The same learning rate at every step, :math:`\eta_t = \eta`.

    >>> Constant(lr=0.1)(1000)
    0.1
    """

    lr: float

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)

    def lr_at(self, step):
        return self.lr


@dataclass(frozen=True)
class StepLR(Schedule):
    r"""Decay by ``gamma`` every ``step_size`` steps (``torch``'s ``StepLR``).

    .. math:: \eta_t = \eta \, \gamma^{\lfloor t / s \rfloor}

    where :math:`\eta, \gamma, s` are ``lr``, ``gamma``, ``step_size``.

    >>> StepLR(lr=1.0, step_size=10)(25)
    0.010000000000000002
    """

    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)
        _check_count("step_size", self.step_size)
        _check(self.gamma > 0, f"gamma must be > 0, got gamma={self.gamma!r}")

    def lr_at(self, step):
        return self.lr * self.gamma ** (step // self.step_size)


@dataclass(frozen=True)
class MultiStepLR(Schedule):
    r"""Decay by ``gamma`` at each milestone (``torch``'s ``MultiStepLR``).

    .. math:: \eta_t = \eta \, \gamma^{\#\{m \in M : m \le t\}}

    where :math:`\eta, \gamma, M` are ``lr``, ``gamma``, ``milestones``.

    >>> MultiStepLR(lr=1.0, milestones=(2, 4), gamma=0.5)(3)
    0.5
    """

    lr: float
    milestones: tuple
    gamma: float = 0.1

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)
        milestones = tuple(self.milestones)
        _check(list(milestones) == sorted(milestones) and all(_is_count(m) for m in milestones),
               f"milestones must be increasing positive integers, got milestones={milestones!r}")
        object.__setattr__(self, "milestones", milestones)
        _check(self.gamma > 0, f"gamma must be > 0, got gamma={self.gamma!r}")

    def lr_at(self, step):
        return self.lr * self.gamma ** bisect_right(self.milestones, step)


@dataclass(frozen=True)
class ExponentialLR(Schedule):
    r"""Multiply by ``gamma`` every step (``torch``'s ``ExponentialLR``).

    .. math:: \eta_t = \eta \, \gamma^t

    where :math:`\eta, \gamma` are ``lr``, ``gamma``.

    >>> ExponentialLR(lr=1.0, gamma=0.5)(3)
    0.125
    """

    lr: float
    gamma: float

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)
        _check(self.gamma > 0, f"gamma must be > 0, got gamma={self.gamma!r}")

    def lr_at(self, step):
        return self.lr * self.gamma**step


@dataclass(frozen=True)
class CosineAnnealingLR(Schedule):
    r"""Half a cosine from ``lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12 (\eta - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    where :math:`\eta, \eta_{\min}, T_{\max}` are ``lr``, ``eta_min``, ``T_max``.

    Notes
    -----
    As in ``torch``'s ``CosineAnnealingLR``, the formula keeps going past
    ``T_max``: the rate climbs back to ``lr`` at :math:`2T_{\max}` (a cosine
    of period :math:`2T_{\max}`). Use ``T_max`` = the number of steps to anneal
    once, or :class:`SequentialLR` to hold ``eta_min`` afterwards.

    >>> CosineAnnealingLR(lr=1.0, T_max=10)(5)
    0.5
    """

    lr: float
    T_max: int
    eta_min: float = 0.0

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)
        _check_count("T_max", self.T_max)
        _check_lr("eta_min", self.eta_min)

    def lr_at(self, step):
        cosine = 1 + math.cos(math.pi * step / self.T_max)
        return self.eta_min + (self.lr - self.eta_min) * cosine / 2


@dataclass(frozen=True)
class LinearLR(Schedule):
    r"""Linear ramp of the factor on ``lr``, e.g. a warm-up (``torch``'s ``LinearLR``).

    .. math::
        \eta_t = \eta \left(f_0 + (f_1 - f_0) \frac{\min(t, T)}{T}\right)

    where :math:`\eta, f_0, f_1, T` are ``lr``, ``start_factor``,
    ``end_factor``, ``total_iters``. A warm-up starts small (``start_factor``
    in :math:`(0, 1]`) and reaches ``lr`` at step ``total_iters``; the defaults
    are PyTorch's.

    >>> LinearLR(lr=0.3, start_factor=0.1, total_iters=2)(1)
    0.165
    """

    lr: float
    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("lr", self.lr)
        _check(0 < self.start_factor <= 1,
               f"start_factor must be in (0, 1], got start_factor={self.start_factor!r}")
        _check(0 <= self.end_factor <= 1,
               f"end_factor must be in [0, 1], got end_factor={self.end_factor!r}")
        _check_count("total_iters", self.total_iters)

    def lr_at(self, step):
        fraction = min(step, self.total_iters) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)


@dataclass(frozen=True)
class InverseTime(Schedule):
    r"""The Robbins-Monro family :math:`\eta_t = a / (b + t)^p`.

    .. math:: \eta_t = \frac{a}{(b + t)^p}

    where :math:`a, b, p` are ``a``, ``b``, ``power``. The classical
    stochastic-approximation conditions

    .. math:: \sum_t \eta_t = \infty, \qquad \sum_t \eta_t^2 < \infty

    (steps large enough to reach the optimum from anywhere, yet shrinking
    fast enough to average the gradient noise away) hold exactly when
    :math:`1/2 < p \le 1`; ``power=1`` (the default, :math:`a/(b+t)`) is
    Robbins and Monro's choice. With :math:`p \le 1/2` the squares no longer
    sum and the classical almost-sure argument fails, though on a strongly
    convex problem the expected loss still tends to 0, roughly in proportion
    to :math:`\eta_t` (chapter 4, exercise 3), more slowly than for larger
    :math:`p`; with :math:`p > 1` the steps sum to a finite distance and
    the iterates can stall short of the optimum. ``b > 0`` keeps
    :math:`\eta_0 = a / b^p` finite and tames the first steps.

    Notes
    -----
    PyTorch has no class for it; ``LambdaLR(opt, lambda t: 1 / (b + t))``
    with base lr ``a`` gives the same values for ``power=1``.

    >>> InverseTime(a=1.0, b=2.0)(2)
    0.25
    """

    a: float
    b: float
    power: float = 1.0

    def __post_init__(self):
        _check_field_types(self)
        _check(self.a > 0 and math.isfinite(self.a), f"a must be finite and > 0, got a={self.a!r}")
        _check(self.b > 0 and math.isfinite(self.b), f"b must be finite and > 0, got b={self.b!r}")
        _check(self.power > 0, f"power must be > 0, got power={self.power!r}")

    def lr_at(self, step):
        return self.a / (self.b + step) ** self.power


@dataclass(frozen=True)
class OneCycleLR(Schedule):
    r"""Smith's one-cycle policy: up to ``max_lr``, then far below the start.

    With :math:`\eta_0 = \eta_{\max} / d` and :math:`\eta_{\rm end} = \eta_0 / d_f`,
    the rate is annealed (by default along half a cosine,
    :math:`a(u, v, p) = v + \tfrac12 (u - v)(1 + \cos \pi p)`) from
    :math:`\eta_0` to :math:`\eta_{\max}` over steps :math:`0 \dots e_1` and
    from :math:`\eta_{\max}` to :math:`\eta_{\rm end}` over :math:`e_1 \dots e_2`:

    .. math::
        \eta_t = \begin{cases}
          a(\eta_0, \eta_{\max}, t / e_1) & t \le e_1 \\
          a(\eta_{\max}, \eta_{\rm end}, (t - e_1) / (e_2 - e_1)) & t > e_1
        \end{cases}
        \qquad e_1 = p_s T - 1, \quad e_2 = T - 1

    where :math:`\eta_{\max}, T, p_s, d, d_f` are ``max_lr``, ``total_steps``,
    ``pct_start``, ``div_factor``, ``final_div_factor``. ``three_phase=True``
    inserts a symmetric way back down to :math:`\eta_0` ending at
    :math:`2 p_s T - 2` before the final anneal; ``anneal_strategy="linear"``
    uses :math:`a(u, v, p) = u + (v - u) p`.

    Notes
    -----
    The phase boundaries, off by one as above, are ``torch``'s
    ``OneCycleLR``; like it, steps up to ``total_steps`` are accepted. PyTorch
    also cycles the momentum (``cycle_momentum=True``) inversely to the rate;
    this class is the learning rate only, matching ``cycle_momentum=False``.

    >>> schedule = OneCycleLR(max_lr=1.0, total_steps=10)
    >>> [round(schedule(t), 6) for t in (0, 2, 9)]
    [0.04, 1.0, 4e-06]
    """

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False

    def __post_init__(self):
        _check_field_types(self)
        _check_lr("max_lr", self.max_lr)
        _check_count("total_steps", self.total_steps)
        _check(0 <= self.pct_start <= 1,
               f"pct_start must be in [0, 1], got pct_start={self.pct_start!r}")
        _check(self.anneal_strategy in ("cos", "linear"),
               "anneal_strategy must be 'cos' or 'linear', "
               f"got anneal_strategy={self.anneal_strategy!r}")
        _check(self.div_factor > 0, f"div_factor must be > 0, got div_factor={self.div_factor!r}")
        _check(self.final_div_factor > 0,
               f"final_div_factor must be > 0, got final_div_factor={self.final_div_factor!r}")
        ends = [end for end, _, _ in self._phases()]
        _check(all(b > a for a, b in zip([0.0] + ends, ends)),
               f"pct_start={self.pct_start!r} with total_steps={self.total_steps!r} "
               "leaves an empty phase")

    def _phases(self):
        """(end_step, start_lr, end_lr) per phase, as torch lays them out."""
        initial_lr = self.max_lr / self.div_factor
        min_lr = initial_lr / self.final_div_factor
        warm_end = float(self.pct_start * self.total_steps) - 1
        if not self.three_phase:
            return [(warm_end, initial_lr, self.max_lr),
                    (self.total_steps - 1, self.max_lr, min_lr)]
        return [(warm_end, initial_lr, self.max_lr),
                (float(2 * self.pct_start * self.total_steps) - 2, self.max_lr, initial_lr),
                (self.total_steps - 1, initial_lr, min_lr)]

    def lr_at(self, step):
        _check(step <= self.total_steps,
               f"step must be <= total_steps={self.total_steps}, got step={step}")
        phases = self._phases()
        start_step = 0.0
        for i, (end_step, start_lr, end_lr) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                if self.anneal_strategy == "linear":
                    return (end_lr - start_lr) * pct + start_lr
                return end_lr + (start_lr - end_lr) / 2.0 * (math.cos(math.pi * pct) + 1)
            start_step = end_step


@dataclass(frozen=True)
class SequentialLR(Schedule):
    r"""Chain schedules: ``schedules[i]`` runs from ``milestones[i - 1]`` on.

    .. math:: \eta_t = s_i(t - m_{i-1}) \quad \text{for } m_{i-1} \le t < m_i

    where :math:`s_i` are ``schedules`` and :math:`m_i` are ``milestones``
    (with :math:`m_{-1} = 0`): each schedule restarts its own step count at
    its milestone, as in ``torch``'s ``SequentialLR``. There is one milestone
    fewer than schedules.

    >>> warmup_then_cosine = SequentialLR(
    ...     [LinearLR(lr=1.0, start_factor=0.5, total_iters=2), CosineAnnealingLR(lr=1.0, T_max=4)],
    ...     milestones=(2,))
    >>> [round(warmup_then_cosine(t), 3) for t in range(7)]
    [0.5, 0.75, 1.0, 0.854, 0.5, 0.146, 0.0]
    """

    schedules: tuple
    milestones: tuple

    def __post_init__(self):
        _check_field_types(self)
        schedules, milestones = tuple(self.schedules), tuple(self.milestones)
        _check(len(schedules) >= 1 and all(callable(s) for s in schedules),
               f"schedules must be a non-empty sequence of callables, got schedules={schedules!r}")
        _check(len(milestones) == len(schedules) - 1,
               f"milestones needs len(schedules) - 1 = {len(schedules) - 1} entries, "
               f"got milestones={milestones!r}")
        _check(list(milestones) == sorted(set(milestones))
               and all(_is_count(m) for m in milestones),
               f"milestones must be increasing positive integers, got milestones={milestones!r}")
        object.__setattr__(self, "schedules", schedules)
        object.__setattr__(self, "milestones", milestones)

    def lr_at(self, step):
        i = bisect_right(self.milestones, step)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedules[i](step - start)


def warmup_cosine(lr, warmup_steps, total_steps, *, start_factor=1.0 / 3, eta_min=0.0):
    r"""Linear warm-up for ``warmup_steps`` steps, then a cosine to ``eta_min``.

    The common recipe for training networks with Adam: :class:`LinearLR`
    from ``start_factor * lr`` up to ``lr`` chained (:class:`SequentialLR`)
    with :class:`CosineAnnealingLR` reaching ``eta_min`` at ``total_steps``.

    >>> schedule = warmup_cosine(lr=1.0, warmup_steps=2, total_steps=6, start_factor=0.5)
    >>> [round(schedule(t), 3) for t in range(7)]
    [0.5, 0.75, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    for name, value in (("warmup_steps", warmup_steps), ("total_steps", total_steps)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer, got {name}={value!r}")
    _check(0 < warmup_steps < total_steps,
           f"warmup_steps must be in [1, total_steps={total_steps}), "
           f"got warmup_steps={warmup_steps!r}")
    warmup = LinearLR(lr, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
    cosine = CosineAnnealingLR(lr, T_max=total_steps - warmup_steps, eta_min=eta_min)
    return SequentialLR((warmup, cosine), milestones=(warmup_steps,))
