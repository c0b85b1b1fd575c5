"""Operator that gets an Amazon Connect federation token and stores it safely."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_connect_fed.destinations.base import TokenDestination, resolve_destination
from airflow_connect_fed.exceptions import InvalidInputError
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context


class GetFederationTokenOperator(AwsBaseOperator[ConnectFederationHook]):
    """Get a Connect federation token (``GetFederationToken``) and hand it to a destination.

    With ``destination="xcom"`` the return value is ``FederationToken.to_dict()``.
    Both tokens are registered with Airflow's secret masker before anything is
    logged, so task logs show ``***`` in their place.

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param connect_user: Connect username to get the token for, via ``role_arn``. (templated)
    :param role_arn: IAM role assumed with ``RoleSessionName=connect_user``. (templated)
    :param destination: ``"xcom"`` or a :class:`~airflow_connect_fed.destinations.TokenDestination`.
    :param secret_key: key of the stored token, for destinations that store by key. (templated)
    :param reuse_if_valid_for: skip the API call when the stored token stays valid this long
        (``timedelta`` or seconds).
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
        resolve_destination(destination)  # unknown destinations fail at DAG parse time

    def execute(self, context: Context) -> dict[str, Any]:
        destination = resolve_destination(self.destination)
        token = self.hook.get_federation_token(
            self.instance_id, connect_user=self.connect_user, role_arn=self.role_arn
        )
        self.log.info(
            "Got a federation token for %s on instance %s; the access token expires at %s.",
            token.user_arn,
            token.instance_id,
            token.access_token_expiration.isoformat(),
        )
        return destination.write(token)


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
