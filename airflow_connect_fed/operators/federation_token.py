"""Operator that gets an Amazon Connect federation token and stores it safely."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_connect_fed.connect_user import unique_connect_users
from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, resolve_destination
from airflow_connect_fed.exceptions import (
    AwsConnectionError,
    BulkFederationError,
    ConnectFederationError,
    InvalidConnectUserError,
    InvalidDestinationError,
    InvalidFederationTokenError,
    InvalidInputError,
    TokenReadError,
)
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.instance import InstanceRef
from airflow_connect_fed.pacing import TokenBucket

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow.sdk import Context

    from airflow_connect_fed.token import FederationToken


class GetFederationTokenOperator(AwsBaseOperator[ConnectFederationHook]):
    """Get a Connect federation token (``GetFederationToken``) and hand it to a destination.

    - ``destination="xcom"``: the return value is ``FederationToken.to_dict()``.
    - ``destination="secrets_backend"`` with ``secret_key``: the token is written where
      Airflow's configured secrets backend reads the Variable ``secret_key``; XCom
      holds a reference without tokens.
    - a :class:`~airflow_connect_fed.destinations.TokenDestination` for explicit control.

    Both tokens are registered with Airflow's secret masker before anything is
    logged. Each outlet Asset gets the user ARN, expiry and whether the token
    rotated in its event's ``extra`` (never the token).

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param connect_user: Connect username to get the token for, via ``role_arn``. (templated)
    :param role_arn: IAM role assumed with ``RoleSessionName=connect_user``. (templated)
    :param destination: ``"xcom"``, ``"secrets_backend"`` or a ``TokenDestination``.
    :param secret_key: Variable name for ``destination="secrets_backend"``. (templated)
    :param reuse_if_valid_for: skip the API call while the stored token stays valid this long
        (``timedelta`` or seconds); needs a destination that stores the token.
    """

    aws_hook_class = ConnectFederationHook
    template_fields: Sequence[str] = aws_template_fields(
        "instance_id", "connect_user", "role_arn", "secret_key"
    )
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        instance_id: str,
        connect_user: str | None = None,
        role_arn: str | None = None,
        destination: str | TokenDestination = "xcom",
        secret_key: str | None = None,
        reuse_if_valid_for: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.connect_user = connect_user
        self.role_arn = role_arn
        self.destination = destination
        self.secret_key = secret_key
        self.reuse_if_valid_for = _as_timedelta(reuse_if_valid_for)
        checked = resolve_destination(destination, secret_key)  # bad destinations fail at DAG parse time
        if self.reuse_if_valid_for is not None and checked.kind == "xcom":
            raise InvalidInputError(
                "reuse_if_valid_for needs a destination that stores the token; with destination='xcom' "
                "there is nothing to reuse. Use destination='secrets_backend' or drop reuse_if_valid_for."
            )

    def execute(self, context: Context) -> dict[str, Any]:
        destination = resolve_destination(self.destination, self.secret_key)
        principal = None if destination.kind == "xcom" else self._principal()
        stored = reusable_token(
            destination, self.instance_id, self.connect_user, principal, self.reuse_if_valid_for, self.log
        )
        if stored is not None:
            self.log.info(
                "Reusing the stored federation token for %s on instance %s: valid until %s; no API call made.",
                stored.token.user_arn,
                stored.token.instance_id,
                stored.token.access_token_expiration.isoformat(),
            )
            annotate_outlets(self.outlets, context, _token_event(stored.token, rotated=False))
            return destination.reference(stored.token, stored.version)
        token = self.hook.get_federation_token(
            self.instance_id, connect_user=self.connect_user, role_arn=self.role_arn
        )
        self.log.info(
            "Got a federation token for %s on instance %s; the access token expires at %s.",
            token.user_arn,
            token.instance_id,
            token.access_token_expiration.isoformat(),
        )
        value = destination.write(token, self.connect_user, principal)
        if destination.kind != "xcom":
            self.log.info("Stored the token in %s %s.", destination.kind, _where(value))
        annotate_outlets(self.outlets, context, _token_event(token, rotated=True))
        return value

    def _principal(self) -> str | None:
        """Who the token is requested as: the role for a Connect username, else the connection's identity."""
        if self.connect_user is not None:
            return self.role_arn
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.hook.caller_arn()
        except (ClientError, BotoCoreError) as error:
            raise AwsConnectionError(
                f"STS GetCallerIdentity failed for connection {self.aws_conn_id!r}: {error}. The stored token "
                "records which identity requested it, so the operator asks STS first. Check the connection's "
                "credentials, region and endpoint_url.",
                error_code=type(error).__name__,
            ) from None


