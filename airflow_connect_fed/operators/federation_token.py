"""Operator that gets an Amazon Connect federation token and stores it safely."""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_connect_fed import metrics
from airflow_connect_fed._client.connect_user import connect_user_list, validate_caller, validate_role_arn
from airflow_connect_fed._client.instance import InstanceRef
from airflow_connect_fed._client.pacing import DEFAULT_BURST, DEFAULT_REQUESTS_PER_SECOND, validate_pacing
from airflow_connect_fed.destinations import (
    StoredToken,
    TokenDestination,
    XComDestination,
    resolve_destination,
    validate_destination,
)
from airflow_connect_fed.destinations.teams import task_team
from airflow_connect_fed.destinations.write_quota import paced_writes
from airflow_connect_fed.exceptions import (
    AwsConnectionError,
    BulkFederationError,
    ConnectFederationError,
    InvalidConnectUserError,
    InvalidDestinationError,
    InvalidFederationTokenError,
    InvalidInputError,
    TokenReadError,
    UserNotFoundError,
)
from airflow_connect_fed.operators.base import ConnectOperator, annotate_outlets, rendered
from airflow_connect_fed.secret_key import DEFAULT_SECRET_KEY, USER_FIELD, secret_key_for
from airflow_connect_fed.session_lifetimes import schedule_warnings
from airflow_connect_fed.token import ACCESS_TOKEN_MAX_LIFETIME

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow.sdk import Context

    from airflow_connect_fed.token import FederationToken

XCOM_WARNING = (
    "destination='xcom': the federation tokens go into XCom in plain text, readable in the metadata DB, "
    "through the REST API (xcomEntries) and in the UI by anyone who can see this DAG. Use "
    "destination='secrets_backend' to keep them out."
)


