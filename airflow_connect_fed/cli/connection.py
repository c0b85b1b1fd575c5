"""How the command line finds its Airflow connection and builds ``ConnectFederationHook`` on it.

The connection (``--conn-id``, default ``aws_default``) is looked up as the hook looks it up outside
a task, through public APIs only, in Airflow's order: the secrets backend a task process reads
(``[workers] secrets_backend``, else ``[secrets] backend``), if one is set; then the
``AIRFLOW_CONN_<ID>`` environment variable, read by the hook's own lookup. The first source that
has the connection wins. A source that cannot be read (a secrets backend that cannot be imported
or raises) is skipped, and named with the reason; when the connection is then found in a later
source, a warning on stderr says so. ``--debug`` logs which source the connection came from.

The metadata database is not read: in Airflow 3 only Airflow's servers read connections there
(tasks reach them through the API server), and no public API hands another process a
connection's secrets from it. Messages about a missing connection say so, and how to define it
where the command can read it.

When no source has the connection:

* with an explicit ``--conn-id``: a usage error (252) naming the id, every source looked in with
  what it answered, and how to define the connection;
* without ``--conn-id``, every source read: the command calls AWS with boto3's default credential
  chain, as the amazon provider's hook does, and says so on stderr: the sources looked in, and which
  credentials the chain found (provider, profile, the access key ID's last four characters, as
  ``aws configure list`` shows it). No credentials found is an error (255). With ``--profile`` the
  identity is chosen explicitly and nothing is announced (``--debug`` says it).
* without ``--conn-id``, a source skipped: a usage error (252). ``aws_default`` may be defined where
  it could not be read, and another identity is never substituted for it.

On top of the connection, in its extra, before the hook reads it:

* ``--profile`` replaces the connection's credentials (login/password and credential keys in its
  extra) with that boto3 profile's; the rest of the connection (region, endpoint, ``role_arn`` to
  assume, ``config_kwargs``) still applies.
* ``--endpoint-url`` replaces the connection's ``endpoint_url`` and its Connect and STS service
  endpoints (STS serves ``--connect-user`` role sessions, ``check`` and the connection's ``role_arn``).
* the timeouts merge into its ``config_kwargs``.

``--region`` and ``--no-verify-ssl``/``--ca-bundle`` are the hook's own ``region_name`` and ``verify``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from airflow_connect_fed.cli.exit_codes import CommandFailed, UsageError
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

if TYPE_CHECKING:
    import argparse

    from airflow.sdk import Connection

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = "aws_default"
#: The services a command calls; ``--endpoint-url`` applies to each (STS also for assuming roles).
_SERVICES = ("connect", "sts")
_CREDENTIAL_EXTRA_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "session_kwargs")
#: Settings of an aws connection's extra that hold no secret, left readable in ``--debug`` lines;
#: every other value inside the extra is registered with Airflow's secret masker.
_PLAIN_EXTRA_KEYS = frozenset(
    {"region_name", "endpoint_url", "profile_name", "role_arn", "assume_role_method"}
)
_REASON_LENGTH = 200
_METADATA_DB = (
    "The metadata database is not read: in Airflow 3 only Airflow's servers read connections there, "
    "so a connection added in the UI or with `airflow connections add` must also be defined "
)
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

    def timeouts(self) -> dict[str, int | None]:
        """The timeouts as botocore ``Config`` keywords; 0 means no timeout, as in the AWS CLI."""
        return {
            name: value or None
            for name, value in (
                ("read_timeout", self.read_timeout),
                ("connect_timeout", self.connect_timeout),
            )
            if value is not None
        }

    def apply(self, extra: dict[str, Any]) -> dict[str, Any]:
        """The connection's extra with ``--profile``, ``--endpoint-url`` and the timeouts applied."""
        extra = dict(extra)
        if self.profile:
            extra = {k: v for k, v in extra.items() if k not in _CREDENTIAL_EXTRA_KEYS}
            extra["profile_name"] = self.profile
        if self.endpoint_url:
            extra["endpoint_url"] = self.endpoint_url
            services = dict(extra.get("service_config", {}))
            for service in _SERVICES:
                services[service] = {**services.get(service, {}), "endpoint_url": self.endpoint_url}
            extra["service_config"] = services
        if self.timeouts():
            extra["config_kwargs"] = {**extra.get("config_kwargs", {}), **self.timeouts()}
        return extra


