"""The federation token: the one value every part of the provider passes around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_connect_fed.exceptions import InvalidFederationTokenError, TokenInXComError

_CREDENTIAL_FIELDS = ("AccessToken", "AccessTokenExpiration", "RefreshToken", "RefreshTokenExpiration")
_TOP_LEVEL_FIELDS = ("SignInUrl", "UserArn", "UserId")

#: How long Connect's tokens live; no reuse window can be longer.
TOKEN_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class FederationToken:
    """An Amazon Connect federation token pair and the user it belongs to.

    The tokens are excluded from ``repr()``/``str()`` so that a token object can
    be logged or shown in a traceback without leaking them.
    """

    access_token: str = field(repr=False)
    access_token_expiration: datetime
    refresh_token: str = field(repr=False)
    refresh_token_expiration: datetime
    sign_in_url: str
    user_arn: str
    user_id: str
    instance_id: str

    def __post_init__(self) -> None:
        for name in ("access_token_expiration", "refresh_token_expiration"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidFederationTokenError(
                    f"FederationToken.{name} must be a timezone-aware datetime, got {value!r}."
                )
            object.__setattr__(self, name, value.astimezone(UTC))

    def to_dict(self) -> dict[str, Any]:
        """Return the API's response shape, JSON-safe, with ISO-8601 timestamps."""
        return {
            "Credentials": {
                "AccessToken": self.access_token,
                "AccessTokenExpiration": self.access_token_expiration.isoformat(),
                "RefreshToken": self.refresh_token,
                "RefreshTokenExpiration": self.refresh_token_expiration.isoformat(),
            },
            "SignInUrl": self.sign_in_url,
            "UserArn": self.user_arn,
            "UserId": self.user_id,
            "InstanceId": self.instance_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], instance_id: str | None = None) -> FederationToken:
        """Build a token from :meth:`to_dict` output or a raw boto3 ``get_federation_token`` response.

        A raw response has no ``InstanceId``: pass ``instance_id``, or it is read
        from the user ARN.
        """
        if not isinstance(data, Mapping):
            raise InvalidFederationTokenError(
                f"A federation token must be a mapping, got {type(data).__name__}."
            )
        credentials = data.get("Credentials")
        if not isinstance(credentials, Mapping):
            raise InvalidFederationTokenError(
                "A federation token needs a 'Credentials' mapping; the value has keys "
                f"{sorted(data)}. Pass FederationToken.to_dict() output or a get_federation_token response."
            )
        missing = [f"Credentials.{k}" for k in _CREDENTIAL_FIELDS if not credentials.get(k)]
        missing += [k for k in _TOP_LEVEL_FIELDS if not data.get(k)]
        if missing:
            raise InvalidFederationTokenError(f"The federation token is missing {', '.join(missing)}.")
        user_arn = str(data["UserArn"])
        return cls(
            access_token=str(credentials["AccessToken"]),
            access_token_expiration=_parse_timestamp(
                credentials["AccessTokenExpiration"], "AccessTokenExpiration"
            ),
            refresh_token=str(credentials["RefreshToken"]),
            refresh_token_expiration=_parse_timestamp(
                credentials["RefreshTokenExpiration"], "RefreshTokenExpiration"
            ),
            sign_in_url=str(data["SignInUrl"]),
            user_arn=user_arn,
            user_id=str(data["UserId"]),
            instance_id=str(data.get("InstanceId") or instance_id or _instance_id_from_user_arn(user_arn)),
        )

    def mask(self) -> None:
        """Register both tokens with Airflow's secret masker, so logs show ``***`` in their place."""
        from airflow_connect_fed.masking import mask_secrets

        mask_secrets([self.access_token, self.refresh_token])

    def serialize(self) -> dict[str, Any]:
        """Refuse to become an XCom value (Airflow's serializer calls this for a task's return value)."""
        raise TokenInXComError(
            f"A task returned the federation token of {self.user_arn}; Airflow would store both tokens in "
            "plain text in the metadata DB, where the REST API and UI show them. Store it with "
            "GetFederationTokenOperator (destination='secrets_backend', secret_key=...) and pass on its "
            "reference, or, knowingly, return token.to_dict(): what destination='xcom' does, tokens "
            "readable in the DB and UI."
        )

    def expires_in(self, now: datetime | None = None) -> timedelta:
        """Time left until the access token expires (negative once expired)."""
        return self.access_token_expiration - (now or datetime.now(UTC))

    def is_valid(self, margin: timedelta = timedelta(0), now: datetime | None = None) -> bool:
        """Whether the access token stays valid for at least ``margin`` from ``now``."""
        return self.expires_in(now) > margin


def _parse_timestamp(value: Any, name: str) -> datetime:
    """Read an API timestamp: a datetime (naive means UTC), epoch seconds, or an ISO-8601 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFederationTokenError(
                f"Credentials.{name} is not an ISO-8601 timestamp: {value!r}."
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidFederationTokenError(
        f"Credentials.{name} must be a datetime, epoch seconds or ISO-8601 string, got {type(value).__name__}."
    )


def _instance_id_from_user_arn(user_arn: str) -> str:
    """``arn:aws:connect:REGION:ACCOUNT:instance/ID/agent/USER`` -> ``ID``."""
    _, _, resource = user_arn.partition(":instance/")
    instance_id = resource.split("/", 1)[0]
    if not instance_id:
        raise InvalidFederationTokenError(
            f"Cannot tell the Connect instance from UserArn {user_arn!r}; pass instance_id."
        )
    return instance_id
