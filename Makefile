# The two commands: `make site` and `make test`. Both create .venv from the pinned
# requirements.lock when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REFERENCE := docs/reference
# Quiet TensorFlow's start-up chatter; tests pin the backend they use.
export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND := tensorflow
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup generate site test lint golden clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## generate: render every spec of specs/ into docs/reference (pages + modules)
generate: setup
	$(BIN)/lossgen build --out $(REFERENCE)

## site: generate everything and build the site into site/
site: generate
	$(BIN)/mkdocs build --strict

## test: the whole test suite
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## lint: ruff on the project's own code
lint: setup
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests

## golden: rewrite the committed golden outputs after an intended change
golden: setup
	$(BIN)/python -m pytest tests/test_golden.py --update-goldens

clean:
	rm -rf $(VENV) site $(REFERENCE) generated
