"""Registering tokens with Airflow's secret masker, in batches.

``mask_secret`` recompiles the masker's whole pattern for every value it adds,
so masking 2 tokens for each of N agents costs O(N^2) (400 values took 12.8 s
here). A batch is added to the task process's masker with one compile, and sent
to the supervisor (which masks the task logs) in one message.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence


def mask_values(values: Sequence[str]) -> None:
    """Mask ``values`` in task logs and rendered fields, like ``airflow.sdk.log.mask_secret``."""
    masker = _local_masker()
    if masker is None or len(values) < 2:
        from airflow.sdk.log import mask_secret

        mask_secret(list(values))
        return
    patterns = {
        re.escape(adapted)
        for value in values
        for adapted in masker._adaptations(value)
        if adapted and len(adapted) >= masker.min_length_to_mask
    }
    if patterns - masker.patterns:
        masker.patterns.update(patterns)
        masker.replacer = re.compile("|".join(masker.patterns))
    _tell_supervisor(list(values))


def _local_masker() -> Any:
    """The task process's SecretsMasker, if this Airflow has the attributes a batch add needs."""
    try:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    except ImportError:
        try:  # Airflow 3.0
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker  # type: ignore[no-redef]
        except ImportError:
            return None
    masker = _secrets_masker()
    needed = ("patterns", "replacer", "min_length_to_mask", "_adaptations")
    return masker if all(hasattr(masker, name) for name in needed) else None


def _tell_supervisor(values: list[str]) -> None:
    with suppress(Exception):
        from airflow.sdk.execution_time import task_runner
        from airflow.sdk.execution_time.comms import MaskSecret

        if comms := getattr(task_runner, "SUPERVISOR_COMMS", None):
            comms.send(MaskSecret(value=list[Any](values)))
