"""The GetFederationToken response as the command prints it, with the tokens redacted by default."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_connect_fed.token import FederationToken

#: The operation name: the AWS CLI's table title.
OPERATION = "GetFederationToken"
REDACTED = "****(redacted, use --show-tokens)"
_TOKEN_FIELDS = ("AccessToken", "RefreshToken")


def response_of(token: FederationToken, *, show_tokens: bool) -> dict[str, Any]:
    """The API response shape in the service model's member order, timestamps as ISO-8601 in UTC.

    Without ``show_tokens`` both tokens are replaced by a notice, before ``--query`` sees the data.
    """
    data = token.to_dict()
    credentials = data["Credentials"]
    if not show_tokens:
        credentials.update(dict.fromkeys(_TOKEN_FIELDS, REDACTED))
    return {
        "UserId": data["UserId"],
        "UserArn": data["UserArn"],
        "Credentials": credentials,
        "SignInUrl": data["SignInUrl"],
    }
