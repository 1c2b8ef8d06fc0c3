"""Speed of one MNIST-sized training epoch: sgd_utils.nn.train.fit against PyTorch CPU.

For the networks 784-128-10 and 784-256-128-10 and batch sizes 1, 10, 32, 128, 512, one
epoch over 60,000 random MNIST-shaped float32 samples with SGD (lr 0.01, momentum 0.9), on
ONE BLAS thread, timed for ``fit`` and for a plain PyTorch loop (``nn.Linear``,
``F.cross_entropy``, ``torch.optim.SGD``) on the same batches in the same process.

Printed per configuration: our time, torch's time and their ratio (targets: <= 0.5 at batch
<= 32, <= 0.8 at batch >= 128), and our time over the *FLOP time*: the forward and backward
FLOPs of the epoch divided by the float32 GEMM peak measured here with a large ``np.matmul``
(target at batch 128: <= 1.5). The *fixed per-step overhead* is our time per step at batch 1
minus that step's FLOP time (target < 150 us). The *floor* column is the FLOP time over torch's
time: the ratio an implementation would reach if it did nothing but its GEMMs, all at the peak,
so a target below the floor cannot be met by any implementation of the same algorithm on this
machine, and one just above it only by one with almost no time outside GEMMs. Without torch,
only our columns are printed.

``fit`` with ``SGD``'s default takes the fused momentum path (``sgd_utils.optim.fused_sgd``:
gradients added straight into the momentum buffers by BLAS); ``--no-fused`` times
``SGD(..., fused=False)``, backprop then ``optimizer.step``, instead.

Last, a per-step breakdown on a fixed batch: backprop (``MLP.loss_and_grads_unchecked``),
``sgd_utils.optim.SGD.step``, a bare in-place momentum step (four ufunc calls per array) as a
reference for what a separate optimizer step costs at least with NumPy, and the whole fused
step (backprop and update together). A step of ``fit`` also gathers its batch from rows
scattered over the data set (cache misses the fixed batch avoids).

The header names the OpenBLAS kernel NumPy and SciPy loaded: OpenBLAS picks it by CPU model and
the environment variable ``OPENBLAS_CORETYPE`` overrides the choice (nothing in the project sets
it). On a CPU with full-width AVX-512 the AVX2 kernel (Haswell) has half the GEMM peak of the
AVX-512 one (SkylakeX): about 120 against 230 GFLOP/s on the machine of 2026-11-30. On one that runs
AVX-512 at half width, as the README's machine of 2026-12-04, both reach about 105.

Times are process CPU times by default (``--clock wall`` for elapsed time): both sides run
on one thread, so on an idle machine the two agree, and on a shared one CPU time leaves out
the slices other processes take.

Usage: ``python benchmarks/bench_mlp.py [--quick] [--repeat N] [--clock {cpu,wall}] [--no-fused]``.
"""
import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy/torch load their BLAS: one thread, as specified

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sgd_utils.nn.mlp import MLP  # noqa: E402
from sgd_utils.optim import SGD  # noqa: E402
from sgd_utils.nn.train import fit  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
except ImportError:  # torch is an optional benchmark dependency
    torch = None

NETWORKS = ([784, 128, 10], [784, 256, 128, 10])
BATCH_SIZES = (1, 10, 32, 128, 512)
LR, MOMENTUM, SEED = 0.01, 0.9, 0


def gemm_peak_flops(n=2048, repeats=5):
    """Best float32 FLOP/s of an n x n matmul on this thread (2 n^3 FLOPs per product)."""
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    C = np.empty_like(A)
    np.matmul(A, B, out=C)  # warm up
    best = min(_timed(lambda: np.matmul(A, B, out=C)) for _ in range(repeats))
    return 2 * n**3 / best


def training_flops_per_sample(sizes):
    """Forward 2 m n per layer, backward 2 m n for dW and 2 m n for dX except at layer 1."""
    products = [m * n for m, n in zip(sizes[:-1], sizes[1:])]
    return 2 * (3 * sum(products) - products[0])


def blas_kernels():
    """The OpenBLAS kernels loaded (NumPy's and SciPy's libraries), e.g. ``{'Haswell'}``."""
    return {info.get("architecture", "?") for info in threadpool_info()
            if info.get("internal_api") == "openblas"}


def cpu_has_avx512():
    """True if /proc/cpuinfo lists AVX-512 Foundation (False where there is no such file)."""
    cpuinfo = Path("/proc/cpuinfo")
    return cpuinfo.exists() and " avx512f " in cpuinfo.read_text().replace("\n", " ")


def kernel_report():
    """One line: the OpenBLAS kernel, and whether it leaves the CPU's AVX-512 unused."""
    kernels, avx512 = blas_kernels(), cpu_has_avx512()
    line = f"OpenBLAS kernel: {', '.join(sorted(kernels)) or 'none found'}; CPU " + (
        "with AVX-512" if avx512 else "without AVX-512")
    if avx512 and not kernels & {"SkylakeX", "Cooperlake", "SapphireRapids"}:
        line += (f" unused: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r} in "
                 "the environment, SkylakeX would use it")
    return line


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]
fused = None  # SGD's default: fused where it applies; --no-fused sets False


def _timed(run):
    start = clock()
    run()
    return clock() - start


def time_ours(sizes, X, y, batch_size):
    model = MLP(sizes, "relu", init="he", seed=SEED)
    optimizer = SGD(model.params, lr=LR, momentum=MOMENTUM, fused=fused)
    return _timed(lambda: fit(model, optimizer, X, y, epochs=1, batch_size=batch_size,
                              seed=SEED, progress=False, eval_train=False))


