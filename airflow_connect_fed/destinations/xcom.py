"""XCom destination: the token itself is the XCom value (plain text in the metadata DB)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_connect_fed.destinations.base import TokenDestination
from airflow_connect_fed.token import FederationToken

if TYPE_CHECKING:
    from collections.abc import Mapping


class XComDestination(TokenDestination):
    """Push ``FederationToken.to_dict()`` to XCom, only when a DAG asks with ``destination="xcom"``.

    Anyone who can read the DAG's XComs can read the token: the metadata DB, the REST API
    and the UI show it. Prefer a secrets store for anything but short-lived or test tokens.
    """

    kind = "xcom"

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        return token.to_dict()

    @classmethod
    def read(cls, reference: Mapping[str, Any]) -> FederationToken:
        token = FederationToken.from_dict(reference)
        token.mask()
        return token
