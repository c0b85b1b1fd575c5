# Everything a newcomer or CI needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv test servers unit lint demo bench docs constraints clean test-airflow-3.0 test-emulator-alone

venv: $(STAMP)

# Both distributions of this repository, editable: the provider and amazon-connect-emulator (emulator/).
# Reinstall whenever the dependency declarations change; constraints.txt pins every package.
$(STAMP): pyproject.toml emulator/pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip install --quiet --python $(PY) --constraint constraints.txt \
	  --editable ".[test,redis,e2e]" --editable ./emulator
	touch $@

test: $(STAMP) servers lint docs test-airflow-3.0 test-emulator-alone
	$(PY) -m pytest

# The end-to-end tests start PostgreSQL and Redis from Debian's packages; install them when missing.
SERVER_PACKAGES := postgresql redis-server
servers:
	@if command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian packages $(SERVER_PACKAGES) for the end-to-end tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SERVER_PACKAGES) >/dev/null; \
	else \
	  echo "make test needs the Debian packages $(SERVER_PACKAGES): run 'apt-get install -y $(SERVER_PACKAGES)' as root." >&2; \
	  exit 1; \
	fi

# The unit tests again on the lowest Airflow 3 the provider declares (constraints-airflow-3.0.txt).
MIN_VENV := .venv-airflow-3.0
MIN_STAMP := $(MIN_VENV)/.installed-stamp
$(MIN_STAMP): pyproject.toml emulator/pyproject.toml constraints-airflow-3.0.txt
	test -x $(MIN_VENV)/bin/python || $(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(MIN_VENV)/bin/uv pip install --quiet --python $(MIN_VENV)/bin/python --constraint constraints-airflow-3.0.txt \
	  --editable ".[test]" --editable ./emulator
	touch $@

test-airflow-3.0: $(MIN_STAMP)
	$(MIN_VENV)/bin/python -m pytest tests -m "not integration and not e2e" -p no:cacheprovider

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

# Writes docs/performance.md with the figures measured in this run.
bench: $(STAMP)
	$(PY) benchmarks/run.py

# Re-resolve every pin (needs PyPI); commit the result.
constraints:
	$(VENV)/bin/uv pip compile pyproject.toml emulator/pyproject.toml --extra test --extra redis --extra e2e \
	  --python-version 3.11 --upgrade -o constraints.txt

# Re-resolve constraints-airflow-3.0.txt (needs PyPI): Airflow, the amazon provider and common-compat pinned
# to exactly the lower bounds pyproject.toml declares, so test-airflow-3.0 tests those; the other pins
# already in the file are kept where they still fit. Commit the result.
MIN_PINNED := apache-airflow apache-airflow-providers-amazon apache-airflow-providers-common-compat
.PHONY: constraints-airflow-3.0
constraints-airflow-3.0:
	pins=$$(for p in $(MIN_PINNED); do sed -n "s/^ *\"$$p>=\([0-9.]*\)\".*/$$p==\1/p" pyproject.toml; done); \
	test "$$(echo "$$pins" | grep -c ==)" -eq $(words $(MIN_PINNED)) \
	  || { echo "pyproject.toml must declare a lower bound for each of: $(MIN_PINNED)" >&2; exit 1; }; \
	echo "$$pins" | $(VENV)/bin/uv pip compile pyproject.toml emulator/pyproject.toml - --extra test --python-version 3.11 \
	  --custom-compile-command "make constraints-airflow-3.0" -o constraints-airflow-3.0.txt

clean:
	rm -rf $(VENV) $(MIN_VENV) $(EMU_VENV) build dist *.egg-info emulator/*.egg-info .mypy_cache .ruff_cache .pytest_cache
