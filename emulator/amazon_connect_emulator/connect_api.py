"""The Connect operations moto lacks, answered in Connect's restJson wire format, as WSGI middleware.

Requests signed for the ``connect`` service on the CreateUser, DescribeUser, ListUsers and
GetFederationToken paths are handled here; every other request goes to moto's application unchanged,
so one endpoint URL serves both. Errors are a JSON ``{"Message": ...}`` body plus the
``x-amzn-ErrorType`` header, which botocore's restJson parser turns into ``ClientError`` codes.

STS requests signed with the root key get AWS's answers where moto's differ:
``GetCallerIdentity`` names the root, and ``AssumeRole`` is refused.

One emulator-only route, like moto's own ``/moto-api/``: ``POST /connect-emulator-api/instances``
with ``{"InstanceId", "Region"}`` (optional ``"AccountId"``, default the root's account) creates a
SAML instance with that id in moto's Connect backend, which picks random ids itself. It answers
``{"Id", "Arn", "Created"}``, ``Created`` false when the instance already existed.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from moto.connect.models import Instance, connect_backends
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from amazon_connect_emulator.identity import (
    SigningScope,
    request_account,
    resolve_caller,
    root_arn,
    signing_scope,
)
from amazon_connect_emulator.seed import INSTANCE_ROUTE, check_instance_id
from amazon_connect_emulator.sign_in import PREFIX as SIGN_IN_PREFIX

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from amazon_connect_emulator.counters import FederationCounters, Outcome
    from amazon_connect_emulator.directory import ConnectUser, InstanceKey, UserDirectory
    from amazon_connect_emulator.faults import FaultInjector
    from amazon_connect_emulator.quota import Quota
    from amazon_connect_emulator.sign_in import SignIns

logger = logging.getLogger(__name__)

MAX_INSTANCE_ID_LENGTH = 100
MAX_USERNAME_LENGTH = 100
MAX_LIST_RESULTS = 1000
DEFAULT_LIST_RESULTS = 100

_STATUS = {
    "InvalidRequestException": 400,
    "InvalidParameterException": 400,
    "ResourceNotFoundException": 404,
    "UserNotFoundException": 404,
    "DuplicateResourceException": 409,
    "ThrottlingException": 429,
    "InternalServiceException": 500,
}

# Optional CreateUser fields that DescribeUser returns as sent (Password is never returned).
_USER_SETTINGS = (
    "IdentityInfo",
    "PhoneConfig",
    "DirectoryUserId",
    "SecurityProfileIds",
    "RoutingProfileId",
    "HierarchyGroupId",
    "Tags",
    "AutoAcceptConfigs",
    "AfterContactWorkConfigs",
    "PhoneNumberConfigs",
    "PersistentConnectionConfigs",
    "VoiceEnhancementConfigs",
)

_ROUTES = Map(
    [
        Rule("/users/<instance_id>", methods=["PUT"], endpoint="create_user"),
        Rule("/users/<instance_id>/<user_id>", methods=["GET"], endpoint="describe_user"),
        Rule("/users-summary/<instance_id>", methods=["GET"], endpoint="list_users"),
        # <path:...> so an InstanceId with a slash (an ARN) still gets a Connect error, not moto's.
        Rule("/user/federate/<path:instance_id>", methods=["GET"], endpoint="get_federation_token"),
    ],
    strict_slashes=False,
)


class ConnectError(Exception):
    """A Connect API error: the code becomes ``x-amzn-ErrorType``, the message the JSON body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = _STATUS[code]

    @property
    def outcome(self) -> Outcome:
        """How a federation request that failed with this error is counted."""
        if self.code == "ThrottlingException":
            return "throttled"
        if self.code == "InternalServiceException":
            return "faulted"
        return "rejected"


Handler = Callable[[Request, SigningScope, dict[str, str]], dict[str, Any]]