def time_torch(sizes, X, y, batch_size):
    """The plain loop a PyTorch user writes, on the batches ``fit`` draws with the same seed."""
    torch.manual_seed(SEED)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(SEED).permutation(len(y)))

    def epoch():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = F.cross_entropy(model(X_t[rows]), y_t[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return _timed(epoch)


def inplace_momentum_step(params, grads, buffers, scratch):
    """Reference for the optimizer's share: torch's SGD momentum update with no allocation."""
    for param, grad, buffer, tmp in zip(params, grads, buffers, scratch):
        np.multiply(buffer, MOMENTUM, out=buffer)
        np.add(buffer, grad, out=buffer)
        np.multiply(buffer, LR, out=tmp)
        np.subtract(param, tmp, out=param)


def step_breakdown(sizes, X, y, batch_size, num_steps, repeats):
    """Microseconds per step in backprop, ``SGD.step``, an in-place reference step, and the
    fused step (backprop and update)."""
    model = MLP(sizes, seed=SEED)
    optimizer = SGD(model.params, lr=LR, momentum=MOMENTUM)
    grads = [np.empty_like(p) for p in model.params]
    buffers, scratch = [np.zeros_like(p) for p in grads], [np.empty_like(p) for p in grads]
    X_batch, y_batch = np.ascontiguousarray(X[:batch_size]), y[:batch_size]
    fused_model = MLP(sizes, seed=SEED)
    fused_optimizer = SGD(fused_model.params, lr=LR, momentum=MOMENTUM, fused=True)
    parts = (lambda: model.loss_and_grads_unchecked(X_batch, y_batch, grads),
             lambda: optimizer.step(grads),
             lambda: inplace_momentum_step(model.params, grads, buffers, scratch),
             lambda: fused_optimizer.train_step(fused_model, X_batch, y_batch))
    best = [min(_timed(lambda: [part() for _ in range(num_steps)]) for _ in range(repeats))
            for part in parts]  # best of repeats: the machine is shared
    return [1e6 * t / num_steps for t in best]


def print_row(name, batch_size, ours, theirs, steps, flop_time):
    target = 0.5 if batch_size <= 32 else 0.8
    ratio = ours / theirs if theirs else None
    verdict = "" if ratio is None else ("ok" if ratio <= target else "MISS")
    print(f"{name:>16} {batch_size:>5} {ours:8.3f} "
          + (f"{theirs:8.3f} {ratio:6.2f} {target:6.2f} {verdict:>4} {flop_time / theirs:6.2f}"
             if theirs else f"{'-':>8} {'-':>6} {target:6.2f} {'':>4} {'-':>6}")
          + f" {1e6 * ours / steps:8.1f} {ours / flop_time:6.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 samples (CI smoke run)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of N timings, ours and torch's interleaved (default 1)")
    parser.add_argument("--no-fused", action="store_true",
                        help="time SGD(..., fused=False): backprop, then optimizer.step")
    parser.add_argument("--clock", choices=CLOCKS, default="cpu",
                        help="cpu: process CPU time (default; robust on a shared machine), "
                             "wall: elapsed time")
    args = parser.parse_args(argv)
    global clock, fused
    clock, fused = CLOCKS[args.clock], (False if args.no_fused else None)
    num_samples = 3_000 if args.quick else 60_000
    rng = np.random.default_rng(SEED)
    X = rng.random((num_samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, num_samples)
    peak = gemm_peak_flops()
    print(f"float32 GEMM peak, 1 thread: {peak / 1e9:.1f} GFLOP/s; {num_samples} samples, "
          f"best of {args.repeat}, {args.clock} time; "
          f"SGD {'not fused' if fused is False else 'fused'}; "
          f"torch {torch.__version__ if torch else 'not installed'}")
    print(kernel_report())
    print(f"{'network':>16} {'batch':>5} {'ours s':>8} {'torch s':>8} {'ratio':>6} {'target':>6}"
          f" {'':>4} {'floor':>6} {'us/step':>8} {'/FLOP':>6}")
    overheads, flop_ratios = {}, {}
    for sizes in NETWORKS:
        name = "-".join(map(str, sizes))
        for batch_size in BATCH_SIZES:
            ours, theirs = float("inf"), float("inf") if torch else None
            for _ in range(args.repeat):
                ours = min(ours, time_ours(sizes, X, y, batch_size))
                if torch:
                    theirs = min(theirs, time_torch(sizes, X, y, batch_size))
            steps = -(-num_samples // batch_size)
            flop_time = num_samples * training_flops_per_sample(sizes) / peak
            flop_ratios[name, batch_size] = ours / flop_time
            if batch_size == 1:
                overheads[name] = 1e6 * (ours - flop_time) / steps
            print_row(name, batch_size, ours, theirs, steps, flop_time)
    for name, overhead in overheads.items():
        print(f"{name}: fixed overhead per step at batch 1 = {overhead:.1f} us (target < 150); "
              f"time / FLOP time at batch 128 = {flop_ratios[name, 128]:.2f} (target <= 1.5)")
    num_steps, repeats = (30, 2) if args.quick else (300, 10)
    print(f"per step (best of {repeats} x {num_steps}): backprop | optimizer.step | "
          "in-place reference step | fused backprop and step")
    for sizes in NETWORKS:
        for batch_size in (1, 10, 128):
            backprop, stepping, reference, fused_total = step_breakdown(
                sizes, X, y, batch_size, num_steps, repeats)
            print(f"{'-'.join(map(str, sizes)):>16} {batch_size:>5}: {backprop:8.1f} us "
                  f"{stepping:8.1f} us {reference:8.1f} us {fused_total:8.1f} us")


if __name__ == "__main__":
    main()
