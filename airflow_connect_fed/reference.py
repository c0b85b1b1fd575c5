"""Reading a token back from what the operator left in XCom."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_connect_fed.exceptions import InvalidFederationTokenError

if TYPE_CHECKING:
    from airflow_connect_fed.token import FederationToken


def load_federation_token(value: Mapping[str, Any] | str) -> FederationToken:
    """Return the :class:`FederationToken` behind an XCom value of ``GetFederationTokenOperator``.

    ``value`` is the token itself (``destination="xcom"``), a reference to where
    it was stored (read from there), or the JSON text of either.
    """
    from airflow_connect_fed.destinations import DESTINATIONS

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidFederationTokenError(
                "The value is a string but not JSON; pass the XCom value GetFederationTokenOperator returned."
            ) from None
    if not isinstance(value, Mapping):
        raise InvalidFederationTokenError(
            f"Expected the XCom value of GetFederationTokenOperator (a mapping), got {type(value).__name__}."
        )
    kind = "xcom" if "Credentials" in value else value.get("kind")
    if kind not in DESTINATIONS:
        raise InvalidFederationTokenError(
            f"The value is neither a federation token nor a reference to one (kind={kind!r}); pass the "
            "XCom value GetFederationTokenOperator returned."
        )
    return DESTINATIONS[kind].read(value)
