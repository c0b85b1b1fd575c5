"""The destination interface: write a token, read it back from its reference, the current one for reuse."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_connect_fed.exceptions import InvalidFederationTokenError
from airflow_connect_fed.token import FederationToken

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_connect_fed.destinations.aws_store import AwsStoreDestination


class TokenDestination(ABC):
    """A place a federation token is written to.

    :meth:`write` returns the XCom value: the token itself for XCom, otherwise a reference
    (no token in it) that :meth:`read`, through :func:`airflow_connect_fed.load_federation_token`,
    turns back into the token.
    """

    kind: ClassVar[str]

    def check(self) -> None:
        """Check what a write needs (configuration, names), before any AWS call; makes no AWS call.

        Making a destination does no configuration read and no client work (DAG files make
        them at parse time); the operators call this first thing in ``execute``.
        """
        return None

    @abstractmethod
    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        """Store ``token`` with who it was requested for and as; return the value to push to XCom."""

    def current(self) -> StoredToken | None:
        """The token stored now, for ``reuse_if_valid_for``; ``None`` when there is none."""
        return None

    def describe(self, reference: Mapping[str, Any]) -> str:
        """Where the value :meth:`write` returned points, for log lines (never a token)."""
        return self.kind

    def aws_store(self) -> AwsStoreDestination | None:
        """The AWS store a write goes to, whose write quota paces it; ``None``: no AWS store."""
        return None

    @classmethod
    @abstractmethod
    def read(cls, reference: Mapping[str, Any]) -> FederationToken:
        """The token a value :meth:`write` returned points to."""


@dataclass(frozen=True)
class StoredToken:
    """A token as stored, with the Connect username it was requested for (``None``: the caller's own).

    ``principal`` is who requested it: the role ARN for a Connect username, otherwise the
    connection's own identity ARN; ``None`` when the stored value does not say. ``reference``
    is the XCom value that points to this stored version.
    """

    token: FederationToken
    connect_user: str | None
    reference: dict[str, Any]
    principal: str | None = None


def token_reference(kind: str, location: dict[str, Any], token: FederationToken) -> dict[str, Any]:
    """An XCom reference: the destination's kind, where the token is, whose it is and when it expires."""
    return {
        "kind": kind,
        **location,
        "instance_id": token.instance_id,
        "user_arn": token.user_arn,
        "user_id": token.user_id,
        "access_token_expiration": token.access_token_expiration.isoformat(),
        "refresh_token_expiration": token.refresh_token_expiration.isoformat(),
    }


def serialize(token: FederationToken, connect_user: str | None, principal: str | None = None) -> str:
    """The stored text: ``to_dict()`` plus ``ConnectUser`` and ``Principal``, so reuse can check the owner."""
    return json.dumps({**token.to_dict(), "ConnectUser": connect_user, "Principal": principal})


def stored_owner(text: str) -> tuple[str, str] | None:
    """``(InstanceId, ConnectUser)`` of a value :func:`serialize` wrote, ``None`` for any other value.

    Reads only those fields: no token is built or registered with the masker (which costs
    O(N^2) for N values), and nothing of the value reaches a message.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("Credentials"), dict):
        return None
    instance_id, connect_user = data.get("InstanceId"), data.get("ConnectUser")
    if isinstance(instance_id, str) and isinstance(connect_user, str):
        return instance_id, connect_user
    return None


def deserialize(text: str, location: str) -> tuple[FederationToken, str | None, str | None]:
    """Parse stored text into the token, its Connect user and principal; errors name the location, never the content."""
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        raise InvalidFederationTokenError(f"The value stored at {location} is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidFederationTokenError(f"The value stored at {location} is not a JSON object.")
    token = FederationToken.from_dict(data)
    token.mask()
    return token, data.get("ConnectUser"), data.get("Principal")
