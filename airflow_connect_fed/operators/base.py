"""What the provider's operators share: the hook built from their rendered arguments, rendered values, outlet events."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_connect_fed.exceptions import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context
    from botocore.config import Config

    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook


class ConnectOperator(BaseOperator):
    """An operator that calls Amazon Connect through
    :class:`~airflow_connect_fed.hooks.connect_federation.ConnectFederationHook`.

    The hook is built on first use in ``execute``, from the rendered arguments, with every hook
    argument (the shared quota's connection included) given at construction.

    :param aws_conn_id: Airflow ``aws`` connection to call with (``None``: boto3's default chain). (templated)
    :param region_name: AWS region; an instance ARN's region is used if this is unset. (templated)
    :param verify: whether to verify SSL certificates, or a CA bundle path. (templated)
    :param botocore_config: botocore ``Config`` keyword arguments for the clients.
    :param shared_quota_conn_id: Airflow ``redis`` connection of the deployment-wide quota
        (default ``[connect_federation] shared_quota_conn_id``).
    """

    ui_color = "#ff9900"
    template_fields: Sequence[str] = ("aws_conn_id", "region_name", "verify")

    def __init__(
        self,
        *,
        shared_quota_conn_id: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | Config | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.shared_quota_conn_id = shared_quota_conn_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    @cached_property
    def hook(self) -> ConnectFederationHook:
        """The hook on the operator's (rendered) connection arguments, built once per task run."""
        from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

        return ConnectFederationHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
            shared_quota_conn_id=self.shared_quota_conn_id,
        )


def rendered(field: str, value: Any) -> Any:
    """A templated field's value after rendering; ``None`` or ``"None"`` (a template of nothing) is refused."""
    if value is None or value == "None":
        raise InvalidInputError(
            f"{field} is {value!r} after template rendering: the template rendered nothing (a missing "
            "Variable, XCom or params value?). Check the template or the value it reads."
        )
    return value


def annotate_outlets(outlets: Sequence[Any], context: Context, extra: dict[str, Any]) -> None:
    """Put ``extra`` (never a token) on the event of each outlet Asset of the running task."""
    events = context.get("outlet_events")
    if events is None:
        return
    for outlet in outlets:
        events[outlet].extra.update(extra)
