"""``ConnectEmulator``: moto's AWS services plus Connect users and GetFederationToken on one local URL.

moto serves everything it models (STS, IAM, Secrets Manager, SSM, Connect instances, ...); the
``ConnectApi`` middleware in front of it adds only what moto lacks. The helpers drive the emulator
through the real boto3 APIs over HTTP, so tests exercise the same wire format as production code.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import sys
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any, TypedDict

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, get_sockaddr, make_server, select_address_family

from amazon_connect_emulator.authentication_profiles import (
    DEFAULT_MAX_SESSION_DURATION,
    DEFAULT_PERIODIC_SESSION_DURATION,
    AuthenticationProfiles,
)
from amazon_connect_emulator.connect_api import ConnectApi, ConnectError, add_users, find_instance
from amazon_connect_emulator.counters import FederationCounters
from amazon_connect_emulator.directory import UserDirectory
from amazon_connect_emulator.faults import FaultInjector
from amazon_connect_emulator.identity import (
    DEFAULT_ROOT_ACCESS_KEY,
    ROOT_SECRET_ACCESS_KEY,
    request_account,
    validate_region,
)
from amazon_connect_emulator.quota import Quota
from amazon_connect_emulator.secretsmanager_quota import (
    DEFAULT_SECRETSMANAGER_WRITE_BURST,
    DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND,
)
from amazon_connect_emulator.seed import (
    DEFAULT_INSTANCE_ID,
    DEFAULT_ROLE_NAME,
    DEFAULT_USERS,
    FEDERATION_PERMISSIONS,
    Seeded,
    federation_trust_policy,
    seed,
)
from amazon_connect_emulator.sign_in import SignIns
from amazon_connect_emulator.token_bucket import (
    DEFAULT_API_BURST,
    DEFAULT_API_REQUESTS_PER_SECOND,
    DEFAULT_BURST,
    DEFAULT_REQUESTS_PER_SECOND,
    validate,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from types import FrameType, TracebackType

    from botocore.config import Config

READY_MESSAGE = "amazon-connect-emulator listening on {url}"
#: The IAM user ``credentials_for`` assumes roles as (the root may not), and ``serve`` prints keys of.
FEDERATOR_USER = "emulator-federator"
#: Every service the provider and the amazon provider's secrets backends call.
SERVICES = ("sts", "connect", "secretsmanager", "ssm", "iam")
SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"

_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - maps wildcards to loopback


class _AccessKey(TypedDict):
    aws_access_key_id: str
    aws_secret_access_key: str


class AwsCredentials(_AccessKey, total=False):
    """Credentials as boto3 client keywords, so ``emulator.client("connect", **credentials)`` works."""

    aws_session_token: str


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without the per-request access log line (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ConnectEmulator:
    """A local Amazon Connect endpoint for tests, served from a background thread.

    Use as a context manager, or call ``start()`` and ``stop()``. Options are validated eagerly;
    a bad value raises ``ValueError`` naming the value and the allowed range.
    ``periodic_session_duration`` (10-60) and ``max_session_duration`` (360-720) are the minutes of
    each new instance's default authentication profile, so the lifetimes of its access and refresh
    tokens (``set_session_durations`` changes one instance's).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        burst: int = DEFAULT_BURST,
        fault_rate: float = 0.0,
        root_access_key: str = DEFAULT_ROOT_ACCESS_KEY,
        seed: int | None = None,
        *,
        periodic_session_duration: int = DEFAULT_PERIODIC_SESSION_DURATION,
        max_session_duration: int = DEFAULT_MAX_SESSION_DURATION,
        api_requests_per_second: float = DEFAULT_API_REQUESTS_PER_SECOND,
        api_burst: int = DEFAULT_API_BURST,
        secretsmanager_writes_per_second: float = DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND,
        secretsmanager_write_burst: int = DEFAULT_SECRETSMANAGER_WRITE_BURST,
        log_requests: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _validate_api_limits(api_requests_per_second, api_burst)
        _validate_secretsmanager_write_limits(secretsmanager_writes_per_second, secretsmanager_write_burst)
        _validate_host(host)
        _validate_port(port)
        validate_region(region)
        _validate_root_access_key(root_access_key)
        self._profiles = AuthenticationProfiles(periodic_session_duration, max_session_duration)
        self._host = host
        self._port = port
        self._region = region
        self._root_access_key = root_access_key
        self._log_requests = log_requests
        self._initial_limits = (requests_per_second, burst, fault_rate)
        self._initial_api_limits = (api_requests_per_second, api_burst)
        self._quota = Quota(requests_per_second, burst, clock)
        self._api_quota = Quota(api_requests_per_second, api_burst, clock)
        self._initial_write_limits = (secretsmanager_writes_per_second, secretsmanager_write_burst)
        self._write_quota = Quota(secretsmanager_writes_per_second, secretsmanager_write_burst, clock)
        self._faults = FaultInjector(fault_rate, seed)
        self._users = UserDirectory()
        self._counters = FederationCounters()
        self._sign_ins = SignIns()
        self._boto_session = boto3.session.Session()
        self._boto_lock = threading.Lock()
        self._federator: AwsCredentials | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> ConnectEmulator:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError(f"the emulator is already running at {self.endpoint_url}")
        app = ConnectApi(
            DomainDispatcherApplication(create_backend_app),
            users=self._users,
            quota=self._quota,
            api_quota=self._api_quota,
            write_quota=self._write_quota,
            faults=self._faults,
            counters=self._counters,
            root_access_key=self._root_access_key,
            profiles=self._profiles,
            sign_ins=self._sign_ins,
        )
        handler = MotoRequestHandler if self._log_requests else _QuietRequestHandler
        with _listening_socket(self._host, self._port) as listener:
            self._server = make_server(
                self._host, self._port, app, threaded=True, request_handler=handler, fd=listener.fileno()
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="connect-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; a no-op when not running."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
        if thread is not None:
            thread.join()

    def __enter__(self) -> ConnectEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # State and settings

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` with the bound port; a wildcard host is given as loopback."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        port = self._server.server_address[1]
        host = _WILDCARD_HOSTS.get(self._host, self._host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def region(self) -> str:
        return self._region

    @property
    def root_access_key(self) -> str:
        return self._root_access_key

    @property
    def counters(self) -> FederationCounters:
        """Federation requests received, succeeded, throttled, faulted and rejected: ``.totals()``,
        ``.for_instance(instance_id)``; signed requests by service and operation: ``.requests(service)``,
        ``.operation(service, operation)``, ``.operations()``; throttled answers by operation
        (Connect's 429s, Secrets Manager's 400 ThrottlingException): ``.throttled_operation(operation)``; ``.reset()``."""
        return self._counters

    def set_quota(self, requests_per_second: float, burst: int) -> None:
        """Change the GetFederationToken quota per account and region; buckets start full."""
        self._quota.configure(requests_per_second, burst)

    def set_api_quota(self, requests_per_second: float, burst: int) -> None:
        """Change the quota of every other Connect operation served here (SearchUsers, ListUsers, ...),
        a bucket per account, region and operation; buckets start full."""
        _validate_api_limits(requests_per_second, burst)
        self._api_quota.configure(requests_per_second, burst)

    def set_secretsmanager_write_quota(self, requests_per_second: float, burst: int) -> None:
        """Change Secrets Manager's write quotas per account and region: the combined one of PutSecretValue,
        UpdateSecret, UpdateSecretVersionStage and the replication calls, and CreateSecret's own (AWS:
        50/s each); buckets start full. Over it: HTTP 400 ThrottlingException."""
        _validate_secretsmanager_write_limits(requests_per_second, burst)
        self._write_quota.configure(requests_per_second, burst)

    def set_fault_rate(self, rate: float) -> None:
        """Fail this share (0.0-1.0) of GetFederationToken calls with 500 InternalServiceException."""
        self._faults.set_rate(rate)

    def set_session_durations(
        self,
        instance_id: str,
        *,
        periodic_session_duration: int | None = None,
        max_session_duration: int | None = None,
    ) -> None:
        """Set, in minutes, the session durations of the default authentication profile of instance
        ``instance_id`` (root's account, the emulator's region): ``PeriodicSessionDuration`` (10-60, the
        access token's lifetime) and ``MaxSessionDuration`` (360-720, the refresh token's), which AWS's
        API cannot set. A duration left None stays. ``ValueError`` for a value out of its range or an
        unknown instance."""
        instance = find_instance(self._instance_key(instance_id))
        self._profiles.set_session_durations(
            instance,
            periodic_session_duration=periodic_session_duration,
            max_session_duration=max_session_duration,
        )

    def reset(self) -> None:
        """Empty every account: moto's state (through its reset API), Connect users, authentication
        profiles, federation bindings and counters; quotas and fault rate go back to the constructor's values."""
        reset_url = f"{self.endpoint_url}/moto-api/reset"  # always http://, built from the bound address
        request = urllib.request.Request(reset_url, data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
        self._users.clear()
        self._profiles.clear()
        self._sign_ins.clear()
        self._federator = None
        self._counters.reset()
        requests_per_second, burst, fault_rate = self._initial_limits
        self._quota.configure(requests_per_second, burst)
        self._api_quota.configure(*self._initial_api_limits)
        self._write_quota.configure(*self._initial_write_limits)
        self._faults.set_rate(fault_rate)
        self._faults.reseed()

    # Helpers that use the real AWS APIs over HTTP

    def client(
        self,
        service_name: str,
        *,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        region_name: str | None = None,
        config: Config | None = None,
    ) -> Any:
        """A boto3 client for the emulator; without credentials it calls as the account root."""
        with self._boto_lock:  # boto3 sessions are not thread-safe while creating clients
            return self._boto_session.client(
                service_name,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                region_name=region_name or self._region,
                aws_access_key_id=aws_access_key_id or self._root_access_key,
                aws_secret_access_key=aws_secret_access_key or ROOT_SECRET_ACCESS_KEY,
                aws_session_token=aws_session_token,
                config=config,
            )

    def create_instance(self, alias: str) -> dict[str, str]:
        """Create a SAML Connect instance (moto's CreateInstance); returns ``{"id", "arn"}``."""
        response = self.client("connect").create_instance(
            IdentityManagementType="SAML",
            InstanceAlias=alias,
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )
        return {"id": response["Id"], "arn": response["Arn"]}

    # Users, straight into the emulator's directory: test setup, not AWS traffic (no quota, not counted)

    def create_user(
        self,
        instance_id: str,
        username: str,
        *,
        routing_profile_id: str | None = None,
        security_profile_ids: Sequence[str] | None = None,
        hierarchy_group_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, str]:
        """Create a Connect user in instance ``instance_id`` of the root's account, in the emulator's
        region, checked as CreateUser checks it; returns ``{"id", "arn"}``. A setting left out gets the
        instance default (routing profile ``emulator-basic-routing``, security profile ``emulator-agent``).
        ``ValueError`` for a bad value, an unknown instance or a username the instance has."""
        user: dict[str, Any] = {"Username": username}
        settings = {
            "RoutingProfileId": routing_profile_id,
            "SecurityProfileIds": None if security_profile_ids is None else list(security_profile_ids),
            "HierarchyGroupId": hierarchy_group_id,
            "Tags": None if tags is None else dict(tags),
        }
        user.update({name: value for name, value in settings.items() if value is not None})
        names = {"FirstName": first_name, "LastName": last_name}
        if first_name is not None or last_name is not None:
            user["IdentityInfo"] = {name: value for name, value in names.items() if value is not None}
        [created] = self._add_users(instance_id, [user], label=None)
        return created

    def create_users(
        self, instance_id: str, users: Iterable[str | Mapping[str, Any]]
    ) -> list[dict[str, str]]:
        """Create many users at once, all or none, as ``create_user`` does: each a username or a mapping of
        CreateUser fields (``Username``, ``RoutingProfileId``, ``SecurityProfileIds``, ``HierarchyGroupId``,
        ``Tags``, ``IdentityInfo``, ...); returns their ``{"id", "arn"}`` in order. Tens of thousands
        take seconds."""
        return self._add_users(instance_id, list(users), label="users")

    def delete_user(self, instance_id: str, username: str) -> None:
        """Delete a Connect user, as DeleteUser does (its federation binding goes too);
        ``ValueError`` if the instance has no user named ``username``."""
        key = self._instance_key(instance_id)
        user = self._users.find(key, username)
        if user is None:
            raise ValueError(
                f"username {username!r} is not a user of instance {instance_id}; nothing deleted"
            )
        self._users.remove(key, user.id)

    def _add_users(
        self, instance_id: str, users: list[str | Mapping[str, Any]], label: str | None
    ) -> list[dict[str, str]]:
        try:
            added = add_users(self._users, self._instance_key(instance_id), users, label=label)
        except ConnectError as error:
            raise ValueError(error.message) from None
        return [{"id": user.id, "arn": user.arn} for user, _ in added]

    def _instance_key(self, instance_id: str) -> tuple[str, str, str]:
        """The root account's instance ``instance_id`` in the emulator's region; ``ValueError`` if none."""
        key = (request_account(self._root_access_key, None), self._region, instance_id)
        try:
            find_instance(key)
        except ConnectError as error:
            raise ValueError(
                f"instance_id: {error.message}; create it first (create_instance, seed)"
            ) from None
        return key

    # More helpers that use the real AWS APIs over HTTP

    def create_federation_role(self, name: str = DEFAULT_ROLE_NAME) -> str:
        """Create an IAM role the account may assume to call GetFederationToken; returns its ARN."""
        account_id = self.client("sts").get_caller_identity()["Account"]
        trust = json.dumps(federation_trust_policy(account_id))
        iam = self.client("iam")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(FEDERATION_PERMISSIONS))
        return str(role["Arn"])

    def seed(
        self,
        instance_id: str = DEFAULT_INSTANCE_ID,
        users: Sequence[str] = DEFAULT_USERS,
        role_name: str = DEFAULT_ROLE_NAME,
    ) -> list[Seeded]:
        """What ``amazon-connect-emulator seed`` does: the instance with this id, its users and the federation
        role, each unless it exists. The defaults are the README's first DAG's values."""
        return seed(
            self.endpoint_url, region=self._region, instance_id=instance_id, users=users, role_name=role_name
        )

    def credentials_for(self, username: str, role_arn: str) -> AwsCredentials:
        """Session credentials of ``role_arn`` assumed with ``RoleSessionName=username`` (STS AssumeRole).

        The role is assumed by the IAM user ``emulator-federator``, created on first use: as in AWS,
        the account root may not assume roles.
        """
        sts = self.client("sts", **self.federator_credentials())
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=username)["Credentials"]
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }

    def federator_credentials(self) -> AwsCredentials:
        """Keys of the IAM user ``emulator-federator`` (created on first use, again after ``reset()``):
        the identity of ``airflow_setup_env()`` and ``credentials_for``."""
        if self._federator is None:
            self._federator = self.create_iam_user_credentials(FEDERATOR_USER)
        return self._federator

    def create_iam_user_credentials(self, name: str) -> AwsCredentials:
        """Create IAM user ``name`` with an access key; returns its long-term credentials."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    def airflow_connection(
        self,
        conn_id: str = "aws_default",
        *,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
    ) -> str:
        """The JSON value for ``AIRFLOW_CONN_<CONN_ID>``: an ``aws`` connection with every service on the emulator.

        ``endpoint_url`` and ``service_config`` for each of ``SERVICES``: the amazon provider sends STS's
        ``test_connection`` and the AssumeRole of a connection's ``role_arn`` to AWS, whatever
        ``endpoint_url`` says, unless ``service_config`` names an STS endpoint.
        ``conn_id`` is checked to be usable in that variable name; see ``airflow_env`` for the pair.
        Without credentials the connection calls as the account root.
        """
        _validate_conn_id(conn_id)
        url = self.endpoint_url
        extra: dict[str, Any] = {
            "region_name": self._region,
            "endpoint_url": url,
            "service_config": {service: {"endpoint_url": url} for service in SERVICES},
        }
        if aws_session_token:
            extra["aws_session_token"] = aws_session_token
        return json.dumps(
            {
                "conn_type": "aws",
                "login": aws_access_key_id or self._root_access_key,
                "password": aws_secret_access_key or ROOT_SECRET_ACCESS_KEY,
                "extra": extra,
            }
        )

    def airflow_env(
        self,
        conn_id: str = "aws_default",
        *,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
    ) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<CONN_ID>": airflow_connection(...)}``, e.g. for ``mock.patch.dict(os.environ, ...)``."""
        connection = self.airflow_connection(
            conn_id,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
        )
        return {f"AIRFLOW_CONN_{conn_id.upper()}": connection}

    def secrets_backend_env(
        self, credentials: AwsCredentials | None = None, backend: str = SECRETS_MANAGER_BACKEND
    ) -> dict[str, str]:
        """``AIRFLOW__SECRETS__BACKEND`` and ``..._KWARGS``: the amazon provider's Secrets Manager (or SSM)
        backend on the emulator, reading Variables only (default prefix), as ``credentials``
        (default ``federator_credentials()``)."""
        if backend not in (SECRETS_MANAGER_BACKEND, SSM_BACKEND):
            raise ValueError(f"backend must be SECRETS_MANAGER_BACKEND or SSM_BACKEND, got {backend!r}")
        keys = credentials or self.federator_credentials()
        kwargs = {
            "endpoint_url": self.endpoint_url,
            "region_name": self._region,
            "aws_access_key_id": keys["aws_access_key_id"],
            "aws_secret_access_key": keys["aws_secret_access_key"],
            "connections_prefix": None,
            "config_prefix": None,
        }
        if keys.get("aws_session_token"):
            kwargs["aws_session_token"] = keys["aws_session_token"]
        return {"AIRFLOW__SECRETS__BACKEND": backend, "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(kwargs)}

    def airflow_setup_env(self) -> dict[str, str]:
        """What ``serve`` prints after its ready line: ``AIRFLOW_CONN_AWS_DEFAULT`` as the IAM user
        ``emulator-federator`` with every service on the emulator, and the Secrets Manager backend."""
        credentials = self.federator_credentials()
        return {**self.airflow_env("aws_default", **credentials), **self.secrets_backend_env(credentials)}


def serve(**options: Any) -> None:
    """Run the emulator until SIGINT or SIGTERM (call from the main thread).

    Once it accepts requests it prints on stdout ``amazon-connect-emulator listening on
    http://HOST:PORT`` (the bound port; a wildcard host shown as loopback), then how to connect: the
    ``export`` lines of ``airflow_setup_env()`` and the seed command, between ``#`` comments.
    Request logs go to stderr. ``options`` are ``ConnectEmulator``'s. Raises ValueError for a bad
    option and OSError when the address cannot be bound.
    """
    emulator = ConnectEmulator(**options, log_requests=True)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with emulator:
            env = emulator.airflow_setup_env()
            print(READY_MESSAGE.format(url=emulator.endpoint_url), file=sys.stdout)
            print(how_to_connect(emulator.endpoint_url, env), file=sys.stdout, flush=True)
            while not stopping.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def how_to_connect(endpoint_url: str, env: dict[str, str]) -> str:
    """The lines ``serve`` prints after its ready line: shell ``export`` lines for ``env`` (from
    ``airflow_setup_env()``) and the seed command, explained by ``#`` comments."""
    exports = {name: f"export {name}={shlex.quote(value)}" for name, value in env.items()}
    return "\n".join(
        [
            f"# Airflow: aws_default as IAM user {FEDERATOR_USER}, every service ({', '.join(SERVICES)}) here:",
            exports.pop("AIRFLOW_CONN_AWS_DEFAULT"),
            "# Secrets Manager here as Airflow's secrets backend (Variables under airflow/variables/):",
            *exports.values(),
            f"# Instance {DEFAULT_INSTANCE_ID}, user {DEFAULT_USERS[0]} and role {DEFAULT_ROLE_NAME} "
            "of the README's first DAG:",
            f"#   amazon-connect-emulator seed --endpoint-url {endpoint_url}",
        ]
    )


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves: werkzeug's own bind calls sys.exit(1) when the port is taken,
    where a library should raise OSError. The server keeps a duplicate of this socket."""
    family = select_address_family(host, port)
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(get_sockaddr(host, port, family))
        listener.listen(LISTEN_QUEUE)
    except BaseException:
        listener.close()
        raise
    return listener


def _validate_api_limits(requests_per_second: float, burst: int) -> None:
    validate(requests_per_second, burst, prefix="api_", quota="each other Connect operation's")


def _validate_secretsmanager_write_limits(requests_per_second: float, burst: int) -> None:
    validate(
        requests_per_second,
        burst,
        prefix="secretsmanager_",
        quota="Secrets Manager's write",
        names=("writes_per_second", "write_burst"),
        typical=(DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND, DEFAULT_SECRETSMANAGER_WRITE_BURST),
    )


def _validate_host(host: str) -> None:
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
        raise ValueError(f"host must be a host name or IP address without spaces, got {host!r}")


def _validate_port(port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 (any free port) to 65535, got {port!r}")


def _validate_root_access_key(key: str) -> None:
    if not isinstance(key, str) or not _ACCESS_KEY_ID.fullmatch(key):
        raise ValueError(
            f"root_access_key must be 16 to 128 upper-case letters and digits (like an AWS access key id), got {key!r}"
        )


def _validate_conn_id(conn_id: str) -> None:
    if not isinstance(conn_id, str) or not re.fullmatch(r"[A-Za-z0-9_]+", conn_id):
        raise ValueError(
            f"conn_id must be letters, digits and underscores to be usable in AIRFLOW_CONN_<ID>, got {conn_id!r}"
        )
