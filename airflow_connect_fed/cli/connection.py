"""How the command line's AWS options combine with the Airflow connection, in one hook.

The connection (``--conn-id``, default ``aws_default``) is looked up as Airflow does outside its
own server processes: ``AIRFLOW_CONN_<ID>`` variables, then the configured secrets backend (not
the metadata database). On top of it:

* ``--profile`` replaces the connection's credentials (login/password and credential keys in its
  extra) with that boto3 profile's; the rest of the connection (region, endpoint, ``role_arn`` to
  assume, ``config_kwargs``) still applies.
* ``--endpoint-url`` replaces the connection's ``endpoint_url`` and its Connect and STS service
  endpoints (STS serves ``--connect-user`` role sessions, ``check`` and the connection's ``role_arn``).
* ``--region``, ``--no-verify-ssl``/``--ca-bundle`` and the timeouts take precedence over the
  connection's values; the timeouts merge into its ``config_kwargs`` rather than replacing them.

An explicit ``--conn-id`` must exist. Without one, a missing ``aws_default`` means boto3's own
credential chain (environment, ``AWS_PROFILE``, instance roles), like the hook in a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from airflow.providers.common.compat.sdk import AirflowNotFoundException
from botocore.config import Config

from airflow_connect_fed.cli.exit_codes import UsageError
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

if TYPE_CHECKING:
    import argparse

DEFAULT_CONN_ID = "aws_default"
#: The services a command calls; ``--endpoint-url`` applies to each (STS also for assuming roles).
_SERVICES = ("connect", "sts")
_CREDENTIAL_EXTRA_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "session_kwargs")


@dataclass(frozen=True)
class AwsOptions:
    """The command line's credential and endpoint options."""

    conn_id: str = DEFAULT_CONN_ID
    conn_id_given: bool = False
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    verify: bool | str | None = None
    read_timeout: int | None = None
    connect_timeout: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AwsOptions:
        verify: bool | str | None = False if args.no_verify_ssl else args.ca_bundle
        return cls(
            conn_id=args.conn_id or DEFAULT_CONN_ID,
            conn_id_given=args.conn_id is not None,
            profile=args.profile,
            region=args.region,
            endpoint_url=args.endpoint_url,
            verify=verify,
            read_timeout=args.cli_read_timeout,
            connect_timeout=args.cli_connect_timeout,
        )

    def botocore_config(self) -> Config | None:
        """The timeouts as a botocore ``Config``; 0 means no timeout, as in the AWS CLI."""
        timeouts: dict[str, Any] = {
            name: value or None
            for name, value in (
                ("read_timeout", self.read_timeout),
                ("connect_timeout", self.connect_timeout),
            )
            if value is not None
        }
        return Config(**timeouts) if timeouts else None


class CommandLineHook(ConnectFederationHook):
    """:class:`ConnectFederationHook` whose connection has the command line's options applied."""

    def __init__(self, options: AwsOptions) -> None:
        super().__init__(
            aws_conn_id=options.conn_id,
            region_name=options.region,
            verify=options.verify,
            config=options.botocore_config(),
        )
        self._options = options

    @cached_property
    def conn_config(self) -> AwsConnectionWrapper:
        """The looked-up connection with ``--profile`` and ``--endpoint-url`` applied to its extra."""
        login, password, extra = self._connection_fields()
        if self._options.profile:
            login = password = None
            extra = {k: v for k, v in extra.items() if k not in _CREDENTIAL_EXTRA_KEYS}
            extra["profile_name"] = self._options.profile
        if self._options.endpoint_url:
            extra["endpoint_url"] = self._options.endpoint_url
            services = dict(extra.get("service_config", {}))
            for service in _SERVICES:
                services[service] = {**services.get(service, {}), "endpoint_url": self._options.endpoint_url}
            extra["service_config"] = services
        connection = AwsConnectionWrapper.from_connection_metadata(
            conn_id=self._options.conn_id, login=login, password=password, extra=extra
        )
        return AwsConnectionWrapper(
            conn=connection,
            region_name=self._options.region,
            botocore_config=_merged(connection.botocore_config, self._options.botocore_config()),
            verify=self._options.verify,
        )

    def _connection_fields(self) -> tuple[str | None, str | None, dict[str, Any]]:
        """Login, password and extra of the connection; empty when ``aws_default`` is not defined."""
        try:
            connection = self.get_connection(self._options.conn_id)
        except AirflowNotFoundException:
            if self._options.conn_id_given:
                raise UsageError(
                    f"Airflow connection {self._options.conn_id!r} is not defined in the environment or the "
                    f"configured secrets backend. Define it (e.g. AIRFLOW_CONN_{self._options.conn_id.upper()}="
                    '\'{"conn_type": "aws", ...}\'), or drop --conn-id to use aws_default or boto3\'s credentials.'
                ) from None
            return None, None, {}
        if connection.conn_type not in (None, "", "aws"):
            raise UsageError(
                f"Airflow connection {self._options.conn_id!r} has type {connection.conn_type!r}; "
                "connect-fed needs an 'aws' connection (Amazon Web Services)."
            )
        return connection.login, connection.password, dict(connection.extra_dejson)


def _merged(base: Config | None, override: Config | None) -> Config | None:
    if base is None or override is None:
        return override or base
    return base.merge(override)
