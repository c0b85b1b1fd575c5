"""The service logic of GetFederationToken, once: checks, AssumeRole, the call, errors, pacing, quota;
and of SearchUsers, which lists the users tokens are fetched for.

:class:`FederationClient` works on an :class:`AwsAccess`, what it needs of an AWS connection.
``ConnectFederationHook`` and the ``connect-fed`` command are thin adapters that build one.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed import metrics
from airflow_connect_fed._client.aws_error import AwsAnswer
from airflow_connect_fed._client.connect_user import connect_user_list, validate_caller
from airflow_connect_fed._client.instance import InstanceRef
from airflow_connect_fed._client.pacing import (
    configured_pacing,
    configured_shared_quota_conn_id,
    process_bucket,
)
from airflow_connect_fed._client.roster import PAGE_SIZE
from airflow_connect_fed._client.sensitive import protect
from airflow_connect_fed._client.session_credentials import SessionCredentials
from airflow_connect_fed._client.token_bucket import (
    DESCRIBE_AUTHENTICATION_PROFILE,
    GET_FEDERATION_TOKEN,
    LIST_AUTHENTICATION_PROFILES,
    SEARCH_USERS,
    OperationQuota,
    Permit,
    TokenBucket,
)
from airflow_connect_fed.session_lifetimes import SessionDurations
from airflow_connect_fed.token import FederationToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
    from mypy_boto3_connect import ConnectClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import CredentialsTypeDef

    from airflow_connect_fed._client.roster import UserCriteria
    from airflow_connect_fed._client.shared_quota import SharedQuota

#: botocore's standard retry mode: at most 5 attempts in all, jittered exponential backoff for
#: throttling and 5xx answers, no retry for other 4xx.
DEFAULT_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 5})

_ROOT_REFUSAL = "cannot be used for federation with"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Caller:
    """Who calls GetFederationToken: the identity the token will belong to."""

    client: ConnectClient
    description: str | None = None


@dataclass(frozen=True)
class AwsAccess:
    """What the service logic needs of an AWS connection.

    :param conn_id: the Airflow connection's id, for messages.
    :param connection: the amazon provider's view of it (endpoints per service, ``role_arn``).
    :param session: a boto3 session for a region (``None``: the connection's), from the connection.
    :param connect_client: the connection's own Connect client for a region (``None``: the connection's).
    :param config: botocore config for every client.
    :param verify: SSL verification, or a CA bundle path.
    """

    conn_id: str | None
    connection: AwsConnectionWrapper
    session: Callable[[str | None], boto3.session.Session]
    connect_client: Callable[[str | None], ConnectClient]
    config: Config
    verify: bool | str | None


class FederationClient:
    """GetFederationToken for one connection: single and per-agent tokens, bulk paced to the quota;
    SearchUsers, paced to its own.

    :param access: the connection, looked up on first use: every input is checked before.
    :param region_name: the region asked for explicitly (an instance ARN's may not contradict it).

    The calls take ``shared_quota_conn_id``: the Airflow ``redis`` connection of the deployment-wide
    quotas, default ``[connect_federation] shared_quota_conn_id``; unset, pacing in this process only.
    """

    def __init__(self, access: Callable[[], AwsAccess], region_name: str | None = None) -> None:
        self._access_of = access
        self.region_name = region_name
        self._endpoints_checked = False
        self._caller_account: str | None = None

    @cached_property
    def _access(self) -> AwsAccess:
        return self._access_of()

    def get_federation_token(
        self,
        instance_id: str,
        *,
        connect_user: str | None = None,
        role_arn: str | None = None,
        shared_quota_conn_id: str | None = None,
    ) -> FederationToken:
        """``ConnectFederationHook.get_federation_token``: the caller's token, or ``connect_user``'s via ``role_arn``."""
        instance = InstanceRef.parse(instance_id)
        region = instance.resolve_region(self.region_name)
        validate_caller(connect_user, role_arn)
        self._warn_if_sts_leaves_a_local_endpoint()
        quota = self._shared_quota(
            shared_quota_conn_id,
            instance,
            region,
            role_arn,
            *configured_pacing(None, None),
            GET_FEDERATION_TOKEN,
        )
        if connect_user is None:
            caller = _Caller(self._connect_client(region))
        else:
            assert role_arn is not None  # checked by validate_caller
            session = self._access.session(region)
            caller = self._assume_connect_user(
                session, self._sts_client(session), region, connect_user, role_arn
            )
        # One call without a shared quota: nothing to pace in this process, its 429s still counted.
        with _paced(caller.client, quota, GET_FEDERATION_TOKEN, {"instance_id": instance.instance_id}):
            return self._federate(instance, caller)

    def get_federation_tokens(
        self,
        instance_id: str,
        connect_users: list[str],
        *,
        role_arn: str,
        requests_per_second: float | None = None,
        burst: int | None = None,
        max_workers: int = 4,
        on_token: Callable[[str, FederationToken], None] | None = None,
        shared_quota_conn_id: str | None = None,
    ) -> dict[str, FederationToken | exc.ConnectFederationError]:
        """``ConnectFederationHook.get_federation_tokens``: one bucket paces every attempt of every user;
        ``on_token`` gets each token in its worker thread as it arrives."""
        instance = InstanceRef.parse(instance_id)
        region = instance.resolve_region(self.region_name)
        users = connect_user_list(connect_users, role_arn)
        rate, burst = configured_pacing(requests_per_second, burst)
        self._warn_if_sts_leaves_a_local_endpoint()
        shared = self._shared_quota(
            shared_quota_conn_id, instance, region, role_arn, rate, burst, GET_FEDERATION_TOKEN
        )
        quota = shared or TokenBucket(rate, burst)
        session = self._access.session(region)
        sts = self._sts_client(session)
        sessions = SessionCredentials()
        client = self._shared_connect_client(region, sessions)

        def one(user: str) -> FederationToken | exc.ConnectFederationError:
            try:
                sessions.use(self._assume_role(sts, user, role_arn))
                caller = _Caller(client, f"assumed-role session {user!r} of {role_arn}")
                with _paced(client, quota, GET_FEDERATION_TOKEN, {"instance_id": instance.instance_id}):
                    token = self._federate(instance, caller)
                if on_token is not None:
                    on_token(user, token)
            except exc.ConnectFederationError as error:
                return error
            return token

        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(users)))) as pool:
            return dict(zip(users, pool.map(one, users), strict=True))

    def search_users(
        self,
        instance_id: str,
        criteria: UserCriteria,
        *,
        requests_per_second: float | None = None,
        burst: int | None = None,
        shared_quota_conn_id: str | None = None,
    ) -> list[str]:
        """``ConnectFederationHook.list_connect_users``: the sorted, unique usernames SearchUsers finds for
        ``criteria``, as the connection's identity, every page paced to SearchUsers' own quota.

        Only each user's ``Username`` is kept: a page is dropped once read.
        """
        instance = InstanceRef.parse(instance_id)
        region = instance.resolve_region(self.region_name)
        rate, burst = configured_pacing(requests_per_second, burst, SEARCH_USERS)
        self._warn_if_sts_leaves_a_local_endpoint()
        quota = self._shared_quota(
            shared_quota_conn_id, instance, region, None, rate, burst, SEARCH_USERS
        ) or process_bucket(SEARCH_USERS, self._account(instance, None), self._region(region), rate, burst)
        caller = _Caller(self._connect_client(region))
        pages = caller.client.get_paginator("search_users").paginate(
            InstanceId=instance.instance_id,
            **criteria.search_parameters(),
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        usernames: set[str] = set()
        with _paced(caller.client, quota, SEARCH_USERS):
            try:
                for page in pages:
                    usernames.update(user["Username"] for user in page.get("Users", ()))
            except ClientError as error:
                raise self._translate(error, instance, caller, SEARCH_USERS) from error
            except BotoCoreError as error:
                raise _connection_error(error, instance.instance_id) from error
        return sorted(usernames)

    def session_durations(self, instance_id: str) -> SessionDurations:
        """``ConnectFederationHook.get_session_durations``: the instance's default authentication
        profile (``ListAuthenticationProfiles``, then ``DescribeAuthenticationProfile``), as the
        connection's identity. One request each, not paced: retries cover a throttled one."""
        instance = InstanceRef.parse(instance_id)
        caller = _Caller(self._connect_client(instance.resolve_region(self.region_name)))
        quota = LIST_AUTHENTICATION_PROFILES
        try:
            pages = caller.client.get_paginator("list_authentication_profiles").paginate(
                InstanceId=instance.instance_id
            )
            summaries = [
                summary for page in pages for summary in page.get("AuthenticationProfileSummaryList", ())
            ]
            default = next((summary for summary in summaries if summary.get("IsDefault")), None)
            if default is None:
                raise exc.ConnectApiError(
                    f"ListAuthenticationProfiles for instance {instance.instance_id!r} lists {len(summaries)} "
                    "authentication profile(s) and no default one, so its session durations are unknown.",
                    instance_id=instance.instance_id,
                )
            quota = DESCRIBE_AUTHENTICATION_PROFILE
            profile = caller.client.describe_authentication_profile(
                InstanceId=instance.instance_id, AuthenticationProfileId=default["Id"]
            )["AuthenticationProfile"]
        except ClientError as error:
            raise self._translate(error, instance, caller, quota) from error
        except BotoCoreError as error:
            raise _connection_error(error, instance.instance_id) from error
        return SessionDurations(
            profile_id=profile["Id"],
            profile_name=profile.get("Name", ""),
            access_token=timedelta(minutes=profile["PeriodicSessionDuration"]),
            refresh_token=timedelta(minutes=profile["MaxSessionDuration"]),
        )

    def caller_arn(self) -> str:
        """The ARN of the identity the connection authenticates as (STS ``GetCallerIdentity``).

        Raises botocore's ``ClientError`` or ``BotoCoreError`` when STS cannot answer.
        """
        self._warn_if_sts_leaves_a_local_endpoint()
        sts = self._sts_client(self._access.session(self.region_name))
        return str(sts.get_caller_identity()["Arn"])

    def test_connection(self) -> tuple[bool, str]:
        """Resolve the connection's identity; fail for the account root, which Connect never federates."""
        self._warn_if_sts_leaves_a_local_endpoint()
        try:
            identity = self._sts_client(self._access.session(None)).get_caller_identity()
        except (ClientError, BotoCoreError) as error:
            return False, f"Could not resolve the connection's AWS identity: {error}"
        arn = identity["Arn"]
        if _is_root(arn):
            return False, (
                f"The connection authenticates as the account root ({arn}). Amazon Connect refuses root "
                "credentials for federation: use an IAM user or role that maps to a Connect user."
            )
        region = self._access.connection.region_name or "default"
        return True, (
            f"Connected as {arn} (account {identity['Account']}, region {region}). "
            "GetFederationToken returns the token of the Connect user this identity maps to."
        )

    def _shared_quota(
        self,
        shared_quota_conn_id: str | None,
        instance: InstanceRef,
        region: str | None,
        role_arn: str | None,
        rate: float,
        burst: int,
        quota: OperationQuota,
    ) -> SharedQuota | None:
        """The deployment-wide quota of ``quota``'s operation in the call's account and region, if one
        is configured. Redis is checked to answer before anything calls AWS."""
        conn_id = configured_shared_quota_conn_id(shared_quota_conn_id)
        if conn_id is None:
            return None
        from airflow_connect_fed._client.shared_quota import SharedQuota, redis_client

        client = redis_client(conn_id)
        account = self._account(instance, role_arn)
        return SharedQuota(client, conn_id, account, self._region(region), rate, burst, quota=quota)

    def _account(self, instance: InstanceRef, role_arn: str | None) -> str:
        """The account a call counts against: the instance ARN's, else the role's, else the connection's
        identity's (one STS call, once per client)."""
        account = instance.account or (role_arn.split(":")[4] if role_arn else None)
        if account is not None:
            return account
        if self._caller_account is None:
            try:
                self._caller_account = self.caller_arn().split(":")[4]
            except ClientError as error:
                answer = AwsAnswer.of(error)
                raise exc.AwsConnectionError(
                    f"Could not tell the connection's AWS account, whose quota the calls count against (STS "
                    f"GetCallerIdentity): {answer.label}: {answer.message.rstrip('.')}. Check the connection's "
                    "credentials, or pass the instance ARN, which names the account.",
                    **answer.fields(),
                    instance_id=instance.instance_id,
                ) from error
            except BotoCoreError as error:
                raise _connection_error(error, instance.instance_id) from error
        return self._caller_account

    def _region(self, region: str | None) -> str:
        """The region a call counts against: the one asked for, else the connection's."""
        return region or self._access.session(region).region_name or "default"

    def _warn_if_sts_leaves_a_local_endpoint(self) -> None:
        """Warn when Connect is called on a local endpoint (an emulator) but STS calls would go elsewhere."""
        connect = self._access.connection.get_service_endpoint_url("connect")
        if self._endpoints_checked or not _is_local(connect):
            return
        self._endpoints_checked = True
        sts = {"STS": self._access.connection.get_service_endpoint_url("sts")}
        if self._access.connection.role_arn:
            sts["STS for the connection's role_arn"] = self._access.connection.get_service_endpoint_url(
                "sts", sts_connection_assume=True
            )
        for name, url in sts.items():
            if not _is_local(url):
                log.warning(
                    "Connection %r calls Connect on the local endpoint %s, but %s goes to %s with the same "
                    'keys. Point STS at it too: add {"service_config": {"sts": {"endpoint_url": %r}}} '
                    "to the connection's extra.",
                    self._access.conn_id,
                    connect,
                    name,
                    url or "AWS's own endpoint",
                    connect,
                )

    def _connect_client(self, region: str | None) -> ConnectClient:
        return protect(self._access.connect_client(region))

    def _sts_client(self, session: boto3.session.Session) -> STSClient:
        return protect(
            session.client(
                "sts",
                endpoint_url=self._access.connection.get_service_endpoint_url("sts"),
                config=self._access.config,
                verify=self._access.verify,
            )
        )

    def _assume_connect_user(
        self,
        session: boto3.session.Session,
        sts: STSClient,
        region: str | None,
        connect_user: str,
        role_arn: str,
    ) -> _Caller:
        """Assume ``role_arn`` as session ``connect_user`` and return a Connect client for that session."""
        credentials = self._assume_role(sts, connect_user, role_arn)
        client = protect(
            session.client(
                "connect",
                region_name=region,
                endpoint_url=self._access.connection.get_service_endpoint_url("connect"),
                config=self._access.config,
                verify=self._access.verify,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        )
        return _Caller(client, f"assumed-role session {connect_user!r} of {role_arn}")

    def _assume_role(self, sts: STSClient, connect_user: str, role_arn: str) -> CredentialsTypeDef:
        """The credentials of role session ``connect_user``, whose identity maps to that Connect user."""
        try:
            return sts.assume_role(RoleArn=role_arn, RoleSessionName=connect_user)["Credentials"]
        except ClientError as error:
            answer = AwsAnswer.of(error)
            advice = (
                "Give the connection an IAM user's or role's keys: AWS lets no account root assume a role."
                if "root account" in answer.message
                else "Check that the connection's identity may call sts:AssumeRole on that role and that its "
                "trust policy allows it."
            )
            raise exc.AssumeRoleError(
                f"Could not assume role {role_arn} with session name {connect_user!r} for Connect user "
                f"{connect_user!r}: {answer.label}: {answer.message.rstrip('.')}. {advice}",
                **answer.fields(),
            ) from error
        except BotoCoreError as error:
            raise _connection_error(error, None) from error

    def _shared_connect_client(self, region: str | None, sessions: SessionCredentials) -> ConnectClient:
        """One Connect client for a whole batch, signing with the session bound to the calling thread."""
        botocore_session = botocore.session.get_session()
        # Every batch of the process shares one loader: Connect's parsed model is about 20 MiB.
        botocore_session.register_component("data_loader", _shared_loader())
        resolver = botocore_session.get_component("credential_provider")
        resolver.insert_before("env", sessions.provider())
        session = boto3.session.Session(botocore_session=botocore_session, region_name=region)
        return protect(
            session.client(
                "connect",
                region_name=region or self._access.session(None).region_name,
                endpoint_url=self._access.connection.get_service_endpoint_url("connect"),
                config=self._access.config,
                verify=self._access.verify,
            )
        )

    def _federate(self, instance: InstanceRef, caller: _Caller) -> FederationToken:
        try:
            response = caller.client.get_federation_token(InstanceId=instance.instance_id)
        except ClientError as error:
            raise self._translate(error, instance, caller, GET_FEDERATION_TOKEN) from error
        except BotoCoreError as error:
            raise _connection_error(error, instance.instance_id) from error
        token = FederationToken.from_dict(response, instance_id=instance.instance_id)
        token.mask()
        return token

    def _translate(
        self, error: ClientError, instance: InstanceRef, caller: _Caller, quota: OperationQuota
    ) -> exc.ConnectApiError:
        """The provider's error for an AWS answer to ``quota``'s operation: its class, what AWS said
        (code, status, request id), and what to do."""
        answer = AwsAnswer.of(error)
        identity = caller.description or self._describe_caller(caller)
        if quota.operation == GET_FEDERATION_TOKEN.operation and _ROOT_REFUSAL in answer.message:
            return exc.RootCredentialsError(
                f"Amazon Connect refuses to federate the account root ({identity}) on instance "
                f"{instance.instance_id!r} ({answer.label}). Use an IAM user, or a role session, whose name "
                "matches a Connect user: set the connection's credentials or pass connect_user= and role_arn=.",
                **answer.fields(),
                instance_id=instance.instance_id,
            )
        error_class, advice = _ERRORS.get(answer.code, (exc.ConnectApiError, ""))
        advice = _ADVICE.get((quota.operation, answer.code), advice).format(quota=quota)
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        retried = f" after {attempts + 1} attempts" if attempts else ""
        return error_class(
            f"{quota.operation} for instance {instance.instance_id!r} as {identity} failed{retried} with "
            f"{answer.label}: {answer.message} {advice}".rstrip(),
            **answer.fields(),
            instance_id=instance.instance_id,
        )

    def _describe_caller(self, caller: _Caller) -> str:
        """Name the calling identity for an error message; best effort, one extra STS call."""
        try:
            sts = self._sts_client(self._access.session(caller.client.meta.region_name))
            return f"identity {sts.get_caller_identity()['Arn']}"
        except (ClientError, BotoCoreError):
            return "the connection's identity"


#: Each AWS error code's class and advice; ``{quota.operation}`` names the operation that failed.
_ERRORS: dict[str, tuple[type[exc.ConnectApiError], str]] = {
    "InvalidRequestException": (
        exc.InvalidRequestError,
        "Connect refused the {quota.operation} request; check the instance and the arguments.",
    ),
    "InvalidParameterException": (
        exc.InvalidParameterError,
        "Check the instance ID: 1 to 100 characters, as shown in the instance ARN.",
    ),
    "ResourceNotFoundException": (
        exc.InstanceNotFoundError,
        "No such instance in this account and region: check instance_id and region_name.",
    ),
    "UserNotFoundException": (
        exc.UserNotFoundError,
        "No Connect user matches this identity. Create a Connect user whose username equals the IAM "
        "user name or role session name (case-sensitive), or pass connect_user= with role_arn=.",
    ),
    "DuplicateResourceException": (
        exc.DuplicateResourceError,
        "This Connect user federated before through a different IAM role, and Connect keeps that binding: "
        "call through the role it first federated with.",
    ),
    "InternalServiceException": (
        exc.InternalServiceError,
        "Amazon Connect failed internally; retry later.",
    ),
    "ThrottlingException": (
        exc.ThrottlingError,
        "Over the {quota.operation} quota (about {quota.requests_per_second:g} requests/s per account and "
        "region): spread callers out with an Airflow pool.",
    ),
    "AccessDeniedException": (
        exc.AccessDeniedError,
        "Allow connect:{quota.operation} on the instance (and its users) in this identity's IAM policy.",
    ),
}

#: Advice for one operation's answer that differs from :data:`_ERRORS`'.
_ADVICE: dict[tuple[str, str], str] = {
    ("GetFederationToken", "InvalidRequestException"): (
        "GetFederationToken needs an instance with SAML 2.0 identity management; check the instance's setup."
    ),
    ("GetFederationToken", "ThrottlingException"): (
        "Over the GetFederationToken quota (about {quota.requests_per_second:g} requests/s per account and "
        "region): spread callers out with an Airflow pool or use get_federation_tokens, which paces its calls."
    ),
    ("SearchUsers", "InvalidParameterException"): (
        "Check the instance ID (1 to 100 characters, as shown in the instance ARN) and the criteria's IDs."
    ),
    ("SearchUsers", "ThrottlingException"): (
        "Over the SearchUsers quota (about {quota.requests_per_second:g} requests/s per account and region), "
        "which other callers of the account share: lower [connect_federation] search_users_requests_per_second, "
        "or share the quota between workers with shared_quota_conn_id."
    ),
}


def _connection_error(error: BotoCoreError, instance_id: str | None) -> exc.AwsConnectionError:
    target = f" for instance {instance_id!r}" if instance_id else ""
    return exc.AwsConnectionError(
        f"Could not call AWS{target}: {error}. Check the connection's credentials, region and endpoint_url.",
        error_code=type(error).__name__,
        instance_id=instance_id,
    )


class _Pacer:
    """A client's handlers for one operation, registered once: each thread's attempts wait for the
    bucket that thread bound (:func:`_paced`), so concurrent calls on one client never register,
    unregister or share each other's handlers or permits."""

    def __init__(self, operation: str) -> None:
        self.local = threading.local()  # an attempt is sent and answered on one thread
        #: GetFederationToken's permit waits and 429s are metrics (quota_wait, throttled).
        self.measured = operation == GET_FEDERATION_TOKEN.operation

    def on_send(self, **_: Any) -> None:
        bucket = getattr(self.local, "bucket", None)
        if bucket is not None:
            started = time.monotonic()
            self.local.permit = bucket.acquire()
            if self.measured:
                metrics.timing("quota_wait", time.monotonic() - started, tags=self.local.tags)

    def on_answer(self, response: Any = None, **_: Any) -> None:
        if not getattr(self.local, "active", False):
            return
        bucket = getattr(self.local, "bucket", None)
        permit, self.local.permit = getattr(self.local, "permit", None), None
        if bucket is not None:
            _settle(bucket, response, permit)
        if self.measured and _is_throttled(response):
            metrics.incr("throttled", tags=self.local.tags)


#: Each client's pacers by operation (a client's event emitter, so a client gone takes its pacers along).
_pacers: weakref.WeakKeyDictionary[Any, dict[str, _Pacer]] = weakref.WeakKeyDictionary()
_pacers_lock = threading.Lock()


def _pacer(client: ConnectClient, operation: str) -> _Pacer:
    """``client``'s pacer of ``operation``, its handlers registered on first use."""
    events = client.meta.events
    with _pacers_lock:
        pacer = _pacers.setdefault(events, {}).get(operation)
        if pacer is None:
            pacer = _pacers[events][operation] = _Pacer(operation)
            events.register_first(
                f"before-send.connect.{operation}",
                pacer.on_send,
                unique_id=f"connect-fed-quota-take-{operation}",
            )
            events.register(
                f"needs-retry.connect.{operation}",
                pacer.on_answer,
                unique_id=f"connect-fed-quota-answer-{operation}",
            )
        return pacer


@contextmanager
def _paced(
    client: ConnectClient,
    bucket: TokenBucket | SharedQuota | None,
    quota: OperationQuota,
    tags: dict[str, str] | None = None,
) -> Iterator[None]:
    """While in the block, every attempt of ``client`` at ``quota``'s operation from this thread waits for
    ``bucket``; a 429 drains it, another answer settles the attempt's permit. ``bucket=None``: the
    attempts are only measured (GetFederationToken's 429s counted)."""
    local = _pacer(client, quota.operation).local
    previous = getattr(local, "bucket", None), getattr(local, "tags", None), getattr(local, "active", False)
    local.bucket, local.tags, local.active = bucket, tags, True  # tags: of the attempts' metrics
    try:
        yield
    finally:
        local.bucket, local.tags, local.active = previous


def _settle(bucket: TokenBucket | SharedQuota, response: Any, permit: Permit | None) -> None:
    """After an attempt: a 429 drains ``bucket``, another answer recovers it; no answer, nothing."""
    if response is None:
        return
    if _is_throttled(response):
        bucket.drain()
    else:
        bucket.recover(permit)


def _is_throttled(response: Any) -> bool:
    """Whether an attempt's answer (botocore's ``needs-retry`` response) is a 429 ThrottlingException."""
    return response is not None and response[1].get("Error", {}).get("Code") == "ThrottlingException"


@lru_cache(maxsize=1)
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _is_root(arn: str) -> bool:
    return arn.endswith(":root")


def _is_local(url: str | None) -> bool:
    host = urlsplit(url).hostname if url else None
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
