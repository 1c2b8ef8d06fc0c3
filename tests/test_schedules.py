"""Tests for sgd_utils.optim.schedules: closed forms written out here, and torch's schedulers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_utils.optim import schedules as S

NUM_STEPS = 100


def values(schedule, num_steps=NUM_STEPS):
    return np.array([schedule(t) for t in range(num_steps)])


# Each case: our schedule, the same maths written out independently, and a
# factory for the torch scheduler (given an optimizer whose lr is `base_lr`).
CASES = {
    "step": (S.StepLR(lr=0.5, step_size=7, gamma=0.3),
             lambda t: 0.5 * 0.3 ** math.floor(t / 7),
             lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3), 0.5),
    "multistep": (S.MultiStepLR(lr=0.5, milestones=[10, 30, 31, 80], gamma=0.5),
                  lambda t: 0.5 * 0.5 ** sum(t >= m for m in (10, 30, 31, 80)),
                  lambda torch, opt: torch.optim.lr_scheduler.MultiStepLR(
                      opt, [10, 30, 31, 80], gamma=0.5), 0.5),
    "exponential": (S.ExponentialLR(lr=0.2, gamma=0.95),
                    lambda t: 0.2 * math.exp(t * math.log(0.95)),
                    lambda torch, opt: torch.optim.lr_scheduler.ExponentialLR(
                        opt, gamma=0.95), 0.2),
    # T_max < NUM_STEPS: also checks the periodic continuation past T_max.
    "cosine": (S.CosineAnnealingLR(lr=0.1, T_max=40, eta_min=1e-3),
               lambda t: 1e-3 + (0.1 - 1e-3) * 0.5 * (1 + math.cos(math.pi * t / 40)),
               lambda torch, opt: torch.optim.lr_scheduler.CosineAnnealingLR(
                   opt, T_max=40, eta_min=1e-3), 0.1),
    "linear": (S.LinearLR(lr=0.1, start_factor=0.01, end_factor=0.8, total_iters=20),
               lambda t: 0.1 * (0.01 + (0.8 - 0.01) * min(t, 20) / 20),
               lambda torch, opt: torch.optim.lr_scheduler.LinearLR(
                   opt, 0.01, 0.8, total_iters=20), 0.1),
}


def one_cycle_formula(t, max_lr=0.3, total=100, pct=0.25):
    # Phase ends where torch puts them: pct*T - 1 and T - 1, cosine between.
    lo, end = max_lr / 25, max_lr / 25 / 1e4
    up_end, down_end = pct * total - 1, total - 1
    if t <= up_end:
        return max_lr + (lo - max_lr) * (1 + math.cos(math.pi * t / up_end)) / 2
    frac = (t - up_end) / (down_end - up_end)
    return end + (max_lr - end) * (1 + math.cos(math.pi * frac)) / 2


CASES["onecycle"] = (S.OneCycleLR(max_lr=0.3, total_steps=100, pct_start=0.25), one_cycle_formula,
                     lambda torch, opt: torch.optim.lr_scheduler.OneCycleLR(
                         opt, max_lr=0.3, total_steps=100, pct_start=0.25,
                         cycle_momentum=False), 0.3)


def warmup_cosine_formula(t):
    if t < 10:
        return 0.1 * (0.1 + 0.9 * t / 10)
    return 0.1 * 0.5 * (1 + math.cos(math.pi * (t - 10) / 90))


CASES["warmup_cosine"] = (
    S.warmup_cosine(lr=0.1, warmup_steps=10, total_steps=100, start_factor=0.1),
    warmup_cosine_formula,
    lambda torch, opt: torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=90)], milestones=[10]), 0.1)


@pytest.mark.parametrize("name", CASES)
def test_matches_closed_form_written_in_test(name):
    schedule, formula, _, _ = CASES[name]
    expected = np.array([formula(t) for t in range(NUM_STEPS)])
    np.testing.assert_allclose(values(schedule), expected, rtol=1e-12, atol=0)


def torch_lrs(make_scheduler, base_lr, num_steps=NUM_STEPS):
    """The lr torch uses for each of `num_steps` optimizer steps."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(torch, opt)
    lrs = []
    for _ in range(num_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_scheduler_at_every_step(name):
    schedule, _, make_torch, base_lr = CASES[name]
    # torch multiplies recursively; the closed form differs only by rounding.
    np.testing.assert_allclose(values(schedule), torch_lrs(make_torch, base_lr), rtol=1e-12,
                               atol=1e-17)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_variants_match_torch(three_phase, strategy):
    schedule = S.OneCycleLR(max_lr=1.0, total_steps=50, pct_start=0.2, anneal_strategy=strategy,
                            div_factor=10.0, final_div_factor=100.0, three_phase=three_phase)
    expected = torch_lrs(lambda torch, opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1.0, total_steps=50, pct_start=0.2, anneal_strategy=strategy, div_factor=10.0,
        final_div_factor=100.0, three_phase=three_phase, cycle_momentum=False), 1.0, num_steps=50)
    np.testing.assert_allclose(values(schedule, 50), expected, rtol=1e-12)


