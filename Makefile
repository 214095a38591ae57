# The two commands of the README:
#   make demo   install, transcribe + score the sample calls into the local store, open the dashboard
#   make test   install everything (system packages too) and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := ffmpeg espeak-ng sox chromium asterisk-core-sounds-it-wav asterisk-core-sounds-it \
	festival festvox-italp16k festvox-itapc16k festvox-kallpc16k festvox-kdlpc16k

.PHONY: demo test install install-test system-deps bench clean

demo: install
	$(VENV)/bin/qa demo

# Two workers sharing the tests out one by one, the longest files collected first (tests/conftest.py).
test: system-deps install-test
	$(PY) -m pytest -n 2 --dist worksteal -q --durations=25 tests

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q -e .

install-test: $(PY)
	$(PIP) install -q -e ".[openai-whisper,test]"

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

bench: system-deps install-test
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