class ConnectApi:
    """WSGI middleware in front of moto that serves Connect users and GetFederationToken."""

    def __init__(
        self,
        moto_app: WSGIApplication,
        *,
        users: UserDirectory,
        quota: Quota,
        faults: FaultInjector,
        counters: FederationCounters,
        root_access_key: str,
        token_ttl: int,
        sign_ins: SignIns,
    ) -> None:
        self._moto_app = moto_app
        self._sign_ins = sign_ins
        self._users = users
        self._quota = quota
        self._faults = faults
        self._counters = counters
        self._root_access_key = root_access_key
        self._token_ttl = token_ttl
        self._instances_lock = threading.Lock()
        self._handlers: dict[str, Handler] = {
            "create_user": self._create_user,
            "describe_user": self._describe_user,
            "list_users": self._list_users,
            "get_federation_token": self._get_federation_token,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == INSTANCE_ROUTE:
            return self._respond_seed(Request(environ))(environ, start_response)
        if str(environ.get("PATH_INFO", "")).startswith(SIGN_IN_PREFIX):
            return self._sign_ins.respond(Request(environ))(environ, start_response)
        scope = signing_scope(environ.get("HTTP_AUTHORIZATION"))
        if scope is not None:
            self._counters.record_request(scope.service)
        if scope is not None and scope.service == "sts" and scope.access_key == self._root_access_key:
            account_id = request_account(scope.access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
            answer = _root_sts_answer(_sts_action(environ), account_id, scope.region)
            if answer is not None:
                return answer(environ, start_response)
        route = _match(environ) if scope is not None and scope.service == "connect" else None
        if scope is None or route is None:
            return self._moto_app(environ, start_response)
        endpoint, args = route
        response = self._respond(self._handlers[endpoint], Request(environ), scope, args)
        return response(environ, start_response)

    def _respond(
        self, handler: Handler, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> Response:
        try:
            return _json_response(200, handler(request, scope, args))
        except ConnectError as error:
            return _json_response(error.status, {"Message": error.message}, error.code)
        except Exception:
            logger.exception("Connect emulator failed on %s %s", request.method, request.path)
            return _json_response(
                500, {"Message": "The emulator failed; see its log"}, "InternalServiceException"
            )

    # The emulator-only route: a Connect instance with a given id

    def _respond_seed(self, request: Request) -> Response:
        if request.method != "POST":
            return _json_response(
                405, {"Message": f"Use POST on {INSTANCE_ROUTE}"}, "InvalidRequestException"
            )
        try:
            return _json_response(200, self._seed_instance(_json_body(request)))
        except ConnectError as error:
            return _json_response(error.status, {"Message": error.message}, error.code)

    def _seed_instance(self, payload: dict[str, Any]) -> dict[str, Any]:
        instance_id, region = payload.get("InstanceId"), payload.get("Region")
        account_id = payload.get("AccountId") or request_account(self._root_access_key, None)
        if not isinstance(account_id, str) or not (account_id.isdigit() and len(account_id) == 12):
            raise ConnectError(
                "InvalidParameterException", f"AccountId must be 12 digits, or left out, got {account_id!r}"
            )
        try:
            check_instance_id(instance_id)
        except ValueError as error:
            raise ConnectError(
                "InvalidParameterException", str(error).replace("instance_id", "InstanceId")
            ) from None
        try:
            backend = connect_backends[account_id][str(region)]
        except KeyError:
            raise ConnectError(
                "InvalidParameterException",
                f"Region must be an AWS region moto serves Connect in, like 'us-east-1', got {region!r}",
            ) from None
        assert isinstance(instance_id, str)
        with self._instances_lock:
            instance = backend.instances.get(instance_id)
            created = instance is None
            if instance is None:
                instance = backend.instances.pop(backend.create_instance("SAML", True, True)["Id"])
                instance.id = instance_id
                instance.arn = instance.arn.rsplit("/", 1)[0] + f"/{instance_id}"
                instance.instance_access_url = f"https://{instance_id}.my.connect.aws"
                backend.instances[instance_id] = instance
        return {"Id": instance.id, "Arn": instance.arn, "Created": created}

    # CreateUser, DescribeUser, ListUsers

    def _create_user(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        payload = _json_body(request)
        username = payload.get("Username")
        if not isinstance(username, str) or not 1 <= len(username) <= MAX_USERNAME_LENGTH:
            raise ConnectError(
                "InvalidParameterException",
                f"Username must be a string of 1 to {MAX_USERNAME_LENGTH} characters, got {username!r}",
            )
        settings = {name: payload[name] for name in _USER_SETTINGS if name in payload}
        user = self._users.add(key, instance.arn, username, settings)
        if user is None:
            raise ConnectError(
                "DuplicateResourceException",
                f"A user named {username!r} already exists in instance {instance.id}",
            )
        return {"UserId": user.id, "UserArn": user.arn}

    def _describe_user(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        user = self._users.get(key, args["user_id"])
        if user is None:
            raise ConnectError(
                "ResourceNotFoundException", f"User {args['user_id']} not found in instance {instance.id}"
            )
        return {"User": user.description()}

    def _list_users(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, _ = self._instance(_account(request, scope), scope.region, args["instance_id"])
        start = _page_start(request.args.get("nextToken"))
        size = _page_size(request.args.get("maxResults"))
        users = self._users.users(key)
        body: dict[str, Any] = {"UserSummaryList": [user.summary() for user in users[start : start + size]]}
        if start + size < len(users):
            body["NextToken"] = str(start + size)
        return body

    # GetFederationToken

    def _get_federation_token(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        instance_id = args["instance_id"]
        try:
            body = self._federate(request, scope, instance_id)
        except ConnectError as error:
            self._counters.record(instance_id, error.outcome)
            raise
        self._counters.record(instance_id, "succeeded")
        return body

    def _federate(self, request: Request, scope: SigningScope, instance_id: str) -> dict[str, Any]:
        account_id = _account(request, scope)
        self._admit(account_id, scope.region)
        caller = resolve_caller(scope.access_key, account_id, scope.region, self._root_access_key)
        if caller.is_root:
            raise ConnectError(
                "InvalidRequestException",
                f"Provided identity: Principal: {caller.arn} User: {caller.arn} "
                "cannot be used for federation with Amazon Connect",
            )
        key, instance = self._instance(account_id, scope.region, instance_id)
        user = self._users.find(key, caller.username or "")
        if user is None:
            raise ConnectError(
                "UserNotFoundException",
                f"No user named {caller.username!r} in instance {instance.id} for identity {caller.arn} "
                "(Connect usernames are case-sensitive and must equal the role session name or IAM user name)",
            )
        bound = self._users.bind_principal(key, user.id, caller.federation_principal)
        if bound != caller.federation_principal:
            raise ConnectError(
                "DuplicateResourceException",
                f"User {user.username!r} federated earlier through {bound}; "
                f"federating through {caller.federation_principal} is not allowed",
            )
        return self._token(request.host_url, instance, user)

    def _admit(self, account_id: str, region: str) -> None:
        """Apply the quota, then fault injection, before the request is looked at."""
        if not self._quota.try_acquire((account_id, region)):
            raise ConnectError(
                "ThrottlingException",
                f"Rate exceeded: GetFederationToken allows {self._quota.requests_per_second:g} requests/s "
                f"(burst {self._quota.burst}) per account and region; slow down and retry",
            )
        if self._faults.should_fail():
            raise ConnectError(
                "InternalServiceException",
                f"Injected fault (fault_rate={self._faults.rate:g}); retry the request",
            )

    def _token(self, host_url: str, instance: Instance, user: ConnectUser) -> dict[str, Any]:
        expires = round(time.time() + self._token_ttl, 3)
        credentials = {
            "AccessToken": secrets.token_urlsafe(48),
            "AccessTokenExpiration": expires,
            "RefreshToken": secrets.token_urlsafe(48),
            "RefreshTokenExpiration": expires,
        }
        self._sign_ins.issue(instance.id, user.username, credentials)
        return {
            "Credentials": credentials,
            "SignInUrl": f"{self._sign_ins.instance_url(host_url, instance.id)}/auth/sign-in",
            "UserArn": user.arn,
            "UserId": user.id,
        }

    @staticmethod
    def _instance(account_id: str, region: str, instance_id: str) -> tuple[InstanceKey, Instance]:
        """The moto Connect instance that the account holds in the region under ``instance_id``."""
        _check_instance_id(instance_id)
        try:
            instance = connect_backends[account_id][region].instances.get(instance_id)
        except KeyError:  # a region moto does not serve
            instance = None
        if instance is None:
            raise ConnectError(
                "ResourceNotFoundException",
                f"Instance {instance_id} not found in account {account_id}, region {region}",
            )
        return (account_id, region, instance_id), instance


def _account(request: Request, scope: SigningScope) -> str:
    return request_account(scope.access_key, request.headers.get("x-moto-account-id"))


def _match(environ: WSGIEnvironment) -> tuple[str, dict[str, str]] | None:
    try:
        endpoint, args = _ROUTES.bind_to_environ(environ).match()
    except HTTPException:
        return None
    return str(endpoint), dict(args)


def _check_instance_id(instance_id: str) -> None:
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise ConnectError(
            "InvalidParameterException",
            f"InstanceId must be 1 to {MAX_INSTANCE_ID_LENGTH} characters, got {len(instance_id)} "
            f"characters starting {instance_id[:20]!r}",
        )


def _json_body(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(request.get_data() or b"{}")
    except ValueError as error:
        raise ConnectError("InvalidRequestException", f"Request body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ConnectError(
            "InvalidRequestException", f"Request body must be a JSON object, got {type(payload).__name__}"
        )
    return payload


def _sts_action(environ: WSGIEnvironment) -> str | None:
    """The ``Action`` of an STS query-protocol request; a body read for it is put back for moto."""
    if environ.get("REQUEST_METHOD") == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        query = body.decode("utf-8", "replace")
    else:
        query = environ.get("QUERY_STRING", "")
    actions = parse_qs(query).get("Action")
    return actions[0] if actions else None


def _root_sts_answer(action: str | None, account_id: str, region: str) -> Response | None:
    """What AWS STS answers the account root where moto answers otherwise; None: moto's answer stands."""
    request_id = f"<RequestId>{uuid.uuid4()}</RequestId>"
    if action == "GetCallerIdentity":  # moto names its default IAM user
        arn = root_arn(account_id, region)
        body = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{account_id}</UserId>"
            f"<Account>{account_id}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata>{request_id}</ResponseMetadata></GetCallerIdentityResponse>"
        )
        return Response(body, status=200, content_type="text/xml")
    if action == "AssumeRole":  # moto lets the root assume roles; AWS refuses
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            "<Code>AccessDenied</Code><Message>Roles may not be assumed by root accounts.</Message></Error>"
            f"{request_id}</ErrorResponse>"
        )
        return Response(body, status=403, content_type="text/xml")
    return None


def _page_start(next_token: str | None) -> int:
    if next_token is None:
        return 0
    if not next_token.isdigit():
        raise ConnectError(
            "InvalidParameterException", f"nextToken {next_token!r} was not issued by ListUsers"
        )
    return int(next_token)


def _page_size(max_results: str | None) -> int:
    if max_results is None:
        return DEFAULT_LIST_RESULTS
    if not max_results.isdigit() or not 1 <= int(max_results) <= MAX_LIST_RESULTS:
        raise ConnectError(
            "InvalidParameterException", f"maxResults must be 1 to {MAX_LIST_RESULTS}, got {max_results!r}"
        )
    return int(max_results)


def _json_response(status: int, body: dict[str, Any], error_code: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_code is not None:
        headers["x-amzn-ErrorType"] = error_code
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
