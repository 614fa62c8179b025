# make lab   set up (first time) and open the course in JupyterLab
# make test  set up (first time) and run every test: lint, unit tests, notebooks, browser
# Both reuse .venv; it is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8888

.PHONY: lab test lint unit notebooks notebooks-1-thread browser strip bench install clean

# Jupyter kernels run in notebooks/, so a relative MATHNN_DATA (MATHNN_DATA=../shared/mnist make test)
# would point elsewhere there: pass it on as an absolute path.
ifdef MATHNN_DATA
export MATHNN_DATA := $(abspath $(MATHNN_DATA))
endif

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,dev,torch]"
	touch $@

install: $(STAMP)

# served on 127.0.0.1 only, with a token (printed in the URL); --allow-root only for root
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		$(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_data.ipynb

test: lint unit notebooks notebooks-1-thread browser

lint: $(STAMP)
	$(BIN)/ruff check .

# Unit tests, two processes at a time (mathnn's training loop runs its BLAS on one thread).
unit: $(STAMP)
	$(BIN)/pytest -n 2 -m "not browser" tests

# Every notebook under nbval in a fresh kernel, one after another, with the machine's default
# number of BLAS threads, as a learner runs them.
notebooks: $(STAMP)
	$(BIN)/pytest --nbval-lax --nbval-current-env notebooks

# The series again with one BLAS thread (two notebooks at a time): a lesson's claims must not
# depend on how a learner's BLAS splits its sums.
notebooks-1-thread: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env notebooks

# JupyterLab in headless Chromium; skipped, saying so, when Chromium is missing
# (unless MATHNN_REQUIRE_BROWSER=1, as in CI, where that is a failure)
browser: $(STAMP)
	@if [ -x "$(CHROMIUM)" ]; then \
		MATHNN_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -m browser tests; \
	elif [ -n "$$MATHNN_REQUIRE_BROWSER" ] && [ "$$MATHNN_REQUIRE_BROWSER" != 0 ]; then \
		echo "browser tests need Chromium at $(CHROMIUM) (apt-get install -y chromium)"; exit 1; \
	else \
		echo "SKIPPED the browser tests: no Chromium at $(CHROMIUM) (apt-get install -y chromium to run them)"; \
	fi

strip: $(STAMP)
	$(BIN)/nbstripout --extra-keys "metadata.widgets" notebooks/*.ipynb

bench: $(STAMP)
	$(BIN)/python -m mathnn bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
