"""XCom destination: the token itself is the XCom value (plain text in the metadata DB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_connect_fed.destinations.base import TokenDestination

if TYPE_CHECKING:
    from airflow_connect_fed.token import FederationToken


class XComDestination(TokenDestination):
    """Push ``FederationToken.to_dict()`` to XCom.

    Anyone who can read the DAG's XComs can read the token; prefer a secrets
    store for anything but short-lived or test tokens.
    """

    kind = "xcom"

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        return token.to_dict()

    def put(self, text: str) -> str:
        raise NotImplementedError("XCom values are pushed by Airflow from the operator's return value.")

    def location(self, version: str | int | None) -> dict[str, Any]:
        return {}