@dataclass(frozen=True)
class SourceAnswer:
    """What one of the connection sources answered for the connection id."""

    source: str
    outcome: Outcome
    reason: str = ""

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

    def looked_in(self) -> str:
        return "; ".join(str(answer) for answer in self.answers)


def find_connection(conn_id: str) -> ConnectionLookup:
    """Look ``conn_id`` up as the hook does outside a task: the task's secrets backend, then the environment.

    A source that raises is skipped (as Airflow does), and its answer says why; a source that denies
    access (Airflow's ``AirflowSecretsBackendAccessDenied``, where Airflow has it) ends the lookup with a
    usage error, as Airflow treats that denial as authoritative.
    """
    answers: list[SourceAnswer] = []
    backend_answer, connection = _from_secrets_backend(conn_id)
    if backend_answer is not None:
        answers.append(backend_answer)
        if connection is not None:
            return ConnectionLookup(conn_id, tuple(answers), connection)
    environment_answer, connection = _from_environment(conn_id)
    answers.append(environment_answer)
    return ConnectionLookup(conn_id, tuple(answers), connection)


def _from_secrets_backend(conn_id: str) -> tuple[SourceAnswer | None, Connection | None]:
    """The task process's secrets backend's answer, ``None`` when no backend is set."""
    from airflow.sdk import exceptions as sdk_exceptions

    from airflow_connect_fed.destinations.secrets_backend import backend_setting
    from airflow_connect_fed.exceptions import ConnectFederationError

    setting = backend_setting()
    if setting is None:
        return None, None
    source = f"secrets backend {setting.path.rsplit('.', 1)[-1]} ({setting.backend_option})"
    denied: Any = getattr(sdk_exceptions, "AirflowSecretsBackendAccessDenied", ())
    try:
        backend = setting.backend_class()(**setting.options())
        connection = backend.get_connection(conn_id=conn_id)
    except denied as error:
        raise UsageError(
            f"Airflow connection {conn_id!r}: the {source} denied access ({_first_line(error)}). "
            "Grant this identity access to it, or pass --conn-id naming another connection."
        ) from None
    except ConnectFederationError as error:  # the setting itself: not importable, kwargs not JSON
        return SourceAnswer(source, "skipped", f"could not be read ({error})"), None
    except Exception as error:
        return SourceAnswer(source, "skipped", f"could not be read ({_first_line(error)})"), None
    if connection is None:
        return SourceAnswer(source, "not defined"), None
    return SourceAnswer(source, "found"), connection


def _from_environment(conn_id: str) -> tuple[SourceAnswer, Connection | None]:
    """``AIRFLOW_CONN_<ID>``, parsed by the hook's own lookup (``BaseHook.get_connection``)."""
    source = f"environment variable AIRFLOW_CONN_{conn_id.upper()}"
    if f"AIRFLOW_CONN_{conn_id.upper()}" not in os.environ:
        return SourceAnswer(source, "not defined"), None
    try:
        return SourceAnswer(source, "found"), ConnectFederationHook.get_connection(conn_id)
    except Exception as error:
        return SourceAnswer(source, "skipped", f"could not be read ({_first_line(error)})"), None


