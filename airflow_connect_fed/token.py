"""The federation token: the one value every part of the provider passes around."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from airflow_connect_fed.exceptions import InvalidFederationTokenError, InvalidInputError, TokenInXComError

_CREDENTIAL_FIELDS = ("AccessToken", "AccessTokenExpiration", "RefreshToken", "RefreshTokenExpiration")
_TOP_LEVEL_FIELDS = ("SignInUrl", "UserArn", "UserId")

#: The longest an access token lives: an authentication profile's ``PeriodicSessionDuration`` is
#: 10 to 60 minutes. No reuse window can be longer.
ACCESS_TOKEN_MAX_LIFETIME = timedelta(minutes=60)
#: The longest a refresh token lives: a profile's ``MaxSessionDuration`` is 360 to 720 minutes.
REFRESH_TOKEN_MAX_LIFETIME = timedelta(minutes=720)
#: Where the sign-in form is posted, under the instance's URL.
SIGN_IN_PATH = "/auth/sign-in"
#: A path on the instance: one leading ``/``, then no whitespace, backslash or control character.
_INSTANCE_PATH = re.compile(r"/(?!/)[^\s\\\x00-\x1f\x7f]*")


@dataclass(frozen=True, repr=False)
class SignInForm:
    """The HTML form that signs a token's agent in to the Connect instance: POST ``fields`` to ``url``.

    This is the form AWS's own sample posts (amazon-connect/video-call-escalation): ``credentials``
    is the JSON of ``AccessToken``, ``AccessTokenExpiration``, ``RefreshToken`` and
    ``RefreshTokenExpiration``, both expirations in epoch milliseconds, and ``destination`` is the
    path on the instance to open once signed in (empty: the instance's default). ``fields`` holds
    both tokens; ``repr()``/``str()`` show only the URL and the field names.
    """

    url: str
    fields: Mapping[str, str]

    def __repr__(self) -> str:
        return f"SignInForm(url={self.url!r}, fields={sorted(self.fields)} (values hidden))"

    __str__ = __repr__


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
        """Time left until the access token expires (negative once expired).

        The access token is the short-lived one (the instance's ``PeriodicSessionDuration``, 10 to 60
        minutes): signing in needs it unexpired, so validity and reuse are judged on it.
        """
        return self.access_token_expiration - (now or datetime.now(UTC))

    def refresh_expires_in(self, now: datetime | None = None) -> timedelta:
        """Time left until the refresh token expires (negative once expired): the longest a session
        signed in with this token can last (the instance's ``MaxSessionDuration``, 6 to 12 hours)."""
        return self.refresh_token_expiration - (now or datetime.now(UTC))

    def is_valid(self, margin: timedelta = timedelta(0), now: datetime | None = None) -> bool:
        """Whether the access token stays valid for at least ``margin`` from ``now``."""
        return self.expires_in(now) > margin

    def sign_in_form(self, destination: str = "", now: datetime | None = None) -> SignInForm:
        """The form a browser posts to sign this token's agent in to the instance (see :class:`SignInForm`).

        :param destination: the path on the instance to open once signed in, e.g. ``"/ccp-v2"``;
            empty (the default, as in AWS's sample) leaves it to the instance.
        :param now: the moment the form is for (default: now), as in :meth:`is_valid`.
        :raises InvalidFederationTokenError: the access token has expired (whatever the refresh token's
            life left), or ``sign_in_url`` is not a URL.
        :raises InvalidInputError: ``destination`` is not a path on the instance.
        """
        _check_destination(destination)
        if not self.is_valid(now=now):
            raise InvalidFederationTokenError(
                f"The access token of {self.user_arn} expired at {self.access_token_expiration.isoformat()} "
                f"(its refresh token expires at {self.refresh_token_expiration.isoformat()}); signing in needs "
                "an unexpired access token, and no public API refreshes it. Get a new token: the access token "
                "lives as long as the instance's authentication profile's PeriodicSessionDuration (10-60 "
                "minutes), so refresh or fetch it shortly before signing in (see the 'Session lifetimes' how-to)."
            )
        credentials = {
            "AccessToken": self.access_token,
            "AccessTokenExpiration": _epoch_milliseconds(self.access_token_expiration),
            "RefreshToken": self.refresh_token,
            "RefreshTokenExpiration": _epoch_milliseconds(self.refresh_token_expiration),
        }
        fields = {"credentials": json.dumps(credentials), "destination": destination}
        return SignInForm(url=self._instance_url() + SIGN_IN_PATH, fields=MappingProxyType(fields))

    def _instance_url(self) -> str:
        """The instance's URL: ``sign_in_url`` up to its ``/auth/sign-in``, else its origin."""
        parts = urlsplit(self.sign_in_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise InvalidFederationTokenError(
                f"The token's SignInUrl {self.sign_in_url!r} is not an http(s) URL, so it names no instance "
                "to sign in to. Use the SignInUrl GetFederationToken returned."
            )
        path = parts.path.split(SIGN_IN_PATH, 1)[0] if SIGN_IN_PATH in parts.path else ""
        return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}"


def _check_destination(destination: object) -> None:
    if destination == "" or (isinstance(destination, str) and _INSTANCE_PATH.fullmatch(destination)):
        return
    raise InvalidInputError(
        f"destination {destination!r} is not a path on the Connect instance. Pass '' (the instance's "
        "default) or a path that starts with a single '/', e.g. '/ccp-v2', with no scheme, host or whitespace."
    )


def _epoch_milliseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


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
