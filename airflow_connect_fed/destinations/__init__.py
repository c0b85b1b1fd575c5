"""Where a federation token goes after it is fetched, and how it is read back."""

from __future__ import annotations

from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, resolve_destination
from airflow_connect_fed.destinations.secrets_backend import SecretsBackendDestination
from airflow_connect_fed.destinations.secrets_manager import SecretsManagerDestination
from airflow_connect_fed.destinations.ssm import SsmParameterDestination
from airflow_connect_fed.destinations.xcom import XComDestination

__all__ = [
    "SecretsBackendDestination",
    "SecretsManagerDestination",
    "SsmParameterDestination",
    "StoredToken",
    "TokenDestination",
    "XComDestination",
    "resolve_destination",
]