def test_inverse_time_formula_and_robbins_monro_conditions():
    schedule = S.InverseTime(a=2.0, b=5.0)
    np.testing.assert_allclose(values(schedule), [2.0 / (5.0 + t) for t in range(NUM_STEPS)],
                               rtol=1e-15)
    # power 0.75 sits inside the Robbins-Monro range (1/2, 1].
    root = S.InverseTime(a=1.0, b=1.0, power=0.75)
    assert root(15) == pytest.approx(16**-0.75)


def test_inverse_time_matches_torch_lambda_lr():
    expected = torch_lrs(
        lambda torch, opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 / (5.0 + t)), 2.0)
    np.testing.assert_allclose(values(S.InverseTime(a=2.0, b=5.0)), expected, rtol=1e-14)


def test_constant():
    assert values(S.Constant(0.01)).tolist() == [0.01] * NUM_STEPS


def test_schedules_return_python_floats():
    # A np.float64 lr would silently upcast float32 parameters.
    for schedule, *_ in CASES.values():
        assert type(schedule(3)) is float


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(1e-6, 10.0), t_max=st.integers(1, 500), step=st.integers(0, 500))
def test_cosine_stays_between_eta_min_and_lr(lr, t_max, step):
    eta_min = lr / 10
    value = S.CosineAnnealingLR(lr=lr, T_max=t_max, eta_min=eta_min)(step)
    assert eta_min * (1 - 1e-12) <= value <= lr * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(1e-3, 10.0), b=st.floats(1e-3, 100.0), step=st.integers(0, 10_000))
def test_inverse_time_is_decreasing(a, b, step):
    schedule = S.InverseTime(a=a, b=b)
    assert schedule(step + 1) < schedule(step)


