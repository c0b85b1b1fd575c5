"""Airflow's ``redact``, wherever this Airflow version keeps it."""

from __future__ import annotations

try:
    from airflow.sdk._shared.secrets_masker import redact
except ImportError:  # Airflow 3.0
    from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef]

__all__ = ["redact"]
