# Everything a newcomer or CI needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed-stamp
# The Airflow 3 minors tested besides the newest (.venv, constraints.txt): see test-airflow-X.Y below.
AIRFLOW_MINORS := 3.0 3.1 3.2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv test checks servers unit lint demo bench docs constraints clean test-emulator-alone docs-as-published \
  $(AIRFLOW_MINORS:%=test-airflow-%) $(AIRFLOW_MINORS:%=constraints-airflow-%)

venv: $(STAMP)

# Both distributions of this repository, editable: the provider and amazon-connect-emulator (emulator/).
# Reinstall whenever the dependency declarations change; constraints.txt pins every package.
$(STAMP): pyproject.toml emulator/pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip install --quiet --python $(PY) --constraint constraints.txt \
	  --editable ".[test,redis,e2e]" --editable ./emulator
	touch $@

# The checks (lint, docs, the unit tests on each earlier Airflow 3 minor, the emulator's tests alone), two at
# a time with each one's output kept together; then every provider test on the newest (.venv), alone, since
# its end-to-end tests pace to quotas in real time. A plain `pytest` runs the emulator's tests there too.
test: $(STAMP) servers
	$(MAKE) --no-print-directory -j2 --output-sync=target checks
	CONNECT_FED_REQUIRE_BROWSER=1 $(PY) -m pytest tests --durations=25

checks: lint docs docs-as-published $(AIRFLOW_MINORS:%=test-airflow-%) test-emulator-alone

# The end-to-end tests start PostgreSQL and Redis, and drive Chromium through its driver, all from
# Debian's packages; install them when missing (nothing is downloaded when the tests run).
SERVER_PACKAGES := postgresql redis-server chromium chromium-driver
servers:
	@if command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  && command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian packages $(SERVER_PACKAGES) for the end-to-end tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SERVER_PACKAGES) >/dev/null; \
	else \
	  echo "make test needs the Debian packages $(SERVER_PACKAGES): run 'apt-get install -y $(SERVER_PACKAGES)' as root." >&2; \
	  exit 1; \
	fi

# The unit tests again on each earlier Airflow 3 minor, one virtualenv per minor (.venv-airflow-X.Y) pinned
# by constraints-airflow-X.Y.txt; .venv tests the newest (constraints.txt). 3.0 is the lowest the provider
# declares; 3.1 and 3.2 are those minors' latest releases. These rules serve every minor in AIRFLOW_MINORS.
MINOR_STAMPS := $(AIRFLOW_MINORS:%=.venv-airflow-%/.installed-stamp)
$(MINOR_STAMPS): .venv-airflow-%/.installed-stamp: pyproject.toml emulator/pyproject.toml \
  constraints-airflow-%.txt
	test -x .venv-airflow-$*/bin/python || $(PYTHON) -m venv .venv-airflow-$*
	.venv-airflow-$*/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	.venv-airflow-$*/bin/uv pip install --quiet --python .venv-airflow-$*/bin/python \
	  --constraint constraints-airflow-$*.txt --editable ".[test]" --editable ./emulator
	touch $@

$(AIRFLOW_MINORS:%=test-airflow-%): test-airflow-%: .venv-airflow-%/.installed-stamp
	.venv-airflow-$*/bin/python -m pytest tests -m "not integration and not e2e" -p no:cacheprovider

# amazon-connect-emulator alone, as someone testing a Lambda would install it: no Airflow in the
# virtualenv (checked), its own tests, over HTTP with plain boto3 and the AWS CLI's wire format.
EMU_VENV := .venv-emulator
EMU_STAMP := $(EMU_VENV)/.installed-stamp
$(EMU_STAMP): emulator/pyproject.toml constraints.txt
	test -x $(EMU_VENV)/bin/python || $(PYTHON) -m venv $(EMU_VENV)
	$(EMU_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(EMU_VENV)/bin/uv pip install --quiet --python $(EMU_VENV)/bin/python --constraint constraints.txt \
	  ./emulator pytest pytest-timeout awscli
	touch $@

test-emulator-alone: $(EMU_STAMP)
	! $(EMU_VENV)/bin/python -c "import airflow" 2>/dev/null || { echo "Airflow is installed in $(EMU_VENV)" >&2; exit 1; }
	cd emulator && ../$(EMU_VENV)/bin/python -m pytest tests -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest -m "not integration and not e2e"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(PY) demo/run_demo.py

# Warnings are errors: a broken reference or include fails the build.
docs: $(STAMP)
	$(PY) -m sphinx -E -W --keep-going -q -b html docs docs/_build/html

# The docs as Read the Docs builds them: a fresh virtualenv with only what .readthedocs.yaml installs
# (docs/requirements.txt), then Sphinx as it runs there, warnings as errors.
docs-as-published: $(STAMP)
	$(PY) docs/build_as_published.py --uv $(VENV)/bin/uv

# Writes docs/performance.md with the figures measured in this run.
bench: $(STAMP)
	$(PY) benchmarks/run.py

# Re-resolve every pin (needs PyPI); commit the result.
constraints:
	$(VENV)/bin/uv pip compile pyproject.toml emulator/pyproject.toml --extra test --extra redis --extra e2e \
	  --python-version 3.11 --upgrade -o constraints.txt

# Re-resolve constraints-airflow-X.Y.txt (needs PyPI). Airflow, the amazon provider and common-compat are
# pinned to exactly the lower bounds pyproject.toml declares, except where PINS_X.Y names another version:
# so test-airflow-3.0 tests those lower bounds, and test-airflow-3.1/3.2 that minor's latest Airflow with
# the same lowest amazon provider and common-compat (amazon 9.4.0 requires apache-airflow>=2.9.0 and
# common-compat 1.12.0 apache-airflow>=2.11.0, without an upper bound; both resolve with 3.1.8 and 3.2.2).
# The other pins already in the file are kept where they still fit. Commit the result.
MINOR_PINNED := apache-airflow apache-airflow-providers-amazon apache-airflow-providers-common-compat
PINS_3.1 := apache-airflow==3.1.8
PINS_3.2 := apache-airflow==3.2.2
$(AIRFLOW_MINORS:%=constraints-airflow-%): constraints-airflow-%:
	pins=$$(for p in $(MINOR_PINNED); do sed -n "s/^ *\"$$p>=\([0-9.]*\)\".*/$$p==\1/p" pyproject.toml; done); \
	test "$$(echo "$$pins" | grep -c ==)" -eq $(words $(MINOR_PINNED)) \
	  || { echo "pyproject.toml must declare a lower bound for each of: $(MINOR_PINNED)" >&2; exit 1; }; \
	for pin in $(PINS_$*); do \
	  pins=$$(echo "$$pins" | sed "s/^$${pin%%==*}==.*/$$pin/"); \
	  echo "$$pins" | grep -qxF "$$pin" \
	    || { echo "PINS_$*: $$pin is not one of: $(MINOR_PINNED)" >&2; exit 1; }; \
	done; \
	echo "$$pins" | $(VENV)/bin/uv pip compile pyproject.toml emulator/pyproject.toml - --extra test --python-version 3.11 \
	  --custom-compile-command "make constraints-airflow-$*" -o constraints-airflow-$*.txt

clean:
	rm -rf $(VENV) $(AIRFLOW_MINORS:%=.venv-airflow-%) $(EMU_VENV) build dist *.egg-info emulator/*.egg-info .mypy_cache .ruff_cache .pytest_cache
