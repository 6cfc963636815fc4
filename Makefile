# detkd: the two commands are `make demo` and `make test`; both install first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# make test: one pytest worker per core (pytest-xdist), each on one thread, as are the tools
# the integration tests run (OMP_NUM_THREADS is inherited); tests of one xdist_group share a
# worker (the two-process gloo runs, one at a time)
TEST_WORKERS ?= auto
# make demo DEMO=<preset>: fgd (default), fgd-fcos, fgd-mixed, fgd-faster-rcnn, cwd-retina,
# cwd-gfl, cwd-faster-rcnn, ld, yolov3, ppyoloe, pkd, pkd-faster-rcnn, pkd-fcos, mgd, fbkd,
# fbkd-faster-rcnn (the Report names in configs/*/metafile.yml; tools/demo.py --help)
DEMO ?= fgd
LINT_PATHS := projects tools tests configs

.PHONY: install test test-fast lint format demo dataset clean

install:
	@bash scripts/install.sh

dataset: install
	$(PY) tools/dataset/make_mini_coco.py --out data/mini_coco

# everything: unit tests and the integration runs of the tools (marked `integration`)
test: install
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# the unit tests only, for the edit-test loop
test-fast: install
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadgroup -m "not integration" $(PYTEST_ARGS)

# OpenMMLab's lint set, as .pre-commit-config.yaml runs it (settings in setup.cfg)
lint: install
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive --exclude '*/.mim/*' $(LINT_PATHS)

# rewrite the tree the way `make lint` wants it
format: install
	$(VENV)/bin/isort $(LINT_PATHS)
	$(VENV)/bin/yapf --in-place --recursive --exclude '*/.mim/*' $(LINT_PATHS)

demo: install
	$(PY) tools/demo.py --preset $(DEMO)

clean:
	rm -rf work_dirs data/mini_coco