class GetFederationTokensOperator(AwsBaseOperator[ConnectFederationHook]):
    """Get federation tokens for many Connect users in one task, paced to the API quota.

    Each user's token is stored separately (``secret_key`` with ``{user}`` in it,
    e.g. ``connect/agents/{user}``) and the return value maps each user to its
    reference. One user's failure does not stop the others; the task fails at the
    end naming every failed user and why, unless ``allow_partial_failure=True``.

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param connect_users: Connect usernames: a list, or a JSON list / comma-separated string. (templated)
    :param role_arn: IAM role assumed with ``RoleSessionName=<user>``. (templated)
    :param destination: ``"secrets_backend"`` (default), ``"xcom"``, or a callable
        ``user -> TokenDestination``.
    :param secret_key: Variable name per user for ``destination="secrets_backend"``; must contain
        ``{user}``. (templated)
    :param reuse_if_valid_for: skip users whose stored token stays valid this long.
    :param requests_per_second: GetFederationToken pace for this account and region.
    :param burst: requests allowed at once before pacing starts.
    :param allow_partial_failure: succeed with the users that worked, logging the others.
    """

    aws_hook_class = ConnectFederationHook
    template_fields: Sequence[str] = aws_template_fields(
        "instance_id", "connect_users", "role_arn", "secret_key"
    )
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        instance_id: str,
        connect_users: list[str] | str,
        role_arn: str,
        destination: str | Callable[[str], TokenDestination] = "secrets_backend",
        secret_key: str = "connect/agents/{user}",  # noqa: S107 - a Variable name, not a secret
        reuse_if_valid_for: timedelta | float | None = None,
        requests_per_second: float = 2.0,
        burst: int = 5,
        allow_partial_failure: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.connect_users = connect_users
        self.role_arn = role_arn
        self.destination = destination
        self.secret_key = secret_key
        self.reuse_if_valid_for = _as_timedelta(reuse_if_valid_for)
        self.requests_per_second = requests_per_second
        self.burst = burst
        self.allow_partial_failure = allow_partial_failure
        TokenBucket(requests_per_second, burst)  # bad pacing values fail at DAG parse time
        if destination == "secrets_backend" and "{user}" not in str(secret_key):
            raise InvalidDestinationError(
                f"secret_key {secret_key!r} has no '{{user}}': every user would overwrite the same "
                "Variable. Use e.g. 'connect/agents/{user}'."
            )
        if destination not in ("secrets_backend", "xcom") and not callable(destination):
            raise InvalidDestinationError(
                f"Unknown destination {destination!r}. Use 'secrets_backend', 'xcom', or a callable "
                "taking a username and returning a TokenDestination."
            )

    def execute(self, context: Context) -> dict[str, Any]:
        users = _user_list(self.connect_users)
        destinations = {user: self._destination_for(user) for user in users}
        values: dict[str, Any] = {}
        for user in users:
            stored = reusable_token(
                destinations[user], self.instance_id, user, self.role_arn, self.reuse_if_valid_for, self.log
            )
            if stored is not None:
                values[user] = destinations[user].reference(stored.token, stored.version)
        fetch = [user for user in users if user not in values]
        results = self.hook.get_federation_tokens(
            self.instance_id,
            fetch,
            role_arn=self.role_arn,
            requests_per_second=self.requests_per_second,
            burst=self.burst,
        )
        failures: dict[str, ConnectFederationError] = {}
        for user, result in results.items():
            if isinstance(result, ConnectFederationError):
                failures[user] = result
                continue
            try:
                values[user] = destinations[user].write(result, user, self.role_arn)
            except ConnectFederationError as error:
                failures[user] = error
        self.log.info(
            "Connect users: %d, tokens stored: %d, reused: %d, failed: %d.",
            len(users),
            len(results) - len(failures),
            len(users) - len(fetch),
            len(failures),
        )
        for user, failure in failures.items():
            self.log.warning("No token for %s: %s: %s", user, type(failure).__name__, failure)
        rotated: list[Any] = [user for user in fetch if user not in failures]
        annotate_outlets(
            self.outlets,
            context,
            {"instance_id": self.instance_id, "rotated_users": rotated, "failed_users": list[Any](failures)},
        )
        if failures and not self.allow_partial_failure:
            raise BulkFederationError(InstanceRef.parse(self.instance_id).instance_id, failures)
        return values

    def _destination_for(self, user: str) -> TokenDestination:
        if callable(self.destination):
            return self.destination(user)
        return resolve_destination(self.destination, self.secret_key.replace("{user}", user))


