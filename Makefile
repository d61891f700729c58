# Two commands set everything up on a fresh machine: `make chat` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# torch first, pinned: it is the CPU build on this disk; an unpinned torch
# (asked for by sentence-transformers) would pull several GB of CUDA.
TORCH  ?= torch==2.13.0

.PHONY: install index chat test validate eval lint bot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[sentence-transformers,dev,llm]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/python -m bot index

chat: index
	$(BIN)/python -m bot chat

bot: index
	$(BIN)/python -m bot telegram

validate: install
	$(BIN)/python -m bot validate

eval: index
	$(BIN)/python -m bot eval

lint: install
	$(BIN)/python -m ruff check bot tests benchmarks

test: install lint
	$(BIN)/python -m bot validate
	$(BIN)/python -m pytest

clean:
	rm -rf .data .pytest_cache
