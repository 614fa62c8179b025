# make lab      set up (first time) and open the learner's edition in JupyterLab
# make test     set up (first time) and run every test: lint, unit tests, notebooks, browser
# make html     build site/: every lesson executed, as HTML pages that open offline (site/index.html)
# make hub      a local JupyterHub for a trial class (docs/teaching.md)
# make learner  regenerate the learner's edition (notebooks/learner/) from the complete lessons;
#               it refuses to replace notebooks a learner edited unless FORCE=1 (then it keeps a backup)
# make readme   rewrite the README's course table from the course's manifest (mathnn/course.toml)
# make compat   the course as a learner installs it (a wheel, `mathnn lab`) and on the versions pyproject.toml claims
# All reuse .venv; it is rebuilt only when pyproject.toml changes. The scripts they run live in tools/; the lessons
# they handle are those mathnn/course.toml lists (the globs below match exactly those: tests/test_manifest.py checks it).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8888
NBGRADER_SERVER_EXTENSIONS := $(addprefix nbgrader.server_extensions.,formgrader assignment_list course_list \
	validate_assignment)

.PHONY: lab test lint unit notebooks notebooks-1-thread compat compat-dist compat-wheel compat-minimums browser html hub \
	strip learner readme bench install clean

# Jupyter kernels run in notebooks/, so a relative MATHNN_DATA (MATHNN_DATA=../shared/mnist make test)
# would point elsewhere there: pass it on as an absolute path.
ifdef MATHNN_DATA
export MATHNN_DATA := $(abspath $(MATHNN_DATA))
endif

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,dev,torch,hub]"
	@# nbgrader (which makes the learner's edition) brings a grading UI that a learner doesn't need: off
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader
	$(BIN)/jupyter server extension disable --sys-prefix $(NBGRADER_SERVER_EXTENSIONS)
	touch $@

install: $(STAMP)

# served on 127.0.0.1 only, with a token (printed in the URL); --allow-root only for root
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/learner/00_data.ipynb

test: lint unit notebooks notebooks-1-thread html browser compat

# Every checker a lesson runs records the verdict in a progress file (mathnn/check/progress.py): the tests keep
# theirs in build/, never in the progress file of whoever runs them.
test unit notebooks notebooks-1-thread html browser compat-wheel compat-minimums: \
	export MATHNN_PROGRESS = $(abspath build/test-progress.json)

lint: $(STAMP)
	$(BIN)/ruff check .

# Unit tests, two processes at a time (mathnn's training loop runs its BLAS on one thread).
unit: $(STAMP)
	$(BIN)/pytest -n 2 -m "not browser" tests

# Every notebook of both editions (notebooks/ and notebooks/learner/) under nbval in a fresh kernel,
# one after another, with the machine's default number of BLAS threads, as a learner runs them.
notebooks: $(STAMP)
	$(BIN)/pytest --nbval-lax --nbval-current-env notebooks

