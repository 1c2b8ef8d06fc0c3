"""Execute the book's notebooks in parallel into Jupyter Book's execution cache.

Usage: ``python scripts/execute_notebooks.py [--cache _build/.jupyter_cache] NOTEBOOK.ipynb ...``

Jupyter Book 1.x (``execute_notebooks: cache``) executes notebooks one after another while it
builds. Running them first, one process per core, with jupyter-cache's own executor fills the same
cache; the build then finds every notebook already executed (the cache matches notebooks by a hash
of their code) and only renders. A notebook that raises fails this script, printing its traceback,
as it would fail the build.

Notebooks start in the order given, one at a time as a core frees up: the Makefile lists the
slowest (chapters 7 and 11) first, so that no long notebook starts last and runs alone.
jupyter-cache's own pool hands out notebooks two at a time in file order, which had chapter 8
wait for chapter 7 and then run alone for its last 44 s.

Each notebook's kernel runs BLAS and OpenMP on one thread (unless the environment says
otherwise): the notebooks already keep every core busy, one each, and chapter 7 draws in two
forked processes besides; a second BLAS thread then only waits for a core, spinning. With it,
chapter 6 took 30 s in the build instead of 6 s, and all the notebooks 465 s of work instead of
423 s. The training loops limit BLAS to one thread themselves (``sgd_utils.threads``); this covers
everything else (gradient checks, contours, the replicas of chapter 11). The stored outputs hold on
one thread too: ``make test-portable`` checks them with one.
"""

import argparse
import multiprocessing
import os
import sys

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from jupyter_cache.executors.base import ExecutorRunResult
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

TIMEOUT_SECONDS = 600
# One thread each for the BLAS and OpenMP pools of every kernel (see the docstring).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _one_thread_each():
    """In a worker of the pool, before it starts a kernel (which inherits its environment): one
    BLAS and OpenMP thread, unless the environment chose a number."""
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--cache", default="_build/.jupyter_cache",
                        help="Jupyter Book's cache folder (default: %(default)s)")
    args = parser.parse_args(argv)
    cache = get_cache(args.cache)
    records = [cache.add_nb_to_project(os.path.abspath(path)) for path in args.notebooks]
    executor = load_executor("local-parallel", cache=cache)
    # the notebooks whose code is not in the cache yet, in the order given
    stale = {r.pk for r in executor.get_records(filter_pks=[r.pk for r in records],
                                                 clear_tracebacks=True)}
    work = [ProcessData(r.pk, r.uri, cache, TIMEOUT_SECONDS, False)
            for r in records if r.pk in stale]
    with multiprocessing.Pool(min(os.cpu_count() or 1, max(len(work), 1)),
                              initializer=_one_thread_each) as pool:
        outcomes = list(pool.imap_unordered(ExecutionWorkerLocalMProc(), work, chunksize=1))
    result = ExecutorRunResult(succeeded=[uri for code, uri in outcomes if code == 0],
                               excepted=[uri for code, uri in outcomes if code == 1],
                               errored=[uri for code, uri in outcomes if code == 2])
    for uri in result.succeeded:
        print(f"execute_notebooks: executed {os.path.relpath(uri)}")
    # jupyter-cache files a notebook whose cell raised under "excepted", and one it could not
    # start under "errored": either fails the build
    failed = set(result.excepted) | set(result.errored)
    for record in records:
        if record.uri in failed:
            print(f"execute_notebooks: FAILED {os.path.relpath(record.uri)}\n"
                  f"{cache.get_project_record(record.pk).traceback}", file=sys.stderr)
    if failed:
        sys.exit(f"execute_notebooks: {len(failed)} notebook(s) failed")
    print(f"execute_notebooks: {len(result.succeeded)} executed, "
          f"{len(records) - len(result.succeeded)} already cached")


if __name__ == "__main__":
    main()
