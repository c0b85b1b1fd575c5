"""Registering secrets with Airflow's secret masker, through its public ``mask_secret`` only.

In a task, ``mask_secret`` registers a value with the task process's masker and tells the
supervisor, which writes the task log file. A failure to register propagates: a task must not
go on to log a token that is not masked.

Airflow's masker recompiles one regex of every secret it holds for each value added, so a
process that registers N secrets pays O(N^2). The provider does not patch that; it keeps the
number of secrets per task small instead (see "How many agents per task" in the per-agent how-to).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: What this process registered, for :func:`redact` (Airflow has no public redact). Like Airflow's
#: masker, shorter values are not masked: they would match ordinary text.
_MIN_LENGTH = 5
_registered: set[str] = set()
_lock = threading.Lock()
#: Held around each ``mask_secret`` call: Airflow's masker (its pattern list and regex, the message to
#: the supervisor) is not safe for the bulk fetch's threads to call at once.
_masker_lock = threading.Lock()


def mask_secrets(values: Iterable[str]) -> None:
    """Mask ``values`` in task logs and rendered fields: one ``mask_secret`` call for those not masked yet.

    A value registered before is skipped: Airflow's masker holds it already, and the supervisor
    need not be asked again. Calls from many threads are serialized, one ``mask_secret`` at a time.
    """
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
    with _masker_lock:
        with _lock:
            new = [value for value in dict.fromkeys(values) if value not in _registered]
        if not new:
            return
        mask_secret(list[object](new))  # type: ignore[arg-type]
        with _lock:
            _registered.update(value for value in new if len(value) >= _MIN_LENGTH)


def redact(text: str) -> str:
    """``text`` with every value this process registered replaced by ``***``.

    For output that does not pass through Airflow's log handlers, such as the
    ``connect-fed`` command's stderr; Airflow exposes no public redact function.
    """
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
