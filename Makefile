# copeval — the two commands a newcomer needs are `make report` and `make test`.
# Each bootstraps a local virtual environment (.venv) from nothing on first use.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.copeval-installed
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
OUT    ?= reports
PYDIRS := $(wildcard copeval tests bench data/scripts surveys/*.py)

.PHONY: report test lab lint format clean venv

KERNEL := $(VENV)/share/jupyter/kernels/copeval/kernel.json

venv: $(STAMP) $(KERNEL)

$(STAMP): pyproject.toml
	@echo ">> creating $(VENV) with $(PYTHON)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo ">> installing copeval and its dependencies (first run takes a few minutes)"
	@$(BIN)/python -m pip install --quiet --progress-bar off -e ".[all,test,dev]"
	@$(BIN)/python -m ipykernel install --sys-prefix --name copeval \
		--display-name "copeval (.venv)" >/dev/null
	@touch $@

# The "copeval (.venv)" kernel of JupyterLab and the notebook tests (installed above): put
# back if it has gone missing, without reinstalling anything else.
$(KERNEL): | $(STAMP)
	@$(BIN)/python -m ipykernel install --sys-prefix --name copeval \
		--display-name "copeval (.venv)" >/dev/null

## report: build the demo evaluation reports (PDF + HTML) into $(OUT)/
report: $(STAMP)
	@$(BIN)/python -m copeval.demo_report --out $(OUT)

## test: run the whole test suite
test: $(STAMP)
	@$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

## lab: open JupyterLab on notebooks/ at start_here.py, with the project's kernel
# notebooks/.jupyter (added to the Jupyter config path for this session only; nothing is
# written to your home or to .venv) makes a double-click open the jupytext .py files as
# notebooks and offers only the "copeval (.venv)" kernel. Extra options: LAB_ARGS="--port 8899".
LAB_CONFIG := $(CURDIR)/notebooks/.jupyter
LAB_ARGS   ?=
lab: $(STAMP) $(KERNEL)
	@JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab $(LAB_ARGS) notebooks/start_here.py

lint: $(STAMP)
	@$(BIN)/ruff check $(PYDIRS)
	@$(BIN)/ruff format --check $(PYDIRS)

format: $(STAMP)
	@$(BIN)/ruff format $(PYDIRS)
	@$(BIN)/ruff check --fix $(PYDIRS)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build *.egg-info
