"""Run strict nbval over every notebook as if on other CPUs: the stored outputs must hold on each.

Usage: ``make test-portable``, or ``python scripts/test_portable.py NOTEBOOK.ipynb ...``.

A reader's laptop computes with another BLAS kernel and another vector width than the machine
that stored the outputs, and every printed digit must still hold (see ``sgd_utils.report``).
This script imitates four CPU classes on one x86-64 machine, each run a full strict nbval:

- OpenBLAS's Haswell kernel (AVX2 + FMA) with NumPy's loops capped at X86_V3 (AVX2), one
  BLAS thread: a desktop CPU of the last decade;
- its SkylakeX kernel (AVX-512) with all of NumPy's loops, one thread: a server or recent CPU;
- its Sandybridge kernel (AVX, no FMA) with NumPy at its X86_V2 baseline, one thread: an old CPU,
  and the furthest from the others in summation order;
- the Haswell configuration with two BLAS threads, which split the sums differently again.

OpenBLAS reads ``OPENBLAS_CORETYPE`` and NumPy ``NPY_DISABLE_CPU_FEATURES`` at import, so each
run sets them for its notebook kernels only; nothing else in the project sets either. A kernel the
CPU cannot run (SkylakeX without AVX-512), or any run on a CPU that is not x86-64, is skipped with
the reason printed, not failed. Each run first checks that OpenBLAS really loaded the kernel asked
for, since an OpenBLAS built for one CPU ignores the variable.

Cells tagged ``real-processes`` (chapter 11's real workers) are skipped in these runs
(``SGD_BOOK_SKIP_REAL_PROCESSES``, read by ``tests/nbval_portable.py``). They start processes of
their own, print race and timing statistics that nbval does not compare, and a float64 rounding
bound with a margin of about a thousand; ``make nbval`` runs them once on the machine's own
kernel, and these four runs would only add about half a minute each.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# NumPy 2.4's dispatch targets above its X86_V2 baseline, from newest down.
NUMPY_TARGETS = ("AVX512_SPR", "AVX512_ICL", "X86_V4", "X86_V3")
NBVAL = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
         "-p", "no:cacheprovider", "-p", "tests.nbval_portable", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]


@dataclass(frozen=True)
class CpuClass:
    """One imitated machine: an OpenBLAS kernel, NumPy's widest loops and the BLAS threads."""

    name: str
    kernel: str                 # OPENBLAS_CORETYPE
    numpy_up_to: str | None     # the widest NumPy dispatch target left on; None: all
    threads: int
    needs: tuple                # /proc/cpuinfo flags the kernel executes

    def environment(self):
        env = dict(os.environ, OPENBLAS_CORETYPE=self.kernel,
                   OPENBLAS_NUM_THREADS=str(self.threads), OMP_NUM_THREADS=str(self.threads),
                   SGD_BOOK_SKIP_REAL_PROCESSES="1")
        if self.numpy_up_to is not None:
            above = NUMPY_TARGETS[:NUMPY_TARGETS.index(self.numpy_up_to)] if (
                self.numpy_up_to in NUMPY_TARGETS) else NUMPY_TARGETS
            env["NPY_DISABLE_CPU_FEATURES"] = " ".join(above)
        return env


CPU_CLASSES = (
    CpuClass("Haswell (AVX2), 1 thread", "Haswell", "X86_V3", 1, ("avx2", "fma")),
    CpuClass("SkylakeX (AVX-512), 1 thread", "SkylakeX", None, 1, ("avx512f", "avx512bw")),
    CpuClass("Sandybridge (AVX, no FMA), 1 thread", "Sandybridge", "X86_V2", 1, ("avx",)),
    CpuClass("Haswell (AVX2), 2 threads", "Haswell", "X86_V3", 2, ("avx2", "fma")),
)


def cpu_flags():
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def loaded_kernel(env):
    """The OpenBLAS kernel that NumPy loads under ``env``, as threadpoolctl reports it."""
    code = ("import json, numpy, threadpoolctl; print(json.dumps([i.get('architecture') for i in "
            "threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas']))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    kernels = json.loads(out)
    return kernels[0] if kernels else None


def skip_reason(cpu_class, flags):
    if platform.machine() not in ("x86_64", "AMD64"):
        return f"OpenBLAS's x86-64 kernels do not exist on {platform.machine()}"
    missing = [flag for flag in cpu_class.needs if flag not in flags]
    if missing:
        return f"this CPU lacks {', '.join(missing)}"
    kernel = loaded_kernel(cpu_class.environment())
    if kernel is None:
        return "NumPy does not use OpenBLAS here"
    if kernel.lower() != cpu_class.kernel.lower():
        return f"OpenBLAS ignored OPENBLAS_CORETYPE={cpu_class.kernel} (it loaded {kernel})"
    return None


def main(notebooks):
    if not notebooks:
        sys.exit("usage: test_portable.py NOTEBOOK.ipynb ...")
    flags, results, start = cpu_flags(), [], time.monotonic()
    for cpu_class in CPU_CLASSES:
        reason = skip_reason(cpu_class, flags)
        if reason:
            print(f"test_portable: SKIPPED {cpu_class.name}: {reason}", flush=True)
            results.append((cpu_class.name, "skipped"))
            continue
        print(f"test_portable: {cpu_class.name}", flush=True)
        run = subprocess.run([*NBVAL, *notebooks], env=cpu_class.environment(), cwd=ROOT)
        results.append((cpu_class.name, "passed" if run.returncode == 0 else "FAILED"))
    print(f"test_portable: {time.monotonic() - start:.0f} s")
    for name, verdict in results:
        print(f"    {verdict:8s} {name}")
    if any(verdict == "FAILED" for _, verdict in results):
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