class _FederationOperator(ConnectOperator):
    """What both token operators add to :class:`ConnectOperator`: the instance and token reuse."""

    #: Templated in both operators, with the users field each adds.
    template_fields: Sequence[str] = (
        *ConnectOperator.template_fields,
        "instance_id",
        "role_arn",
        "secret_key",
    )

    def __init__(
        self,
        *,
        instance_id: str,
        destination: object,
        reuse_if_valid_for: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.reuse_if_valid_for = _reuse_window(reuse_if_valid_for)
        if self.reuse_if_valid_for is not None and destination == XComDestination.kind:
            raise InvalidInputError(
                "reuse_if_valid_for needs a destination that stores the token; with destination='xcom' "
                "there is nothing to reuse. Use destination='secrets_backend' or drop reuse_if_valid_for."
            )

    def _metric_tags(self, instance_id: str) -> dict[str, str]:
        """The tags of this task's metrics (backends without tags drop them)."""
        return {"instance_id": instance_id, "operator": type(self).__name__}

    def _check_schedule(
        self, context: Context, access_lifetime: timedelta, destination: TokenDestination
    ) -> None:
        """Warn when this DAG's runs, with the reuse window and the access tokens' life just seen, never
        reuse a token or rewrite Secrets Manager secrets more often than AWS advises."""
        store = destination.aws_store()
        secrets_manager = store is not None and store.kind == "secrets_manager"
        for warning in schedule_warnings(
            run_every=_since_previous_run(context) if secrets_manager else None,
            reuse_window=self.reuse_if_valid_for,
            access_lifetime=access_lifetime,
            secrets_manager=secrets_manager,
        ):
            self.log.warning(warning)


class GetFederationTokenOperator(_FederationOperator):
    """Get a Connect federation token (``GetFederationToken``) and hand it to a destination.

    - ``destination="secrets_backend"`` (default) with ``secret_key``: the token is written where
      Airflow's configured secrets backend reads the Variable ``secret_key``; XCom holds a
      reference without tokens. With no supported backend configured the task fails before
      any AWS call.
    - ``destination="xcom"``, asked for explicitly: the return value is ``FederationToken.to_dict()``,
      tokens in plain text in the metadata DB; one warning says so.
    - a :class:`~airflow_connect_fed.destinations.TokenDestination` for explicit control.

    Every input is checked after template rendering, before any AWS call. Both tokens are
    registered with Airflow's secret masker before anything is logged. Each outlet Asset gets
    the user ARN, expiry and whether the token rotated in its event's ``extra`` (never the token).

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param connect_user: Connect username to get the token for, via ``role_arn``. (templated)
    :param role_arn: IAM role assumed with ``RoleSessionName=connect_user``. (templated)
    :param destination: ``"secrets_backend"`` (default), ``"xcom"`` or a ``TokenDestination``.
    :param secret_key: Variable name for ``destination="secrets_backend"``; a ``{user}`` in it is
        filled with ``connect_user`` by the rule of :mod:`airflow_connect_fed.secret_key`, as
        ``GetFederationTokensOperator`` does. (templated)
    :param reuse_if_valid_for: skip the API call while the stored token's access token stays valid
        this long (``timedelta`` or seconds, under the access token's life: the instance's
        ``PeriodicSessionDuration``, at most 60 minutes); needs a destination that stores the token.
    :param shared_quota_conn_id: Airflow ``redis`` connection of the deployment-wide quota
        (default ``[connect_federation] shared_quota_conn_id``).
    """

    template_fields: Sequence[str] = (*_FederationOperator.template_fields, "connect_user")

    def __init__(
        self,
        *,
        instance_id: str,
        connect_user: str | None = None,
        role_arn: str | None = None,
        destination: str | TokenDestination = "secrets_backend",
        secret_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id=instance_id, destination=destination, **kwargs)
        self.connect_user = connect_user
        self.role_arn = role_arn
        self.secret_key = secret_key
        self.destination = validate_destination(destination)
        self._given = {name for name in ("connect_user", "role_arn") if getattr(self, name) is not None}
        self._secret_key_given = secret_key is not None

    def execute(self, context: Context) -> dict[str, Any]:
        instance_id = rendered("instance_id", self.instance_id)
        instance = InstanceRef.parse(instance_id)
        connect_user = rendered("connect_user", self.connect_user) if "connect_user" in self._given else None
        role_arn = rendered("role_arn", self.role_arn) if "role_arn" in self._given else None
        validate_caller(connect_user, role_arn)
        destination = self._destination(connect_user, task_team(context))
        principal = None if destination.kind == "xcom" else self._principal(connect_user, role_arn)
        stored = _reusable_token(
            destination, instance.instance_id, connect_user, principal, self.reuse_if_valid_for, self.log
        )
        if stored is not None:
            self.log.info(
                "Reusing the stored federation token for %s on instance %s: access token valid until %s, "
                "refresh token until %s; no API call made.",
                stored.token.user_arn,
                stored.token.instance_id,
                stored.token.access_token_expiration.isoformat(),
                stored.token.refresh_token_expiration.isoformat(),
            )
            annotate_outlets(self.outlets, context, _token_event(stored.token, rotated=False))
            metrics.incr("tokens_reused", tags=self._metric_tags(instance.instance_id))
            return stored.reference
        try:
            value = self._fetch(destination, instance_id, connect_user, role_arn, principal, context)
        except Exception:
            metrics.incr("tokens_failed", tags=self._metric_tags(instance.instance_id))
            raise
        metrics.incr("tokens_fetched", tags=self._metric_tags(instance.instance_id))
        return value

    def _fetch(
        self,
        destination: TokenDestination,
        instance_id: str,
        connect_user: str | None,
        role_arn: str | None,
        principal: str | None,
        context: Context,
    ) -> dict[str, Any]:
        """A new token from Connect, written to ``destination``; the destination's value."""
        token = self.hook.get_federation_token(instance_id, connect_user=connect_user, role_arn=role_arn)
        access_lifetime = token.expires_in()
        self.log.info(
            "Got a federation token for %s on instance %s; the access token expires at %s, the refresh token at %s.",
            token.user_arn,
            token.instance_id,
            token.access_token_expiration.isoformat(),
            token.refresh_token_expiration.isoformat(),
        )
        value = destination.write(token, connect_user, principal)
        if destination.kind != XComDestination.kind:
            self.log.info("Stored the token in %s.", destination.describe(value))
            self._check_schedule(context, access_lifetime, destination)
        annotate_outlets(self.outlets, context, _token_event(token, rotated=True))
        return value

    def _destination(self, connect_user: str | None, team_name: str | None) -> TokenDestination:
        """The rendered destination, checked (backend, key, store name) before any AWS call; ``team_name``:
        the task's team."""
        if self.destination == "xcom":
            self.log.warning(XCOM_WARNING)
            return resolve_destination("xcom")
        if self.destination != "secrets_backend":
            return _checked(resolve_destination(self.destination))
        if not self._secret_key_given:
            raise InvalidDestinationError(
                "destination='secrets_backend' (the default) needs secret_key, the Variable name the token is "
                "stored under and downstream tasks read, e.g. secret_key='connect/agents/agent-1'. "
                "destination='xcom' needs none but keeps the tokens in plain text in the metadata DB and UI."
            )
        secret_key = rendered("secret_key", self.secret_key)
        if USER_FIELD in secret_key:
            if connect_user is None:
                raise InvalidDestinationError(
                    f"secret_key {secret_key!r} contains '{USER_FIELD}', which is filled in with connect_user, "
                    "but no connect_user was given. Pass connect_user, or name the Variable of this one "
                    "token, e.g. 'connect/agents/agent-1'."
                )
            secret_key = secret_key_for(connect_user, secret_key)
        return _checked(resolve_destination("secrets_backend", secret_key, team_name))

    def _principal(self, connect_user: str | None, role_arn: str | None) -> str | None:
        """Who the token is requested as: the role for a Connect username, else the connection's identity."""
        if connect_user is not None:
            return role_arn
        from botocore.exceptions import BotoCoreError, ClientError

        from airflow_connect_fed._client.aws_error import AwsAnswer, describe

        try:
            return self.hook.caller_arn()
        except (ClientError, BotoCoreError) as error:
            fields = AwsAnswer.of(error).fields() if isinstance(error, ClientError) else {}
            fields.setdefault("error_code", type(error).__name__)
            raise AwsConnectionError(
                f"STS GetCallerIdentity failed for connection {self.aws_conn_id!r}: {describe(error).rstrip('.')}. "
                "The stored token records which identity requested it, so the operator asks STS first. Check "
                "the connection's credentials, region and endpoint_url.",
                **fields,
            ) from error


class GetFederationTokensOperator(_FederationOperator):
    """Get federation tokens for many Connect users in one task, paced to the API quota.

    Each user's token is stored separately, under ``secret_key`` with ``{user}`` filled in by
    the rule of :mod:`airflow_connect_fed.secret_key` (``agent.one@example.com`` is stored as
    ``connect/agents/agent.one_40example.com``; :func:`~airflow_connect_fed.secret_key.secret_key_for`
    gives the key), and the return value maps each user to its reference. One user's failure does not
    stop the others; the task fails at the end naming every failed user and why, unless
    ``allow_partial_failure=True``.

    With ``skip_departed_users=True``, a user Connect no longer has (``UserNotFoundException``: deleted
    since the list was made, e.g. by :class:`~airflow_connect_fed.operators.roster.ListConnectUsersOperator`)
    is reported as departed, not as a failure: one warning names the departed users, each outlet
    Asset's event gets them as ``departed_users``, and the return value leaves them out.

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param connect_users: Connect usernames: a list, or a JSON list / comma-separated string. (templated)
    :param role_arn: IAM role assumed with ``RoleSessionName=<user>``. (templated)
    :param destination: ``"secrets_backend"`` (default), ``"xcom"``, or a callable
        ``user -> TokenDestination``.
    :param secret_key: Variable name per user for ``destination="secrets_backend"``; must contain
        ``{user}`` (default ``connect/agents/{user}``). (templated)
    :param reuse_if_valid_for: skip users whose stored token stays valid this long.
    :param requests_per_second: GetFederationToken pace for this account and region
        (default ``[connect_federation] requests_per_second``, 2).
    :param burst: requests allowed at once before pacing starts (default ``[connect_federation] burst``, 5).
    :param shared_quota_conn_id: Airflow ``redis`` connection of the deployment-wide quota
        (default ``[connect_federation] shared_quota_conn_id``).
    :param allow_partial_failure: succeed with the users that worked, logging the others.
    :param skip_departed_users: report users Connect no longer has as departed instead of failed.
    """

    template_fields: Sequence[str] = (*_FederationOperator.template_fields, "connect_users")

    def __init__(
        self,
        *,
        instance_id: str,
        connect_users: list[str] | str,
        role_arn: str,
        destination: str | Callable[[str], TokenDestination] = "secrets_backend",
        secret_key: str = DEFAULT_SECRET_KEY,
        requests_per_second: float | None = None,
        burst: int | None = None,
        allow_partial_failure: bool = False,
        skip_departed_users: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id=instance_id, destination=destination, **kwargs)
        if not isinstance(skip_departed_users, bool):
            raise InvalidInputError(
                f"skip_departed_users must be True or False, got {skip_departed_users!r}."
            )
        self.skip_departed_users = skip_departed_users
        self.connect_users = connect_users
        self.role_arn = role_arn
        self.secret_key = secret_key
        self.destination = destination if callable(destination) else validate_destination(destination)
        if requests_per_second is not None or burst is not None:  # else the deployment's, read at run time
            validate_pacing(
                DEFAULT_REQUESTS_PER_SECOND if requests_per_second is None else requests_per_second,
                DEFAULT_BURST if burst is None else burst,
            )
        self.requests_per_second = requests_per_second
        self.burst = burst
        self.allow_partial_failure = allow_partial_failure

    def execute(self, context: Context) -> dict[str, Any]:
        instance_id = rendered("instance_id", self.instance_id)
        instance = InstanceRef.parse(instance_id)
        role_arn = validate_role_arn(rendered("role_arn", self.role_arn), "GetFederationTokensOperator")
        users = _user_list(rendered("connect_users", self.connect_users), role_arn)
        destinations = self._destinations(users, task_team(context))
        values: dict[str, Any] = {}
        for user in users:
            stored = _reusable_token(
                destinations[user], instance.instance_id, user, role_arn, self.reuse_if_valid_for, self.log
            )
            if stored is not None:
                values[user] = stored.reference
        fetch = [user for user in users if user not in values]
        failures: dict[str, ConnectFederationError] = {}
        lock = threading.Lock()
        access_lifetimes: list[timedelta] = []

        def store(user: str, token: FederationToken) -> None:
            access_lifetime = token.expires_in()
            value = destinations[user].write(token, user, role_arn)
            with lock:
                values[user] = value
                access_lifetimes.append(access_lifetime)

        if fetch:
            account = role_arn.split(":")[4]  # the stores' writes count against the role's account
            with paced_writes([destinations[user] for user in fetch], account, self.shared_quota_conn_id):
                results = self.hook.get_federation_tokens(
                    instance_id,
                    fetch,
                    role_arn=role_arn,
                    requests_per_second=self.requests_per_second,
                    burst=self.burst,
                    on_token=store,
                )
            failures = {user: r for user, r in results.items() if isinstance(r, ConnectFederationError)}
        departed: list[Any] = [
            user
            for user, failure in failures.items()
            if self.skip_departed_users and isinstance(failure, UserNotFoundError)
        ]
        for user in departed:
            del failures[user]
        tags = self._metric_tags(instance.instance_id)
        metrics.incr("tokens_fetched", len(fetch) - len(failures) - len(departed), tags=tags)
        metrics.incr("tokens_reused", len(users) - len(fetch), tags=tags)
        metrics.incr("tokens_failed", len(failures), tags=tags)
        metrics.incr("users_departed", len(departed), tags=tags)
        self.log.info(
            "Connect users: %d, tokens stored: %d, reused: %d, %sfailed: %d.",
            len(users),
            len(fetch) - len(failures) - len(departed),
            len(users) - len(fetch),
            f"departed: {len(departed)}, " if self.skip_departed_users else "",
            len(failures),
        )
        if departed:
            self.log.warning(
                "%d Connect user(s) no longer exist on instance %s (UserNotFoundException), reported as "
                "departed, not failed: %s. Their stored tokens stay until a prune deletes them.",
                len(departed),
                instance.instance_id,
                ", ".join(departed),
            )
        for user, failure in failures.items():
            self.log.warning("No token for %s: %s: %s", user, type(failure).__name__, failure)
        if access_lifetimes and self.destination != XComDestination.kind:
            self._check_schedule(context, max(access_lifetimes), destinations[fetch[0]])
        rotated: list[Any] = [user for user in fetch if user not in failures and user not in departed]
        extra: dict[str, Any] = {
            "instance_id": instance.instance_id,
            "rotated_users": rotated,
            "failed_users": list[Any](failures),
        }
        if self.skip_departed_users:
            extra["departed_users"] = departed
        annotate_outlets(self.outlets, context, extra)
        if failures and not self.allow_partial_failure:
            raise BulkFederationError(instance.instance_id, failures)
        return {user: values[user] for user in users if user in values}

    def _destinations(self, users: list[str], team_name: str | None) -> dict[str, TokenDestination]:
        """Each user's destination, checked (backend, store names) before any AWS call; ``team_name``: the
        task's team."""
        if callable(self.destination):
            return {user: _checked(_user_destination(self.destination, user)) for user in users}
        if self.destination == XComDestination.kind:
            self.log.warning(XCOM_WARNING)
            return dict.fromkeys(users, resolve_destination(XComDestination.kind))
        secret_key = rendered("secret_key", self.secret_key)
        return {
            user: _checked(
                resolve_destination("secrets_backend", secret_key_for(user, secret_key), team_name)
            )
            for user in users
        }


def _user_destination(factory: Callable[[str], TokenDestination], user: str) -> TokenDestination:
    destination = factory(user)
    if not isinstance(destination, TokenDestination):
        raise InvalidDestinationError(
            f"The destination callable returned {type(destination).__name__} for user {user!r}; it must "
            "return a TokenDestination (e.g. SecretsManagerDestination)."
        )
    return destination


def _checked(destination: TokenDestination) -> TokenDestination:
    """``destination`` once it has checked what its write needs, before any AWS call."""
    destination.check()
    return destination


def _token_event(token: FederationToken, *, rotated: bool) -> dict[str, Any]:
    return {
        "user_arn": token.user_arn,
        "instance_id": token.instance_id,
        "access_token_expiration": token.access_token_expiration.isoformat(),
        "refresh_token_expiration": token.refresh_token_expiration.isoformat(),
        "rotated": rotated,
    }


def _reusable_token(
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
        stored = destination.current()
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
            "The stored token's access token expires at %s, within reuse_if_valid_for %s (its refresh token "
            "expires at %s, but signing in needs the access token); getting a new one.",
            stored.token.access_token_expiration.isoformat(),
            window,
            stored.token.refresh_token_expiration.isoformat(),
        )
        return None
    return stored


def _user_list(value: object, role_arn: str) -> list[str]:
    """``connect_users`` as rendered: a list, or a JSON list / comma-separated string; each checked."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InvalidConnectUserError(f"connect_users {value!r} is not a valid JSON list.") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    return connect_user_list(value, role_arn)


def _since_previous_run(context: Context) -> timedelta | None:
    """Time since the DAG's previous successful run started: how often its runs come."""
    started = context.get("prev_start_date_success")
    if not started:  # no earlier successful run (the context's value is a lazy proxy: test its truth)
        return None
    return datetime.now(UTC) - datetime.fromtimestamp(started.timestamp(), UTC)


def _reuse_window(value: timedelta | float | None) -> timedelta | None:
    """``reuse_if_valid_for`` as a timedelta: more than 0 and at most the longest access token's life."""
    if value is None:
        return None
    window = value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        window = timedelta(seconds=value)
    if isinstance(window, timedelta) and timedelta(0) < window <= ACCESS_TOKEN_MAX_LIFETIME:
        return window
    raise InvalidInputError(
        f"reuse_if_valid_for must be a timedelta or a number of seconds above 0 and at most "
        f"{ACCESS_TOKEN_MAX_LIFETIME.total_seconds():.0f} (60 minutes), got {value!r}. Reuse is judged on the "
        "access token, which lives as long as the instance's authentication profile's PeriodicSessionDuration "
        "(10-60 minutes), not the refresh token's 12 hours: a longer window is never met. See the 'Session "
        "lifetimes' how-to for the window that fits a schedule."
    )
