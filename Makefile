# disc-grade: two commands do all the set-up.
#   make run    set up, make the phantom if no raw data is present, run the train pipeline, then
#               grade the held-out studies with the model bundle it left (make grade)
#   make grade  grade the held-out studies with `disc-grade grade` (pages in GRADED/index.html)
#   make export export the model bundle to BUNDLE_OUT (`disc-grade export`)
#   make test   set up, run the whole test suite (TEST_WORKERS processes, one thread each)
#   make lock   pin every installed package into requirements.lock (setup installs from it)
#   make repro  set up, then `dvc repro` with the project's environment on PATH
#   make study  set up, then the label-efficiency study as a DVC experiment (params.yaml's grid)
#   make ablation  set up, then the contrastive-pretraining ablation (`dvc repro ablation`)
#   make notebook  set up with Jupyter, then `kedro jupyter notebook` (notebooks/results.ipynb)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RAW_ROOT ?= data/01_raw/phantom
PHANTOM_ROOT := data/01_raw/phantom
TEST_WORKERS ?= 2
GRADED ?= data/07_model_output/inference
BUNDLE_OUT ?= dist/model-bundle
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1

.PHONY: setup lock run grade export phantom test lint bench viz viz-build dvc-yaml repro study ablation clean-data notebook

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	@touch $@

# requirements.lock: every package of .venv pinned (torch's local +cpu label dropped, so the
# same lock serves the CPU and CUDA wheels); refresh after changing pyproject.toml, then commit
lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^#' | sed -e 's/^\(torch==[0-9.]*\)+[a-z0-9]*$$/\1/' > requirements.lock

setup: $(VENV)/.installed

phantom: setup
	@if [ -f "$(RAW_ROOT)/train.csv" ]; then \
		echo "raw data found in $(RAW_ROOT): not making a phantom"; \
	elif [ "$(RAW_ROOT)" != "$(PHANTOM_ROOT)" ]; then \
		echo "no train.csv in RAW_ROOT=$(RAW_ROOT): point it at the RSNA download"; exit 1; \
	else \
		$(BIN)/kedro run --pipelines=phantom --params=raw_root=$(PHANTOM_ROOT); \
	fi

run: phantom
	$(BIN)/kedro run --pipelines=train --params=raw_root=$(RAW_ROOT)
	@$(MAKE) --no-print-directory grade
	@echo
	@echo "Done. Raw cohort: $(RAW_ROOT)  |  tables: data/02_intermediate, data/03_primary"
	@echo "      model bundle: data/06_models/bundle  |  report: data/08_reporting/report.html"
	@echo "      held-out studies graded: $(GRADED)/index.html"

grade: setup
	$(BIN)/disc-grade grade $$($(BIN)/python -m disc_grade.app.held_out $(RAW_ROOT)) --out $(GRADED)

export: setup
	$(BIN)/disc-grade export --out $(BUNDLE_OUT)

test: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: setup
	$(BIN)/python benchmarks/run_all.py

notebook: setup
	@$(BIN)/python -c "import notebook" 2>/dev/null || $(BIN)/python -m pip install -q -e ".[dev,notebook]"
	$(BIN)/kedro jupyter notebook

viz: setup
	$(BIN)/kedro viz run --autoreload

clean-data:
	find data -type f ! -name .gitkeep -delete

repro: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro

study: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc exp run study_report
	@echo
	@PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc exp show --no-pager --md --drop '.*' \
		--keep 'Experiment|Created|.*\.(test|external_test)\.[0-9.]+$$'
	@echo "In data/08_reporting/<study.condition of params.yaml>/: label_efficiency.csv (table), .png (figure), .html (page)"

ablation: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/dvc repro ablation
	@echo "In data/08_reporting/<ablation_condition of params.yaml>/: ablation.csv (table), .png (figure), .md and .html (page)"

dvc-yaml: setup
	$(BIN)/python -m disc_grade.lineage --write

viz-build: setup
	$(BIN)/kedro viz build --include-previews
