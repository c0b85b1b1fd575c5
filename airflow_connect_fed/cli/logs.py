"""Where log lines go while a command runs: stderr, so that stdout holds only the command's result.

Airflow configures logging when first imported, writing INFO lines to stdout, which would corrupt
``--output json`` piped into another program. For the duration of a command, stdout is redirected
to stderr (covering whatever Airflow prints while it loads), and stdlib and structlog records go to
stderr, warnings and errors only; ``--debug`` adds botocore's DEBUG lines (as ``aws --debug``).
Every line is redacted of each value the provider registered with Airflow's secret masker
through its public ``mask_secret`` (:mod:`airflow_connect_fed.masking`): the connection's password
and every secret value inside its extra (:mod:`airflow_connect_fed.cli.connection`), the tokens, and
what the service models mark sensitive before botocore logs it (:mod:`airflow_connect_fed._client.sensitive`).
Airflow has no public function that redacts a line, so the provider replaces those same values itself.
Everything is restored afterwards, which keeps ``main()`` safe to call in-process.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager, redirect_stdout
from typing import TYPE_CHECKING, Any

from airflow_connect_fed.masking import redact

if TYPE_CHECKING:
    from collections.abc import Iterator

DEBUG_LOGGERS = ("botocore", "urllib3", "airflow_connect_fed")
_DEBUG_FORMAT = "%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s"
_FORMAT = "%(name)s: %(levelname)s: %(message)s"


@contextmanager
def logs_to_stderr(*, debug: bool) -> Iterator[None]:
    """Send stdout and every log record to stderr for the block; WARNING and up, or DEBUG with ``debug``.

    Import Airflow-dependent modules inside the block, so that what they print while loading is redirected.
    """
    with redirect_stdout(sys.stderr):
        import airflow  # noqa: F401 - configures Airflow's logging on first import; overridden below
        import structlog

        level = logging.DEBUG if debug else logging.WARNING
        root = logging.getLogger()
        saved_handlers = root.handlers[:]
        saved_levels = {name: logging.getLogger(name).level for name in DEBUG_LOGGERS}
        saved_structlog = structlog.get_config()
        root.handlers = [_stderr_handler(level)]
        if debug:
            for name in DEBUG_LOGGERS:
                logging.getLogger(name).setLevel(logging.DEBUG)
        structlog.configure(
            processors=_structlog_processors(structlog),
            logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(level),
        )
        try:
            yield
        finally:
            structlog.configure(**saved_structlog)
            root.handlers = saved_handlers
            for name, saved_level in saved_levels.items():
                logging.getLogger(name).setLevel(saved_level)


def _structlog_processors(structlog: Any) -> list[Any]:
    """structlog's default chain without colour, then the rendered line (exception included) redacted."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.dev.ConsoleRenderer(colors=False),
        _redact_rendered,
    ]


def _redact_rendered(_logger: object, _method: str, line: str) -> str:
    return redact(line)


def _stderr_handler(level: int) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(_DEBUG_FORMAT if level == logging.DEBUG else _FORMAT))
    handler.addFilter(_Redact())
    return handler


class _Redact(logging.Filter):
    """Replace every secret registered with Airflow's masker in the record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
