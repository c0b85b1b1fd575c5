"""The destination interface: write a token, return what goes into XCom."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_connect_fed.exceptions import InvalidDestinationError

if TYPE_CHECKING:
    from airflow_connect_fed.token import FederationToken

DESTINATION_NAMES = ("xcom",)


class TokenDestination(ABC):
    """A place a federation token is written to.

    :meth:`write` returns the XCom value: the token itself for XCom, otherwise a
    reference that :func:`airflow_connect_fed.load_federation_token` resolves.
    """

    kind: ClassVar[str]

    @abstractmethod
    def write(self, token: FederationToken) -> dict[str, Any]:
        """Store ``token``; return the value to push to XCom."""

    def read_current(self) -> FederationToken | None:
        """The token stored now, or ``None`` when there is none (used by ``reuse_if_valid_for``)."""
        return None


def resolve_destination(destination: object) -> TokenDestination:
    """Turn the operator's ``destination`` argument into a :class:`TokenDestination`."""
    if isinstance(destination, TokenDestination):
        return destination
    if destination == "xcom":
        from airflow_connect_fed.destinations.xcom import XComDestination

        return XComDestination()
    raise InvalidDestinationError(
        f"Unknown destination {destination!r}. Use one of {', '.join(map(repr, DESTINATION_NAMES))} "
        "or a TokenDestination object."
    )
