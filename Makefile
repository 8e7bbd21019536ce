# The README's two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := demo/sub-m1_ses-1_ecephys.nwb

.PHONY: demo test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,edf]"
	# bytecode for the project's own modules, as pip writes it for every installed package: an editable install
	# leaves it to the first run, and none is written where PYTHONDONTWRITEBYTECODE is set (each command would
	# then compile ~200 modules: 0.2-0.4 s at every start)
	$(BIN)/python -m compileall -q src
	touch $@

demo: $(VENV)/.installed  ## set up, convert the bundled SpikeGLX sample, summarise and validate it
	mkdir -p demo
	$(BIN)/nwbconvert convert sample_data/spikeglx/Sample_g0 -o $(DEMO) \
		--metadata configs/session.yaml --timezone Europe/London --overwrite
	$(BIN)/nwbconvert info $(DEMO)
	$(BIN)/pynwb-validate $(DEMO)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests sample_data benchmarks scripts
	$(BIN)/ruff format --check src tests sample_data benchmarks scripts
	$(BIN)/mypy

test: lint  ## set up, lint, type-check and run the whole test suite
	$(BIN)/pytest

clean:
	rm -rf demo .pytest_cache .mypy_cache .ruff_cache
