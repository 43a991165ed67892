# Two commands on a fresh machine (Python 3.10+ and make): `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

demo: setup
	mkdir -p out
	$(BIN)/accelsim run --arch systolic-32x32-ws --model resnet18 --prune unstructured:0.5 \
		--json out/resnet18-u50.json --csv out/resnet18-u50.csv --plot out/resnet18-u50.png
	$(BIN)/accelsim run --arch systolic-32x32-ws-nm24 --model resnet18 --prune nm:2:4 \
		--json out/resnet18-nm24.json --plot out/resnet18-nm24.png
	$(BIN)/accelsim run --arch eie --model eie-benchmark --json out/eie-benchmark.json --plot out/eie-benchmark.png
	$(BIN)/accelsim run --arch scnn --model alexnet --prune han2015 --json out/scnn-alexnet.json \
		--plot out/scnn-alexnet.png
	$(BIN)/accelsim run --arch sparten --model alexnet --prune han2015 --json out/sparten-alexnet.json \
		--plot out/sparten-alexnet.png
	$(BIN)/accelsim run --arch eyeriss-v2 --model mobilenet-v1-0.5 --prune unstructured:0.5 \
		--json out/eyeriss-v2-mobilenet.json --plot out/eyeriss-v2-mobilenet.png

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	# the numba functions again as plain Python: the tests of every *jit.py file with the JIT off
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest tests/test_*_jit.py tests/test_weight_sharing.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