def annotate_outlets(outlets: Sequence[Any], context: Context, extra: dict[str, Any]) -> None:
    """Put ``extra`` (never a token) on the event of each outlet Asset of the running task."""
    events = context.get("outlet_events")
    if events is None:
        return
    for outlet in outlets:
        events[outlet].extra.update(extra)


def _token_event(token: FederationToken, *, rotated: bool) -> dict[str, Any]:
    return {
        "user_arn": token.user_arn,
        "instance_id": token.instance_id,
        "access_token_expiration": token.access_token_expiration.isoformat(),
        "rotated": rotated,
    }


def reusable_token(
    destination: TokenDestination,
    instance_id: str,
    connect_user: str | None,
    principal: str | None,
    window: timedelta | None,
    log: Any,
) -> StoredToken | None:
    """The stored token if it is for this instance, user and requesting identity, and stays valid for ``window``."""
    if window is None:
        return None
    try:
        stored = destination.read_current()
    except (TokenReadError, InvalidFederationTokenError) as error:
        log.warning("The stored token cannot be reused (%s); getting a new one.", error)
        return None
    if stored is None:
        log.info("No stored token yet; getting one.")
        return None
    if (stored.token.instance_id, stored.connect_user) != (
        InstanceRef.parse(instance_id).instance_id,
        connect_user,
    ):
        log.info("The stored token is for another instance or user; getting a new one.")
        return None
    if stored.principal != principal:
        log.info(
            "The stored token was requested as %s, this task requests as %s; getting a new one.",
            stored.principal or "an identity it does not record",
            principal,
        )
        return None
    if not stored.token.is_valid(window):
        log.info(
            "The stored token expires at %s, within %s; getting a new one.",
            stored.token.access_token_expiration.isoformat(),
            window,
        )
        return None
    return stored


def _user_list(value: object) -> list[str]:
    """``connect_users`` as rendered: a list, or a JSON list / comma-separated string."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InvalidConnectUserError(f"connect_users {value!r} is not a valid JSON list.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    return unique_connect_users(value)


def _where(reference: dict[str, Any]) -> str:
    name = reference.get("secret_id") or reference.get("parameter_name")
    version = reference.get("version_id") or reference.get("version")
    return f"{name!r} (version {version})"


def _as_timedelta(value: timedelta | float | None) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, timedelta) and value >= timedelta(0):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    raise InvalidInputError(
        f"reuse_if_valid_for must be a timedelta or a number of seconds >= 0, got {value!r}."
    )
