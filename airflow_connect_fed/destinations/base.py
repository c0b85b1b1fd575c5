"""The destination interface: write a token, return what goes into XCom, read it back."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_connect_fed.exceptions import InvalidDestinationError, InvalidFederationTokenError
from airflow_connect_fed.token import FederationToken

if TYPE_CHECKING:
    from collections.abc import Mapping

DESTINATION_NAMES = ("xcom", "secrets_backend")


class TokenDestination(ABC):
    """A place a federation token is written to.

    :meth:`write` returns the XCom value: the token itself for XCom, otherwise a
    reference (no token in it) that :func:`airflow_connect_fed.load_federation_token`
    resolves through :meth:`load`.
    """

    kind: ClassVar[str]

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        """Store ``token`` with who it was requested for and as; return the value to push to XCom."""
        version = self.put(serialize(token, connect_user, principal))
        return self.reference(token, version)

    @abstractmethod
    def put(self, text: str) -> str | int:
        """Store the serialized token as the new current value; return its version."""

    @abstractmethod
    def location(self, version: str | int | None) -> dict[str, Any]:
        """Where a stored version lives, as reference fields."""

    def read_current(self) -> StoredToken | None:
        """The token stored now, or ``None`` when nothing is stored (used by ``reuse_if_valid_for``)."""
        return None

    def reference(self, token: FederationToken, version: str | int | None) -> dict[str, Any]:
        """The XCom value for a stored token: where it is and when it expires, never the token."""
        return {
            "kind": self.kind,
            **self.location(version),
            "instance_id": token.instance_id,
            "user_arn": token.user_arn,
            "user_id": token.user_id,
            "access_token_expiration": token.access_token_expiration.isoformat(),
            "refresh_token_expiration": token.refresh_token_expiration.isoformat(),
        }

    @classmethod
    def load(cls, reference: Mapping[str, Any]) -> FederationToken:
        """Read the token a reference of this kind points to."""
        raise InvalidFederationTokenError(f"References of kind {cls.kind!r} cannot be read back.")


@dataclass(frozen=True)
class StoredToken:
    """A token as stored, with the Connect username it was requested for (``None``: the caller's own).

    ``principal`` is who requested it: the role ARN for a Connect username, otherwise the
    connection's own identity ARN; ``None`` when the stored value does not say.
    """

    token: FederationToken
    connect_user: str | None
    version: str | int | None = None
    principal: str | None = None


def serialize(token: FederationToken, connect_user: str | None, principal: str | None = None) -> str:
    """The stored text: ``to_dict()`` plus ``ConnectUser`` and ``Principal``, so reuse can check the owner."""
    return json.dumps({**token.to_dict(), "ConnectUser": connect_user, "Principal": principal})


def deserialize(text: str, location: str, version: str | int | None = None) -> StoredToken:
    """Parse stored text; the error names the location, never the content."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        raise InvalidFederationTokenError(f"The value stored at {location} is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidFederationTokenError(f"The value stored at {location} is not a JSON object.")
    token = FederationToken.from_dict(data)
    token.mask()
    return StoredToken(token, data.get("ConnectUser"), version, data.get("Principal"))


def resolve_destination(destination: object, secret_key: str | None = None) -> TokenDestination:
    """Turn the operator's ``destination`` argument into a :class:`TokenDestination`."""
    if isinstance(destination, TokenDestination):
        return destination
    if destination == "xcom":
        from airflow_connect_fed.destinations.xcom import XComDestination

        return XComDestination()
    if destination == "secrets_backend":
        from airflow_connect_fed.destinations.secrets_backend import SecretsBackendDestination

        return SecretsBackendDestination(secret_key)
    raise InvalidDestinationError(
        f"Unknown destination {destination!r}. Use one of {', '.join(map(repr, DESTINATION_NAMES))} "
        "or a TokenDestination object (SecretsManagerDestination, SsmParameterDestination)."
    )
