"""While a command runs, stdout and log records go to stderr: warnings only, or DEBUG, redacted; then restored."""

from __future__ import annotations

import logging
import re
import secrets
import sys

import pytest
import structlog

from airflow_connect_fed import masking
from airflow_connect_fed.cli.logs import DEBUG_LOGGERS, logs_to_stderr

DEBUG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - MainThread - botocore - DEBUG - Making request$"
)


@pytest.fixture
def secret() -> str:
    """A value registered with the masker, as a fetched token is."""
    value = "token-" + secrets.token_urlsafe(24)
    masking.mask_secrets([value])
    return value


def test_stdout_goes_to_stderr_for_the_block(capsys):
    with logs_to_stderr(debug=False):
        print("printed while Airflow loads")
    print("the result")
    out, err = capsys.readouterr()
    assert out == "the result\n"
    assert err == "printed while Airflow loads\n"


def test_without_debug_only_warnings_and_errors(capsys):
    with logs_to_stderr(debug=False):
        logging.getLogger("airflow_connect_fed.cli").info("connection found")
        logging.getLogger("botocore").debug("Making request")
        logging.getLogger("airflow_connect_fed.cli").warning("falling back to %s", "boto3")
        logging.getLogger("airflow").error("broken")
    assert capsys.readouterr().err == (
        "airflow_connect_fed.cli: WARNING: falling back to boto3\nairflow: ERROR: broken\n"
    )


def test_debug_adds_botocore_lines_with_time_and_thread(capsys):
    with logs_to_stderr(debug=True):
        logging.getLogger("botocore").debug("Making request")
    (line,) = capsys.readouterr().err.splitlines()
    assert DEBUG_LINE.match(line), line


def test_debug_sets_the_debug_loggers_and_restores_their_levels():
    loggers = [logging.getLogger(name) for name in DEBUG_LOGGERS]
    saved = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with logs_to_stderr(debug=False):
            assert [logger.level for logger in loggers] == [logging.ERROR] * 3
        with logs_to_stderr(debug=True):
            assert [logger.level for logger in loggers] == [logging.DEBUG] * 3
        assert [logger.level for logger in loggers] == [logging.ERROR] * 3
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


@pytest.mark.parametrize("debug", [False, True])
def test_tokens_are_redacted_from_every_line(capsys, secret, debug):
    with logs_to_stderr(debug=debug):
        logging.getLogger("botocore").warning("Response body: %s", {"AccessToken": secret})
        logging.getLogger("botocore").debug(f"Response headers: {secret}")
    err = capsys.readouterr().err
    assert secret not in err
    assert "Response body: {'AccessToken': '***'}" in err
    assert ("Response headers: ***" in err) is debug


@pytest.mark.parametrize("debug", [False, True])
def test_structlog_goes_to_stderr_at_the_same_level(capsys, debug):
    with logs_to_stderr(debug=debug):
        structlog.get_logger("airflow").debug("structlog debug")
        structlog.get_logger("airflow").warning("structlog warning")
    out, err = capsys.readouterr()
    assert out == ""
    assert "structlog warning" in err
    assert ("structlog debug" in err) is debug


def _fail_inside(debug: bool, seen: list[object]) -> None:
    with logs_to_stderr(debug=debug):
        seen.extend([sys.stdout, logging.getLogger().handlers[:]])
        raise RuntimeError("command failed")


@pytest.mark.parametrize("debug", [False, True])
def test_everything_is_restored_even_after_an_error(debug):
    root_handlers = logging.getLogger().handlers[:]
    structlog_config = structlog.get_config()
    stdout = sys.stdout
    seen: list[object] = []
    with pytest.raises(RuntimeError, match="command failed"):
        _fail_inside(debug, seen)
    assert seen[0] is sys.stderr
    assert seen[1] != root_handlers
    assert sys.stdout is stdout
    assert logging.getLogger().handlers == root_handlers
    assert structlog.get_config() == structlog_config


@pytest.mark.parametrize("debug", [False, True])
def test_structlog_lines_are_redacted_exceptions_included(capsys, secret, debug):
    with logs_to_stderr(debug=debug):
        structlog.get_logger("airflow").warning("credentials retrieved", token=secret)
        try:
            raise RuntimeError(f"response held {secret}")
        except RuntimeError:
            structlog.get_logger("airflow").exception("call failed")
    err = capsys.readouterr().err
    assert secret not in err
    assert "token=***" in err
    assert "RuntimeError: response held ***" in err
