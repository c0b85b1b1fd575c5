"""Where a federation token goes after it is fetched, and how it is read back.

Every kind is registered once, in :data:`DESTINATIONS`.
"""

from __future__ import annotations

from airflow_connect_fed.destinations.aws_store import AwsStoreDestination
from airflow_connect_fed.destinations.base import StoredToken, TokenDestination
from airflow_connect_fed.destinations.secrets_backend import SecretsBackendDestination
from airflow_connect_fed.destinations.secrets_manager import SecretsManagerDestination
from airflow_connect_fed.destinations.ssm import SsmParameterDestination
from airflow_connect_fed.destinations.xcom import XComDestination
from airflow_connect_fed.exceptions import InvalidDestinationError

#: Every destination by its ``kind``, the name its references carry.
DESTINATIONS: dict[str, type[TokenDestination]] = {
    cls.kind: cls
    for cls in (
        SecretsBackendDestination,
        SecretsManagerDestination,
        SsmParameterDestination,
        XComDestination,
    )
}
#: The kinds an operator's ``destination`` may name as a string.
DESTINATION_NAMES = (SecretsBackendDestination.kind, XComDestination.kind)


def validate_destination(destination: object) -> str | TokenDestination:
    """An operator's ``destination`` argument, a name or an object, checked when the DAG is parsed."""
    if isinstance(destination, TokenDestination) or destination in DESTINATION_NAMES:
        return destination
    raise InvalidDestinationError(
        f"Unknown destination {destination!r}. Use 'secrets_backend' (the default), 'xcom' (tokens in plain "
        "text in the metadata DB) or a TokenDestination object (SecretsManagerDestination, "
        "SsmParameterDestination)."
    )


def resolve_destination(
    destination: object, secret_key: str | None = None, team_name: str | None = None
) -> TokenDestination:
    """The operator's ``destination`` argument (a name or an object) as a :class:`TokenDestination`;
    ``team_name``, the running task's team, for ``"secrets_backend"``."""
    destination = validate_destination(destination)
    if isinstance(destination, TokenDestination):
        return destination
    if destination == XComDestination.kind:
        return XComDestination()
    return SecretsBackendDestination(secret_key, team_name)


__all__ = [
    "DESTINATIONS",
    "DESTINATION_NAMES",
    "AwsStoreDestination",
    "SecretsBackendDestination",
    "SecretsManagerDestination",
    "SsmParameterDestination",
    "StoredToken",
    "TokenDestination",
    "XComDestination",
    "resolve_destination",
    "validate_destination",
]