def _first_line(error: Exception) -> str:
    """``Type: message`` of an error, its first line only."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > _REASON_LENGTH:
        text = text[: _REASON_LENGTH - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class CommandLineHook(ConnectFederationHook):
    """``ConnectFederationHook`` on the looked-up connection, with the command line's options applied.

    The connection is looked up when the hook first reads it, after every input is checked.
    """

    def __init__(self, options: AwsOptions) -> None:
        self._options = options
        super().__init__(aws_conn_id=options.conn_id, region_name=options.region, verify=options.verify)

    def get_connection(self, conn_id: str) -> Connection:  # type: ignore[override]
        """The connection as the command line sees it: looked up, then ``--profile`` and the rest applied.

        Without a connection (``aws_default`` not defined), an aws connection with no credentials,
        which makes the hook use boto3's default chain.
        """
        from airflow.sdk import Connection

        lookup = find_connection(conn_id)
        connection = lookup.connection
        if connection is None:
            self._without_connection(lookup)
            return Connection(conn_id=conn_id, conn_type="aws", extra=json.dumps(self._options.apply({})))
        self._announce(lookup)
        if connection.conn_type not in (None, "", "aws"):
            raise UsageError(
                f"Airflow connection {conn_id!r} (from the {lookup.found_in}) has type "
                f"{connection.conn_type!r}; connect-fed needs an 'aws' connection (Amazon Web Services)."
            )
        try:
            login, password, extra = connection.login, connection.password, dict(connection.extra_dejson)
        except Exception as error:
            raise CommandFailed(
                f"Airflow connection {conn_id!r} from the {lookup.found_in} could not be read: "
                f"{_first_line(error)}."
            ) from None
        _mask(password, extra)
        if self._options.profile:
            login = password = None
        return Connection(
            conn_id=conn_id,
            conn_type="aws",
            login=login,
            password=password,
            extra=json.dumps(self._options.apply(extra)),
        )

    def _announce(self, lookup: ConnectionLookup) -> None:
        conn_id = lookup.conn_id
        if not lookup.skipped:
            log.debug("Airflow connection %r read from the %s", conn_id, lookup.found_in)
            return
        log.warning(
            "Airflow connection %r read from the %s, after skipping a source Airflow reads first: %s. "
            "Make that source readable if it defines %r differently.",
            conn_id,
            lookup.found_in,
            "; ".join(str(answer) for answer in lookup.skipped),
            conn_id,
        )

    def _without_connection(self, lookup: ConnectionLookup) -> None:
        """No source has the connection: refuse, or announce boto3's default credential chain."""
        conn_id = lookup.conn_id
        if self._options.conn_id_given:
            raise UsageError(
                f"Airflow connection {conn_id!r} (--conn-id) was not found. Looked in: {lookup.looked_in()}. "
                + _how_to_define(conn_id, lookup)
            )
        if lookup.skipped:
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
            "connection without credentials uses this same chain; one kept only in the metadata database is "
            "not read) or pass --conn-id or --profile.",
            conn_id,
            lookup.looked_in(),
            identity,
            conn_id,
        )


def _how_to_define(conn_id: str, lookup: ConnectionLookup) -> str:
    readable = (
        "It may be defined in a source that could not be read: make that source readable, or define it "
        if lookup.skipped
        else _METADATA_DB
    )
    return (
        f"{readable}as an environment variable (AIRFLOW_CONN_{conn_id.upper()}="
        '\'{"conn_type": "aws", ...}\') or in the secrets backend of [workers] secrets_backend or '
        "[secrets] backend; or pass --conn-id naming an aws connection defined there."
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


def _mask(password: str | None, extra: dict[str, Any]) -> None:
    """Register the password and every value inside the extra (but the plain settings) with Airflow's masker."""
    from airflow_connect_fed.masking import mask_secrets

    values = [password] if password else []
    values.extend(_extra_values(extra))
    if values:
        mask_secrets(values)


def _extra_values(value: Any, key: str = "") -> list[str]:
    """Each string inside an extra, nested ones included, except those of :data:`_PLAIN_EXTRA_KEYS`."""
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in _extra_values(v, str(k))]
    if isinstance(value, (list, tuple)):
        return [text for v in value for text in _extra_values(v, key)]
    if isinstance(value, str) and value and key not in _PLAIN_EXTRA_KEYS:
        return [value]
    return []
