"""The provider's metrics, sent through Airflow's own ``Stats``.

Airflow's ``Stats`` reaches StatsD, Datadog or OpenTelemetry as the deployment
configures it (``[metrics]``), so the provider needs no client of its own. Every
name is put under ``connect_federation.``; Airflow adds its own prefix
(``airflow.`` by default). Backends that take tags (Datadog, OpenTelemetry, StatsD
with ``statsd_influxdb_enabled``) receive ``tags``; plain StatsD drops them.

A metric is never worth a failed task: any error sending one is swallowed, and
the first one in a process is logged once as a warning.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "connect_federation."

#: Airflow's ``Stats``, imported on first use (see :func:`_stats`).
Stats: Any = None

_warned = False
_warned_lock = threading.Lock()


def incr(name: str, count: int = 1, *, tags: dict[str, str] | None = None) -> None:
    """Add ``count`` to the counter ``connect_federation.<name>``."""
    try:
        stats = _stats()
        stats.incr(PREFIX + name, count, tags=tags)
    except Exception as error:
        _warn_once(name, error)


def timing(name: str, seconds: float, *, tags: dict[str, str] | None = None) -> None:
    """Record ``seconds`` on the timer ``connect_federation.<name>``."""
    try:
        stats = _stats()
        stats.timing(PREFIX + name, datetime.timedelta(seconds=seconds), tags=tags)
    except Exception as error:
        _warn_once(name, error)


def _stats() -> Any:
    """Airflow's ``Stats``, imported on first use so an operator module stays light at DAG parse."""
    global Stats
    if Stats is None:
        from airflow.providers.common.compat.sdk import Stats as airflow_stats

        Stats = airflow_stats
    return Stats


def _warn_once(name: str, error: Exception) -> None:
    """Log the first metrics failure of this process; later ones would only repeat it."""
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    log.warning(
        "Could not send the metric %s%s (%s: %s); the task goes on, and further metrics errors "
        "in this process are not logged. Check the [metrics] section of the Airflow configuration.",
        PREFIX,
        name,
        type(error).__name__,
        error,
    )
