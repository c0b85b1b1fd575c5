"""Operator that gets an Amazon Connect federation token and stores it safely."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, resolve_destination
from airflow_connect_fed.exceptions import InvalidFederationTokenError, InvalidInputError, TokenReadError
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.instance import InstanceRef

if TYPE_CHECKING:
    from collections.abc import Sequence

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
        stored = self._reusable(destination)
        if stored is not None:
            self.log.info(
                "Reusing the stored federation token for %s on instance %s: valid until %s; no API call made.",
                stored.token.user_arn,
                stored.token.instance_id,
                stored.token.access_token_expiration.isoformat(),
            )
            self._annotate_outlets(context, stored.token, rotated=False)
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
        value = destination.write(token, self.connect_user)
        if destination.kind != "xcom":
            self.log.info("Stored the token in %s %s.", destination.kind, _where(value))
        self._annotate_outlets(context, token, rotated=True)
        return value

    def _reusable(self, destination: TokenDestination) -> StoredToken | None:
        """The stored token if it is for this instance and user and valid long enough."""
        if self.reuse_if_valid_for is None:
            return None
        try:
            stored = destination.read_current()
        except (TokenReadError, InvalidFederationTokenError) as error:
            self.log.warning("The stored token cannot be reused (%s); getting a new one.", error)
            return None
        if stored is None:
            self.log.info("No stored token yet; getting one.")
            return None
        wanted = (InstanceRef.parse(self.instance_id).instance_id, self.connect_user)
        if (stored.token.instance_id, stored.connect_user) != wanted:
            self.log.info("The stored token is for another instance or user; getting a new one.")
            return None
        if not stored.token.is_valid(self.reuse_if_valid_for):
            self.log.info(
                "The stored token expires at %s, within %s; getting a new one.",
                stored.token.access_token_expiration.isoformat(),
                self.reuse_if_valid_for,
            )
            return None
        return stored

    def _annotate_outlets(self, context: Context, token: FederationToken, *, rotated: bool) -> None:
        events = context.get("outlet_events")
        if events is None:
            return
        for outlet in self.outlets:
            events[outlet].extra.update(
                {
                    "user_arn": token.user_arn,
                    "instance_id": token.instance_id,
                    "access_token_expiration": token.access_token_expiration.isoformat(),
                    "rotated": rotated,
                }
            )


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
