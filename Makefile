# The two commands: `make site` and `make test`. Both create .venv from the pinned
# requirements.lock when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REFERENCE := docs/reference
KATEX := docs/assets/katex
# Quiet TensorFlow's start-up chatter; tests pin the backend they use.
export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND := tensorflow
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup backends generate assets browser site test test-main test-backends bench lint notebooks golden clean

# Packages are installed by uv (pinned below), which downloads and unpacks in parallel:
# from an empty cache it installs everything in 48 s where pip took 83 s. uv reads no pip
# configuration, so it is handed the find-links folder pip is configured with, where the
# CPU build of torch lies on these machines. Modules are compiled at install
# (--compile-bytecode): where PYTHONDONTWRITEBYTECODE is set, as here, every process would
# otherwise compile what it imports (make test took 70 s longer without it).
UV_VERSION := 0.13.8
FIND_LINKS := $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
INSTALL := UV_LINK_MODE=copy $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode $(addprefix --find-links ,$(FIND_LINKS))

# uv first, in the venv (a venv made before uv was used gets it too)
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): requirements.lock pyproject.toml | $(BIN)/uv
	$(INSTALL) -r requirements.lock
	$(INSTALL) --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## backends: the JAX and PyTorch CPU builds, added to .venv (requirements-backends.lock), and
## the libraries the peer tests compare with (requirements-peers.lock: the PyTorch ones, and
## KerasCV and Keras Recommenders)
BACKENDS_STAMP := $(VENV)/.backends
$(BACKENDS_STAMP): $(STAMP) requirements-backends.lock requirements-peers.lock
	$(INSTALL) -r requirements.lock -r requirements-backends.lock -r requirements-peers.lock
	touch $(BACKENDS_STAMP)

backends: $(BACKENDS_STAMP)

## generate: render every spec of specs/ into docs/reference (pages + modules), and the
## performance page from the committed benchmarks/results.json
generate: setup
	$(BIN)/lossgen build --plots --measurements benchmarks/results.json --out $(REFERENCE)
	$(BIN)/python tools/performance_page.py

## assets: the site's front-end assets, from the npm registry, pinned by package-lock.json:
## KaTeX, and iframe-worker's shim (search from file://, for the offline plugin)
SHIM := docs/assets/javascripts/iframe-worker/shim.js
$(KATEX)/katex.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf $(KATEX) && mkdir -p $(KATEX)/contrib $(dir $(SHIM))
	cp -r node_modules/katex/dist/katex.min.js node_modules/katex/dist/katex.min.css node_modules/katex/dist/fonts $(KATEX)/
	cp node_modules/katex/dist/contrib/auto-render.min.js $(KATEX)/contrib/
	cp node_modules/iframe-worker/shim/index.js $(SHIM)

assets: $(KATEX)/katex.min.js

## site: generate everything and build the site into site/
site: generate assets
	$(BIN)/mkdocs build --strict

## browser: Debian's Chromium, for the browser test (needs root, as on CI)
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## test: set up what the suite needs, three jobs at a time (the venv then its backends; the
## site's assets, then its pages and plots; the browser), run the whole suite (which checks
## the site too, and compares with the Keras peer libraries, KerasCV and Keras Recommenders),
## then the agreement and oracle tests again on JAX, and on PyTorch with the peer tests
## (tests/peers: each loss against MONAI, kornia, pytorch-metric-learning, torchmetrics)
define RUN_MAIN
$(BIN)/python -m pytest -n 2 --dist loadgroup
endef
BACKEND_TESTS := tests/runtime
# On JAX most of the pass is XLA compiling: every operation run eagerly is compiled for its
# shapes on first use, and every fit is jit-compiled. Skipping LLVM's optimisation passes
# saves a fifth of that. Measured on the catalog's value and gradient: the 121 values are
# bit for bit the same, 117 gradients too, and 4 differ by round-off (at most 1.1e-6
# relative, weighted_kappa), well inside the tests' tolerances.
JAX_TEST_FLAGS := XLA_FLAGS=--xla_backend_optimization_level=0
define RUN_BACKENDS
KERAS_BACKEND=jax $(JAX_TEST_FLAGS) $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(BACKEND_TESTS)
KERAS_BACKEND=torch $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(BACKEND_TESTS) tests/peers
endef

test:
	$(MAKE) --no-print-directory --jobs=3 --output-sync=target site browser backends
	$(RUN_MAIN)
	$(RUN_BACKENDS)

test-main: site browser backends
	$(RUN_MAIN)

test-backends: backends
	$(RUN_BACKENDS)

## bench: time every loss that has a Keras twin against it, then lossgen build, mkdocs
## build and make test; rewrites benchmarks/results.json and the performance page.
## Not part of make test: it runs make test itself; it took 40 minutes on 2026-12-03 (2 cores,
## the make test inside it 10 of them).
bench: site backends browser
	$(BIN)/python tools/bench.py
	$(BIN)/python tools/performance_page.py

## lint: ruff on the project's own code
lint: setup
	$(BIN)/ruff check generator tests tools
	$(BIN)/ruff format --check generator tests tools

## notebooks: re-execute the notebooks and store their outputs (needs the generated modules)
notebooks: generate
	$(BIN)/python tools/notebooks.py

## golden: rewrite the committed golden outputs after an intended change
golden: setup
	$(BIN)/python -m pytest tests/codegen/test_golden.py --update-goldens

clean:
	rm -rf $(VENV) site $(REFERENCE) docs/performance.md docs/performance $(KATEX) $(dir $(SHIM)) node_modules generated
