"""Airflow's ``redact``, wherever this Airflow version keeps it."""

from __future__ import annotations

try:
    from tests.masker import redact
except ImportError:  # Airflow 3.0
    from airflow.sdk.execution_time.secrets_masker import redact

__all__ = ["redact"]
