"""Apache Airflow provider for Amazon Connect federation tokens."""

from __future__ import annotations

from airflow_connect_fed.reference import load_federation_token
from airflow_connect_fed.secret_key import secret_key_for

__version__ = "0.1.0"

__all__ = ["__version__", "load_federation_token", "secret_key_for"]
