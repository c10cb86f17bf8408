# PolicyQA: `make run` serves the chat widget, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint eval clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 is pinned in the [st] extra: the CPU wheel, not a multi-GB CUDA build.
	$(BIN)/pip install --quiet -e '.[st,milvus,test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/policyqa serve --ingest

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q -ra

eval: install
	$(BIN)/policyqa eval evals/seed.jsonl

clean:
	rm -rf $(VENV) data reports
