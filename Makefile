# detkd: the two commands are `make demo` and `make test`; both install first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# make demo DEMO=cwd-retina | cwd-gfl: see tools/demo.py --help
DEMO ?= fgd

.PHONY: install test demo dataset clean

install:
	@bash scripts/install.sh

dataset: install
	$(PY) tools/dataset/make_mini_coco.py --out data/mini_coco

test: install
	$(PY) -m pytest tests $(PYTEST_ARGS)

demo: install
	$(PY) tools/demo.py --preset $(DEMO)

clean:
	rm -rf work_dirs data/mini_coco
