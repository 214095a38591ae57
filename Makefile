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

# Python packages go in with uv (a pip-compatible installer, several times faster: issue 15) when it
# can be had, from the sources and under the constraints pip is configured with (.ci/uv_sources.py);
# with pip otherwise (USE_UV=0 forces pip).
USE_UV ?= 1
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv

$(PY):
	$(PYTHON) -m venv $(VENV)

# $(call pip_install,requirement): with uv (installed into the venv first when missing); with pip
# when uv cannot be had or fails.
define pip_install
	@if [ "$(USE_UV)" = 1 ] && { [ -x $(UV) ] || $(PIP) install -q uv==$(UV_VERSION) 2>/dev/null; } && \
	    $(UV) pip install -q --system-certs --python $(PY) $$($(PY) .ci/uv_sources.py) $(1); then :; \
	else echo "installing with pip"; $(PIP) install -q --upgrade pip && $(PIP) install -q $(1); fi
endef

install: $(PY)
	$(call pip_install,-e .)

TEST_REQUIREMENT := -e ".[openai-whisper,test]"
install-test: $(PY)
	$(call pip_install,$(TEST_REQUIREMENT))

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

bench: system-deps install-test
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