@pytest.mark.parametrize("make, argument", [
    (lambda: S.Constant(lr=-0.1), "lr=-0.1"),
    (lambda: S.Constant(lr=float("nan")), "lr=nan"),
    (lambda: S.StepLR(lr=0.1, step_size=0), "step_size=0"),
    (lambda: S.MultiStepLR(lr=0.1, milestones=[1.5, 2]), "milestones=(1.5, 2)"),
    (lambda: S.StepLR(lr=0.1, step_size=3, gamma=0.0), "gamma=0.0"),
    (lambda: S.MultiStepLR(lr=0.1, milestones=[5, 2]), "milestones=(5, 2)"),
    (lambda: S.MultiStepLR(lr=0.1, milestones=[0, 2]), "milestones=(0, 2)"),
    (lambda: S.ExponentialLR(lr=0.1, gamma=-0.5), "gamma=-0.5"),
    (lambda: S.CosineAnnealingLR(lr=0.1, T_max=0), "T_max=0"),
    (lambda: S.CosineAnnealingLR(lr=0.1, T_max=10, eta_min=-1.0), "eta_min=-1.0"),
    (lambda: S.LinearLR(lr=0.1, start_factor=0.0), "start_factor=0.0"),
    (lambda: S.LinearLR(lr=0.1, end_factor=1.5), "end_factor=1.5"),
    (lambda: S.LinearLR(lr=0.1, total_iters=0), "total_iters=0"),
    (lambda: S.InverseTime(a=0.0, b=1.0), "a=0.0"),
    (lambda: S.InverseTime(a=1.0, b=0.0), "b=0.0"),
    (lambda: S.InverseTime(a=1.0, b=1.0, power=0), "power=0"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=0), "total_steps=0"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, pct_start=1.5), "pct_start=1.5"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, pct_start=0.1), "pct_start=0.1"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     "anneal_strategy='exp'"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, div_factor=0), "div_factor=0"),
    (lambda: S.SequentialLR([S.Constant(0.1), S.Constant(0.2)], milestones=[]), "milestones=()"),
    (lambda: S.SequentialLR([S.Constant(0.1), S.Constant(0.2)], milestones=[0]), "milestones=(0,)"),
    (lambda: S.SequentialLR([], milestones=[]), "schedules=()"),
    (lambda: S.warmup_cosine(lr=0.1, warmup_steps=10, total_steps=10), "warmup_steps=10"),
])
def test_bad_arguments_raise_value_error_naming_them(make, argument):
    with pytest.raises(ValueError, match=argument.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("make, argument", [
    (lambda: S.StepLR(lr=0.1, step_size=2.5), "step_size=2.5"),
    (lambda: S.CosineAnnealingLR(lr=0.1, T_max=10.0), "T_max=10.0"),
    (lambda: S.Constant(lr="0.1"), "lr='0.1'"),
    (lambda: S.Constant(lr=True), "lr=True"),
    (lambda: S.StepLR(lr=0.1, step_size=3, gamma="0.5"), "gamma='0.5'"),
    (lambda: S.ExponentialLR(lr=0.1, gamma=None), "gamma=None"),
    (lambda: S.LinearLR(lr=0.1, total_iters="5"), "total_iters='5'"),
    (lambda: S.InverseTime(a=1.0, b="10"), "b='10'"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, three_phase="False"),
     "three_phase='False'"),
    (lambda: S.OneCycleLR(max_lr=1.0, total_steps=10, anneal_strategy=1), "anneal_strategy=1"),
    (lambda: S.warmup_cosine(lr=0.1, warmup_steps="10", total_steps=100), "warmup_steps='10'"),
])
def test_arguments_of_the_wrong_type_raise_type_error_naming_them(make, argument):
    with pytest.raises(TypeError, match=argument.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("make", [lambda: S.Constant(lr=float("inf")),
                                  lambda: S.StepLR(lr=0.1, step_size=2, gamma=float("inf"))])
def test_infinite_arguments_are_refused(make):
    with pytest.raises(ValueError, match="must be finite"):
        make()


@pytest.mark.parametrize("schedule, step", [
    (S.ExponentialLR(lr=1.0, gamma=10.0), 400),           # 10^400: OverflowError in Python
    (S.StepLR(lr=1e300, step_size=1, gamma=10.0), 9),      # 1e309: inf
])
def test_overflow_is_a_value_error_naming_the_schedule_and_step(schedule, step):
    assert math.isfinite(schedule(1))
    with pytest.raises(ValueError, match=f"{type(schedule).__name__}.*step {step}"):
        schedule(step)


def test_bad_steps():
    with pytest.raises(ValueError, match="step=-1"):
        S.Constant(0.1)(-1)
    with pytest.raises(TypeError):
        S.Constant(0.1)(1.5)
    with pytest.raises(ValueError, match="step=11"):
        S.OneCycleLR(max_lr=1.0, total_steps=10)(11)
    assert S.Constant(0.1)(np.int64(3)) == 0.1
