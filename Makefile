# clincoder: `make run` codes the bundled example letters; `make test` runs the test suite.
# Both create .venv on first use (torch is pinned to the CPU wheel first, then the project).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SHARED ?= $(abspath ../shared/data)
OUT    ?= out

# User-supplied NHS tables: take the environment's, else the shared development copies if present.
export CLINCODER_OPCS4 ?= $(wildcard $(SHARED)/opcs4/opcs4_codes.tsv)
export CLINCODER_ICD10_UK ?= $(wildcard $(SHARED)/icd10-uk/icd10_uk_codes.tsv)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup clean eval-dev eval-uk benchmark chromium serve

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/clincoder code data/examples --profile uk --out $(OUT)/examples.jsonl
	$(BIN)/clincoder code data/examples --profile uk --format csv --out $(OUT)/examples.csv --no-progress
	@echo "coded letters: $(OUT)/examples.jsonl and $(OUT)/examples.csv"

# The workbench's browser test drives Debian's chromium (Playwright never downloads a browser).
CHROMIUM := $(shell command -v chromium || command -v chromium-browser)

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

chromium:
ifeq ($(CHROMIUM),)
	@echo "installing Debian's chromium for the workbench browser test"
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "warning: could not install chromium; the browser test will be skipped"
endif

# The coder workbench on the bundled letters: http://127.0.0.1:8000/ (decisions in clincoder-review.sqlite).
serve: $(STAMP)
	$(BIN)/clincoder serve data/examples --profile uk

# CodiEsp dev, US profile: MAP for diagnoses (D) and procedures (P), then the full report with plots.
# The shipped ranker learned from dev, so these read high; RANKER=DIR codes with another ranker
# folder (e.g. one trained with training/configs/us-train-only.yaml, out of sample on dev).
RANKER ?=
RANKER_CONFIG := $(if $(RANKER),--config $(OUT)/ranker.yaml,)
eval-dev: $(STAMP)
	$(if $(RANKER),mkdir -p $(OUT) && printf 'coder:\n  ranker: %s\n' '$(abspath $(RANKER))' > $(OUT)/ranker.yaml)
	$(BIN)/clincoder code $(SHARED)/codiesp/dev/text_files_en --profile us --format codiesp --out $(OUT)/dev_ $(RANKER_CONFIG)
	$(BIN)/clincoder score --gold $(SHARED)/codiesp/dev/devD.tsv --pred $(OUT)/dev_D.tsv
	$(BIN)/clincoder score --gold $(SHARED)/codiesp/dev/devP.tsv --pred $(OUT)/dev_P.tsv
	$(BIN)/clincoder eval --gold $(SHARED)/codiesp/dev/devD.tsv --gold $(SHARED)/codiesp/dev/devP.tsv \
		--pred $(OUT)/dev_records.jsonl --out $(OUT)/dev_report
	@echo "note: the shipped ranker (classifier, memories, fusion) learned from dev, so these read high; the out-of-sample (cross-fitted) dev figures:"
	$(BIN)/clincoder model

# UK development gold set, uk profile: coder-audit figures on the part kept for final figures
# (--split final) and on the part the suggesters were tuned on (--split dev: reads high).
eval-uk: $(STAMP)
	$(BIN)/clincoder code data/examples data/uk-gold/letters --profile uk --out $(OUT)/uk_gold.jsonl
	$(BIN)/clincoder eval --gold data/uk-gold/gold --pred $(OUT)/uk_gold.jsonl --split final --out $(OUT)/uk_final
	$(BIN)/clincoder eval --gold data/uk-gold/gold --pred $(OUT)/uk_gold.jsonl --split dev --out $(OUT)/uk_dev

# Speed and peak memory of the whole coding path, and of the text stage alone.
benchmark: $(STAMP)
	$(BIN)/clincoder benchmark $(SHARED)/codiesp/dev/text_files_en --profile us
	$(BIN)/clincoder benchmark-text $(SHARED)/codiesp/dev/text_files_en

clean:
	rm -rf $(OUT) .pytest_cache
