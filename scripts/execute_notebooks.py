"""Execute the book's notebooks in parallel into Jupyter Book's execution cache.

Usage: ``python scripts/execute_notebooks.py [--cache _build/.jupyter_cache] NOTEBOOK.ipynb ...``

Jupyter Book 1.x (``execute_notebooks: cache``) executes notebooks one after another while it
builds. Running them first, one process per core, with jupyter-cache's own executor fills the same
cache; the build then finds every notebook already executed (the cache matches notebooks by a hash
of their code) and only renders. A notebook that raises fails this script, printing its traceback,
as it would fail the build.
"""

import argparse
import os
import sys

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

TIMEOUT_SECONDS = 600


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--cache", default="_build/.jupyter_cache",
                        help="Jupyter Book's cache folder (default: %(default)s)")
    args = parser.parse_args(argv)
    cache = get_cache(args.cache)
    records = [cache.add_nb_to_project(os.path.abspath(path)) for path in args.notebooks]
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_pks=[r.pk for r in records], timeout=TIMEOUT_SECONDS)
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