# The complete lessons again with one BLAS thread (two notebooks at a time): a lesson's claims must
# not depend on how a learner's BLAS splits its sums. (The learner's edition runs the same code.)
# MATHNN_CHECK_STRICT: a complete lesson's own solution that fails its checker is an error here.
notebooks-1-thread: $(STAMP)
	MATHNN_CHECK_STRICT=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env \
		notebooks/*.ipynb

# The course as a learner installs it, and on the versions pyproject.toml claims. Each run has a fresh virtual
# environment in $(COMPAT) and its own per-user cache there (XDG_CACHE_HOME: MNIST's copies, trained networks).
COMPAT ?= build/compat
# python3.13 / python3.11 from the PATH, or else pyenv's latest 3.13 / 3.11 (whose shims run only selected versions)
find_python = $(shell if python$(1) -c '' 2>/dev/null; then echo python$(1); \
	elif command -v pyenv >/dev/null && prefix=$$(pyenv prefix "$$(pyenv latest $(1))" 2>/dev/null); then \
	echo "$$prefix/bin/python$(1)"; else echo python$(1); fi)
NEWEST_PYTHON ?= $(call find_python,3.13)
OLDEST_PYTHON ?= $(call find_python,3.11)
MNIST_SOURCE = $(or $(MATHNN_DATA),$(abspath data))
NBVAL := -c /dev/null --rootdir=. -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -n 2 --dist loadfile
# quiets ipykernel 6's debugger warning about frozen modules, printed by every kernel
COMPAT_ENV := PYDEVD_DISABLE_FILE_VALIDATION=1

# run in notebooks/, the kernels' working folder for the complete lessons: their mathnn is the installed wheel's
FROM_WHEEL := import mathnn.locations as d; assert not d.SOURCE_CHECKOUT, f'mathnn comes from {d.CHECKOUT}, not the wheel'

compat: compat-wheel compat-minimums

# a wheel built from this checkout (setup.py puts the learner's edition and notation.md into it)
compat-dist: $(STAMP)
	rm -rf $(COMPAT)/dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(COMPAT)/dist .

# The wheel in a bare venv on the newest Python with the newest releases: `mathnn lab DIR --copy-only` there, then the
# learner's edition in DIR under nbval as a learner outside the repository has it (MNIST from the per-user cache, no
# MATHNN_DATA; lesson 04's network saved in the per-user place), then the complete lessons. There is no PyTorch:
# the only torch wheel for Python 3.13 that pip finds here is PyPI's CUDA build (500 MB, and GBs of CUDA libraries;
# the CPU wheel in /opt/wheels is for Python 3.11), so lesson 09 runs without its section 5, which says "skipped";
# section 5 runs in `notebooks` and `compat-minimums` (Python 3.11, torch's CPU wheel).
compat-wheel: compat-dist
	rm -rf $(COMPAT)/wheel && mkdir -p $(COMPAT)/wheel/cache/mathnn
	$(NEWEST_PYTHON) -m venv $(COMPAT)/wheel/venv
	$(COMPAT)/wheel/venv/bin/python -m pip install --quiet "$$(echo $(COMPAT)/dist/mathnn-*.whl)[notebooks]"
	cd $(COMPAT)/wheel && venv/bin/mathnn lab course --copy-only
	$(COMPAT)/wheel/venv/bin/python -m pip install --quiet pytest pytest-xdist nbval
	for gz in $(wildcard $(MNIST_SOURCE)/*-ubyte.gz); do cp $$gz $(COMPAT)/wheel/cache/mathnn/; done
	cd $(COMPAT)/wheel && env -u MATHNN_DATA XDG_CACHE_HOME=$(abspath $(COMPAT))/wheel/cache $(COMPAT_ENV) \
		venv/bin/pytest $(NBVAL) course/learner
	test -f $(COMPAT)/wheel/cache/mathnn/trained/784-10-10.npz  # lesson 04 saved its network in the per-user place
	@$(COMPAT)/wheel/venv/bin/python -c "import importlib.util, platform; importlib.util.find_spec('torch') or \
		print(f'NOTE: no PyTorch on Python {platform.python_version()} (no CPU wheel of it here): lesson 09 runs' \
		      ' without its section 5, whose cells print skipped; section 5 runs on Python 3.11 (compat-minimums)')"
	cd notebooks && $(abspath $(COMPAT))/wheel/venv/bin/python -c "$(FROM_WHEEL)"
	XDG_CACHE_HOME=$(abspath $(COMPAT))/wheel/cache MATHNN_CHECK_STRICT=1 $(COMPAT_ENV) \
		$(COMPAT)/wheel/venv/bin/pytest $(NBVAL) notebooks/[0-9]*.ipynb

# The complete lessons on the oldest Python pyproject.toml allows, with the package, JupyterLab, the widgets and
# PyTorch, and pytest/nbval, at the lowest versions pyproject.toml declares (.ci/minimums.py reads them).
compat-minimums: compat-dist
	rm -rf $(COMPAT)/minimums && mkdir -p $(COMPAT)/minimums/cache
	$(BIN)/python .ci/minimums.py > $(COMPAT)/minimums/constraints.txt
	$(OLDEST_PYTHON) -m venv $(COMPAT)/minimums/venv
	$(COMPAT)/minimums/venv/bin/python -m pip install --quiet -c $(COMPAT)/minimums/constraints.txt \
		"$$(echo $(COMPAT)/dist/mathnn-*.whl)[notebooks,torch]" pytest pytest-xdist nbval
	$(COMPAT)/minimums/venv/bin/python -m pip list --format=freeze \
		| grep -i -E "^($$(cut -d= -f1 $(COMPAT)/minimums/constraints.txt | paste -sd'|' -))=="
	cd notebooks && $(abspath $(COMPAT))/minimums/venv/bin/python -c "$(FROM_WHEEL)"
	XDG_CACHE_HOME=$(abspath $(COMPAT))/minimums/cache MATHNN_CHECK_STRICT=1 $(COMPAT_ENV) \
		$(COMPAT)/minimums/venv/bin/pytest $(NBVAL) notebooks/[0-9]*.ipynb

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

# The course as an offline HTML site in site/: the complete lessons executed, MathJax local, widgets as images
# (the browser tests open every page from disk with every other request refused)
html: $(STAMP)
	$(BIN)/python tools/build_site.py

# the complete lessons only: the learner's edition is generated stripped, and is the learner's to edit
strip: $(STAMP)
	$(BIN)/nbstripout --extra-keys "metadata.widgets" notebooks/*.ipynb

learner: $(STAMP)
	$(BIN)/python tools/make_learner_edition.py $(if $(filter 1 yes true YES TRUE True Yes,$(FORCE)),--force,$(if $(filter-out 0 no false NO FALSE False No,$(FORCE)),$(error FORCE=$(FORCE) is neither yes (1, yes, true) nor no (0, no, false): use FORCE=1 to replace edited notebooks (a backup is kept), or leave FORCE out)))

readme: $(STAMP)
	$(BIN)/python tools/readme_table.py

HUB_DIR ?= build/hub
HUB_PORT ?= 8000
HUB_MNIST_SOURCE = $(or $(MATHNN_DATA),$(abspath data))

# JupyterHub for a local trial (deploy/jupyterhub_config.py, docs/teaching.md), in the foreground on
# http://127.0.0.1:$(HUB_PORT): learners learner1..3 and the instructor "instructor" (who reads the class view at
# /services/classview/), the password printed in the log (or MATHNN_HUB_PASSWORD). It takes the ports HUB_PORT to
# HUB_PORT+3 (public, hub API, proxy API, class view) and keeps its state (database, homes, verdicts) in
# $(HUB_DIR)/port-$(HUB_PORT): `make hub HUB_PORT=18000` runs beside a hub on 8000.
# Its shared MNIST folder $(HUB_DIR)/mnist links to the .gz files of MATHNN_DATA or data/ (downloaded if there
# are none) and holds the decompressed copies every kernel maps (then read-only). Ctrl+C stops the hub and its servers.
hub: $(STAMP)
	mkdir -p $(HUB_DIR)/mnist && chmod u+w $(HUB_DIR)/mnist
	for gz in $(wildcard $(HUB_MNIST_SOURCE)/*-ubyte.gz); do ln -sf $$gz $(HUB_DIR)/mnist/; done
	$(BIN)/python -m mathnn data prepare $(abspath $(HUB_DIR))/mnist
	chmod -R a-w $(HUB_DIR)/mnist  # read-only, as a class's shared folder is
	GIT_AUTHOR_NAME=mathnn GIT_AUTHOR_EMAIL=mathnn@localhost GIT_COMMITTER_NAME=mathnn \
		GIT_COMMITTER_EMAIL=mathnn@localhost $(BIN)/python deploy/class_repo.py $(HUB_DIR)/mathnn-class
	MATHNN_HUB_DIR=$(abspath $(HUB_DIR))/port-$(HUB_PORT) MATHNN_CLASS_REPO=$(abspath $(HUB_DIR))/mathnn-class \
		MATHNN_DATA=$(abspath $(HUB_DIR))/mnist MATHNN_HUB_PORT=$(HUB_PORT) $(BIN)/jupyterhub -f deploy/jupyterhub_config.py

bench: $(STAMP)
	$(BIN)/python -m mathnn bench

clean:
	if [ -d build ]; then chmod -R u+w build; fi  # make hub leaves its MNIST folder read-only
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts site build
