"""How the command line finds its Airflow connection, and how its AWS options combine with it, in one hook.

The connection (``--conn-id``, default ``aws_default``) is looked up as ``airflow connections get``
does, in the sources Airflow lists for its own processes (``airflow.configuration.ensure_secrets_loaded``),
in Airflow's documented order: the secrets backend configured in ``[secrets] backend``, if any; then
``AIRFLOW_CONN_<ID>`` environment variables; then the metadata database. The first source that has
the connection wins. A source that cannot be read (the metadata database unreachable or not
initialised, a secrets backend raising) is skipped, and named with the reason; when the connection
is then found in a later source, a warning on stderr says so, since the skipped source comes first
in Airflow's order. ``--debug`` logs which source the connection came from.

When no source has the connection:

* with an explicit ``--conn-id``: a usage error (252) naming the id, every source looked in with
  what it answered, and how to define the connection;
* without ``--conn-id``, every source read (a metadata database that is not initialised holds no
  connection, so it counts as read): the command calls AWS with boto3's default credential chain,
  as the amazon provider's hook does in a task, and says so on stderr: the sources looked in, and
  which credentials the chain found (provider, profile, the access key ID's last four characters,
  as ``aws configure list`` shows it). No credentials found is an error (255). With ``--profile``
  the identity is chosen explicitly and nothing is announced (``--debug`` says it).
* without ``--conn-id``, a source skipped: a usage error (252). ``aws_default`` may be defined where
  it could not be read, and another identity is never substituted for it.

On top of the connection:

* ``--profile`` replaces the connection's credentials (login/password and credential keys in its
  extra) with that boto3 profile's; the rest of the connection (region, endpoint, ``role_arn`` to
  assume, ``config_kwargs``) still applies.
* ``--endpoint-url`` replaces the connection's ``endpoint_url`` and its Connect and STS service
  endpoints (STS serves ``--connect-user`` role sessions, ``check`` and the connection's ``role_arn``).
* ``--region``, ``--no-verify-ssl``/``--ca-bundle`` and the timeouts take precedence over the
  connection's values; the timeouts merge into its ``config_kwargs`` rather than replacing them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory
from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from botocore.config import Config

from airflow_connect_fed._client.federation import DEFAULT_RETRIES, AwsAccess, FederationClient
from airflow_connect_fed.cli.exit_codes import CommandFailed, UsageError

if TYPE_CHECKING:
    import argparse

    import boto3
    from airflow.models.connection import Connection

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "aws_default"
#: The services a command calls; ``--endpoint-url`` applies to each (STS also for assuming roles).
_SERVICES = ("connect", "sts")
_CREDENTIAL_EXTRA_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "session_kwargs")
_REASON_LENGTH = 200
#: How boto3's credential providers (``Credentials.method``) are named in the fallback notice.
_CREDENTIAL_PROVIDERS = {
    "env": "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    "shared-credentials-file": "the shared credentials file",
    "config-file": "the AWS config file",
    "assume-role": "a role assumed by the AWS config file",
    "assume-role-with-web-identity": "a web identity role (AWS_WEB_IDENTITY_TOKEN_FILE)",
    "sso": "AWS IAM Identity Center (SSO)",
    "custom-process": "a credential_process",
    "container-role": "the container's role (ECS/EKS)",
    "iam-role": "the EC2 instance profile",
}
_PROFILE_METHODS = frozenset(
    {"shared-credentials-file", "config-file", "assume-role", "sso", "custom-process", "login"}
)

Outcome = Literal["found", "not defined", "skipped"]


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


@dataclass(frozen=True)
class SourceAnswer:
    """What one of Airflow's connection sources answered for the connection id."""

    source: str
    outcome: Outcome
    reason: str = ""
    #: False when the source cannot hold the connection although it was not read (no connection table).
    might_hold_it: bool = True

    def __str__(self) -> str:
        return f"{self.source}: {self.outcome}" + (f", {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class ConnectionLookup:
    """Where the connection was looked for, in Airflow's order, and the connection if a source had it."""

    conn_id: str
    answers: tuple[SourceAnswer, ...]
    connection: Connection | None = None

    @property
    def found_in(self) -> str | None:
        return next((answer.source for answer in self.answers if answer.outcome == "found"), None)

    @property
    def skipped(self) -> tuple[SourceAnswer, ...]:
        return tuple(answer for answer in self.answers if answer.outcome == "skipped")

    @property
    def complete(self) -> bool:
        """Every skipped source is one that cannot hold the connection (e.g. an empty database)."""
        return not any(answer.might_hold_it for answer in self.skipped)

    def looked_in(self) -> str:
        return "; ".join(str(answer) for answer in self.answers) or "no source configured"


def find_connection(conn_id: str) -> ConnectionLookup:
    """Look ``conn_id`` up in Airflow's connection sources, in order, as ``airflow connections get`` does.

    A source that raises is skipped (as Airflow does), and its answer says why; a source that denies
    access (Airflow's ``AirflowSecretsBackendAccessDenied``, where Airflow has it) ends the lookup with a
    usage error, as Airflow treats that denial as authoritative.
    """
    from airflow.configuration import ensure_secrets_loaded
    from airflow.sdk import exceptions as sdk_exceptions

    denied: Any = getattr(sdk_exceptions, "AirflowSecretsBackendAccessDenied", ())
    answers: list[SourceAnswer] = []
    for backend in ensure_secrets_loaded():
        source = _source_name(backend, conn_id)
        try:
            connection = backend.get_connection(conn_id=conn_id)
        except denied as error:
            raise UsageError(
                f"Airflow connection {conn_id!r}: the {source} denied access ({_first_line(error)}). "
                "Grant this identity access to it, or pass --conn-id naming another connection."
            ) from None
        except Exception as error:
            answers.append(_skipped(backend, source, error))
            continue
        if connection is not None:
            answers.append(SourceAnswer(source, "found"))
            return ConnectionLookup(conn_id, tuple(answers), connection)
        answers.append(SourceAnswer(source, "not defined"))
    return ConnectionLookup(conn_id, tuple(answers))


def _source_name(backend: object, conn_id: str) -> str:
    from airflow.secrets.environment_variables import CONN_ENV_PREFIX, EnvironmentVariablesBackend
    from airflow.secrets.metastore import MetastoreBackend

    if isinstance(backend, EnvironmentVariablesBackend):
        return f"environment variable {CONN_ENV_PREFIX}{conn_id.upper()}"
    if isinstance(backend, MetastoreBackend):
        return f"metadata database {_database_url()}"
    return f"secrets backend {type(backend).__name__} ([secrets] backend)"


def _database_url() -> str:
    """``[database] sql_alchemy_conn`` without its password."""
    from airflow.configuration import conf
    from sqlalchemy.engine import make_url

    try:
        return make_url(conf.get("database", "sql_alchemy_conn")).render_as_string(hide_password=True)
    except Exception:
        return "([database] sql_alchemy_conn)"


def _skipped(backend: object, source: str, error: Exception) -> SourceAnswer:
    from airflow.secrets.metastore import MetastoreBackend

    if not isinstance(backend, MetastoreBackend):
        return SourceAnswer(source, "skipped", f"could not be read ({_first_line(error)})")
    if _is_fernet_mismatch(error):
        return SourceAnswer(
            source,
            "skipped",
            f"could not be decrypted ({_first_line(error)}): its connections were encrypted with another "
            "[core] fernet_key; set AIRFLOW__CORE__FERNET_KEY to the deployment's key",
        )
    if _has_no_connection_table():
        return SourceAnswer(
            source,
            "skipped",
            "not initialised (no connection table: `airflow db migrate` creates it)",
            might_hold_it=False,
        )
    return SourceAnswer(
        source,
        "skipped",
        f"could not be read ({_first_line(error)}): check [database] sql_alchemy_conn "
        "(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), that the database is up and `airflow db migrate`",
    )


def _is_fernet_mismatch(error: Exception) -> bool:
    from cryptography.fernet import InvalidToken

    return isinstance(error, InvalidToken)


def _has_no_connection_table() -> bool:
    """Whether the metadata database answers and has no ``connection`` table; False if it does not answer."""
    import sqlalchemy
    from airflow import settings

    try:
        return not sqlalchemy.inspect(settings.engine).has_table("connection")
    except Exception:
        return False


def _first_line(error: Exception) -> str:
    """``Type: message`` of an error, its first line only (a database error's, without the SQL)."""
    cause = getattr(error, "orig", None)  # SQLAlchemy's DBAPIError: the driver's own error
    shown = cause if isinstance(cause, Exception) else error
    lines = str(shown).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > _REASON_LENGTH:
        text = text[: _REASON_LENGTH - 3] + "..."
    return f"{type(shown).__name__}: {text}" if text else type(shown).__name__


class CommandLineConnection:
    """The Airflow connection with the command line's options applied, and the service logic on it."""

    def __init__(self, options: AwsOptions) -> None:
        self._options = options

    @cached_property
    def federation(self) -> FederationClient:
        """GetFederationToken through this connection; the connection is looked up on first use."""
        return FederationClient(self._access, region_name=self._options.region)

    def _access(self) -> AwsAccess:
        wrapper = self.conn_config
        config = wrapper.botocore_config or Config()
        if not getattr(config, "retries", None):  # not in botocore's type stubs
            config = config.merge(DEFAULT_RETRIES)

        def session(region: str | None) -> boto3.session.Session:
            return BaseSessionFactory(
                conn=wrapper, region_name=region or wrapper.region_name, config=config
            ).create_session()

        def connect_client(region: str | None) -> Any:
            return session(region).client(
                "connect",
                region_name=region or wrapper.region_name,
                endpoint_url=wrapper.get_service_endpoint_url("connect"),
                config=config,
                verify=wrapper.verify,
            )

        return AwsAccess(
            conn_id=self._options.conn_id,
            connection=wrapper,
            session=session,
            connect_client=connect_client,
            config=config,
            verify=wrapper.verify,
        )

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
        """Login, password and extra of the connection; empty when boto3's chain stands in for ``aws_default``."""
        conn_id = self._options.conn_id
        lookup = find_connection(conn_id)
        connection = lookup.connection
        if connection is None:
            self._without_connection(lookup)
            return None, None, {}
        if lookup.skipped:
            log.warning(
                "Airflow connection %r read from the %s, after skipping a source Airflow reads first: %s. "
                "Make that source readable if it defines %r differently.",
                conn_id,
                lookup.found_in,
                "; ".join(str(answer) for answer in lookup.skipped),
                conn_id,
            )
        else:
            log.debug("Airflow connection %r read from the %s", conn_id, lookup.found_in)
        if connection.conn_type not in (None, "", "aws"):
            raise UsageError(
                f"Airflow connection {conn_id!r} (from the {lookup.found_in}) has type "
                f"{connection.conn_type!r}; connect-fed needs an 'aws' connection (Amazon Web Services)."
            )
        try:
            login, password, extra = connection.login, connection.password, dict(connection.extra_dejson)
        except Exception as error:  # e.g. encrypted with a fernet key this process does not have
            raise CommandFailed(
                f"Airflow connection {conn_id!r} from the {lookup.found_in} could not be read: "
                f"{_first_line(error)}. Check [core] fernet_key (AIRFLOW__CORE__FERNET_KEY)."
            ) from None
        _mask(password, connection.extra)
        return login, password, extra

    def _without_connection(self, lookup: ConnectionLookup) -> None:
        """No source has the connection: refuse, or announce boto3's default credential chain."""
        conn_id = lookup.conn_id
        if self._options.conn_id_given:
            raise UsageError(
                f"Airflow connection {conn_id!r} (--conn-id) was not found. Looked in: {lookup.looked_in()}. "
                + _how_to_define(conn_id, lookup)
            )
        if not lookup.complete:
            raise UsageError(
                f"Airflow connection {conn_id!r} (the default --conn-id) was not found, but a source could "
                f"not be read. Looked in: {lookup.looked_in()}. {conn_id!r} may be defined there, so "
                "connect-fed does not call AWS as another identity: make that source readable, define "
                f"{conn_id!r} in a source that can be read (e.g. AIRFLOW_CONN_{conn_id.upper()}), or pass "
                "--conn-id naming a connection that can be read."
            )
        if self._options.profile:
            log.debug(
                "Airflow connection %r is not defined (looked in: %s); calling with --profile %r",
                conn_id,
                lookup.looked_in(),
                self._options.profile,
            )
            return
        identity = _default_chain_identity()
        if identity is None:
            raise CommandFailed(
                f"Airflow connection {conn_id!r} is not defined (looked in: {lookup.looked_in()}), and boto3's "
                "default credential chain found no credentials. Define the connection, pass --conn-id or "
                "--profile, or set AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE)."
            )
        log.warning(
            "Airflow connection %r is not defined (looked in: %s). Calling AWS with boto3's default credential "
            "chain instead, as the amazon provider's hook does: %s. To choose the identity, define %r (an aws "
            "connection without credentials uses this same chain) or pass --conn-id or --profile.",
            conn_id,
            lookup.looked_in(),
            identity,
            conn_id,
        )


def _how_to_define(conn_id: str, lookup: ConnectionLookup) -> str:
    readable = (
        "It may be defined in a source that could not be read: make that source readable, or define it "
        if not lookup.complete
        else "Define it "
    )
    return (
        f"{readable}as an environment variable (AIRFLOW_CONN_{conn_id.upper()}="
        '\'{"conn_type": "aws", ...}\'), in the metadata database (`airflow connections add '
        f"{conn_id} --conn-type aws ...`) or in the configured secrets backend; or pass --conn-id naming "
        "an existing aws connection."
    )


def _default_chain_identity() -> str | None:
    """Which credentials boto3's default chain finds: provider, profile, the access key ID's last 4 characters."""
    import boto3
    from botocore.credentials import RefreshableCredentials

    session = boto3.session.Session()
    credentials = session.get_credentials()
    if credentials is None:
        return None
    method = credentials.method
    identity = "credentials from " + _CREDENTIAL_PROVIDERS.get(method, f"boto3's {method!r} provider")
    if method in _PROFILE_METHODS:
        identity += f", profile {session.profile_name!r}"
    if not isinstance(credentials, RefreshableCredentials) and credentials.access_key:
        identity += f", access key {'*' * 16}{credentials.access_key[-4:]}"
    return identity


def _mask(*secrets: str | None) -> None:
    """Register the connection's password and extra with Airflow's masker, as ``BaseHook.get_connection`` does."""
    from airflow_connect_fed.masking import mask_secrets

    values = [secret for secret in secrets if secret]
    if values:
        mask_secrets(values)


def _merged(base: Config | None, override: Config | None) -> Config | None:
    if base is None or override is None:
        return override or base
    return base.merge(override)
