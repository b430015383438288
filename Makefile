# wgsdn.fabric — the two commands a user needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(abspath .cache/collections)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)

.PHONY: help venv demo demo-down test unit integration lint molecule bench clean

help:
	@echo "make demo       bring up a demo overlay in local containers and show it working"
	@echo "make demo-down  remove the demo containers"
	@echo "make test       every test: unit, lint, Molecule scenarios (installs what it needs)"
	@echo "make unit | integration | lint | molecule | bench"

$(VENV)/.installed: requirements.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed
	@bash tools/link-collection.sh >/dev/null

demo: venv
	bash tools/demo.sh up

demo-down: venv
	bash tools/demo.sh down

unit: venv
	$(PY) -m pytest -q tests/unit

integration: venv
	$(PY) -m pytest -q tests/integration

lint: venv
	bash tools/lint.sh

# Every scenario under extensions/molecule, one after another, with a summary at the end.
molecule: venv
	bash tools/ensure-test-env.sh
	flock /tmp/wgsdn-molecule.lock molecule test --all

test: unit integration lint molecule

bench: venv
	bash bench/run.sh

clean:
	rm -rf .cache $(VENV)
