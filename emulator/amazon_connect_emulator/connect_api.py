"""The Connect operations moto lacks, answered in Connect's restJson wire format, as WSGI middleware.

Requests signed for the ``connect`` service on the paths of CreateUser, DescribeUser, ListUsers,
SearchUsers, DeleteUser, UpdateUserRoutingProfile, ListAuthenticationProfiles,
DescribeAuthenticationProfile, UpdateAuthenticationProfile, GetFederationToken, and TagResource,
UntagResource and ListTagsForResource of a user's ARN are handled here; every other request goes to
moto's application unchanged (the tags of an instance are moto's), so one endpoint URL serves both.
Errors are a JSON ``{"Message": ...}`` body plus the ``x-amzn-ErrorType`` header, which botocore's
restJson parser turns into ``ClientError`` codes.

Quotas, per account and region: GetFederationToken's own, and one bucket per operation for every
other operation served here (429 ThrottlingException when empty); Secrets Manager's write quotas
(400 ThrottlingException, see ``secretsmanager_quota``). Every signed request is counted by service
and operation.

moto's backends are not thread-safe and the server is threaded: every request moto answers, and every
read of moto's state here, holds its service's lock (``service_locks``). Secrets Manager requests are
answered from an indexed store (``secrets_store``), so their cost does not grow with the secrets stored.

STS requests signed with the root key get AWS's answers where moto's differ:
``GetCallerIdentity`` names the root, and ``AssumeRole`` is refused.
Secrets Manager requests on a secret scheduled for deletion get AWS's refusals where moto's differ
(see ``secrets_lifecycle``).

Two emulator-only routes, like moto's own ``/moto-api/``, neither signed nor throttled nor counted:

- ``POST /connect-emulator-api/instances`` with ``{"InstanceId", "Region"}`` (optional
  ``"AccountId"``, default the root's account) creates a SAML instance with that id in moto's Connect
  backend, which picks random ids itself. It answers ``{"Id", "Arn", "Created"}``, ``Created`` false
  when the instance already existed.
- ``POST /connect-emulator-api/users`` with ``{"InstanceId", "Region", "Users"}`` (optional
  ``"AccountId"``) creates users at once, each a username or an object of CreateUser fields, all or
  none. It answers ``{"Users": [{"Username", "Id", "Arn", "Created"}]}``, ``Created`` false for a
  username the instance had already.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from moto.connect.models import Instance, connect_backends
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from amazon_connect_emulator.authentication_profiles import MAX_PROFILE_ID_LENGTH, profile_changes
from amazon_connect_emulator.directory import DuplicateUsername, check_tags, new_user
from amazon_connect_emulator.identity import (
    SigningScope,
    request_account,
    resolve_caller,
    root_arn,
    signing_scope,
)
from amazon_connect_emulator.operations import operation_of, query_action
from amazon_connect_emulator.quota import Quota
from amazon_connect_emulator.secrets_lifecycle import scheduled_deletion_refusal
from amazon_connect_emulator.secrets_store import indexed_backend
from amazon_connect_emulator.secretsmanager_quota import (
    DEFAULT_SECRETSMANAGER_WRITE_BURST,
    DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND,
    WRITE_QUOTAS,
    throttling_response,
)
from amazon_connect_emulator.seed import INSTANCE_ROUTE, USERS_ROUTE, check_instance_id
from amazon_connect_emulator.service_locks import ServiceLocks
from amazon_connect_emulator.sign_in import PREFIX as SIGN_IN_PREFIX
from amazon_connect_emulator.token_bucket import DEFAULT_API_BURST, DEFAULT_API_REQUESTS_PER_SECOND
from amazon_connect_emulator.user_search import PageTokens, search_predicate

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from amazon_connect_emulator.authentication_profiles import AuthenticationProfile, AuthenticationProfiles
    from amazon_connect_emulator.counters import FederationCounters, Outcome
    from amazon_connect_emulator.directory import ConnectUser, InstanceKey, UserDirectory
    from amazon_connect_emulator.faults import FaultInjector
    from amazon_connect_emulator.sign_in import SignIns

logger = logging.getLogger(__name__)

MAX_INSTANCE_ID_LENGTH = 100
MAX_LIST_RESULTS = 1000
DEFAULT_LIST_RESULTS = 100
MAX_SEARCH_RESULTS = 500
DEFAULT_SEARCH_RESULTS = 100  # AWS documents no default; the emulator's choice

_STATUS = {
    "InvalidRequestException": 400,
    "InvalidParameterException": 400,
    "ResourceNotFoundException": 404,
    "UserNotFoundException": 404,
    "DuplicateResourceException": 409,
    "ThrottlingException": 429,
    "InternalServiceException": 500,
}

# Endpoints are the operation names: the counters and the quota go by them.
_ROUTES = Map(
    [
        Rule("/users/<instance_id>", methods=["PUT"], endpoint="CreateUser"),
        Rule("/users/<instance_id>/<user_id>", methods=["GET"], endpoint="DescribeUser"),
        Rule("/users/<instance_id>/<user_id>", methods=["DELETE"], endpoint="DeleteUser"),
        Rule(
            "/users/<instance_id>/<user_id>/routing-profile",
            methods=["POST"],
            endpoint="UpdateUserRoutingProfile",
        ),
        Rule("/users-summary/<instance_id>", methods=["GET"], endpoint="ListUsers"),
        Rule("/search-users", methods=["POST"], endpoint="SearchUsers"),
        Rule(
            "/authentication-profiles-summary/<instance_id>",
            methods=["GET"],
            endpoint="ListAuthenticationProfiles",
        ),
        Rule(
            "/authentication-profiles/<instance_id>/<profile_id>",
            methods=["GET"],
            endpoint="DescribeAuthenticationProfile",
        ),
        Rule(
            "/authentication-profiles/<instance_id>/<profile_id>",
            methods=["POST"],
            endpoint="UpdateAuthenticationProfile",
        ),
        Rule("/tags/<path:resource_arn>", methods=["POST"], endpoint="TagResource"),
        Rule("/tags/<path:resource_arn>", methods=["DELETE"], endpoint="UntagResource"),
        Rule("/tags/<path:resource_arn>", methods=["GET"], endpoint="ListTagsForResource"),
        # <path:...> so an InstanceId with a slash (an ARN) still gets a Connect error, not moto's.
        Rule("/user/federate/<path:instance_id>", methods=["GET"], endpoint="GetFederationToken"),
    ],
    strict_slashes=False,
)
_SEED_ROUTES = (INSTANCE_ROUTE, USERS_ROUTE)
_TAG_OPERATIONS = ("TagResource", "UntagResource", "ListTagsForResource")
_USER_ARN = re.compile(
    r"arn:[\w-]+:connect:(?P<region>[\w-]+):(?P<account>\d{12}):instance/(?P<instance>[^/]+)/agent/(?P<user>[^/]+)"
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
    """WSGI middleware in front of moto that serves Connect users, authentication profiles and
    GetFederationToken, whose token lifetimes are the instance's default profile's session durations."""

    def __init__(
        self,
        moto_app: WSGIApplication,
        *,
        users: UserDirectory,
        quota: Quota,
        faults: FaultInjector,
        counters: FederationCounters,
        root_access_key: str,
        profiles: AuthenticationProfiles,
        sign_ins: SignIns,
        api_quota: Quota | None = None,
        write_quota: Quota | None = None,
    ) -> None:
        self._moto_app = moto_app
        self._sign_ins = sign_ins
        self._users = users
        self._quota = quota
        self._api_quota = api_quota or Quota(DEFAULT_API_REQUESTS_PER_SECOND, DEFAULT_API_BURST)
        self._write_quota = write_quota or Quota(
            DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND, DEFAULT_SECRETSMANAGER_WRITE_BURST
        )
        self._locks = ServiceLocks()
        self._faults = faults
        self._counters = counters
        self._root_access_key = root_access_key
        self._profiles = profiles
        self._pages = PageTokens()
        self._handlers: dict[str, Handler] = {
            "CreateUser": self._create_user,
            "DescribeUser": self._describe_user,
            "DeleteUser": self._delete_user,
            "UpdateUserRoutingProfile": self._update_user_routing_profile,
            "ListUsers": self._list_users,
            "SearchUsers": self._search_users,
            "ListAuthenticationProfiles": self._list_authentication_profiles,
            "DescribeAuthenticationProfile": self._describe_authentication_profile,
            "UpdateAuthenticationProfile": self._update_authentication_profile,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
            "ListTagsForResource": self._list_tags_for_resource,
            "GetFederationToken": self._get_federation_token,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path in _SEED_ROUTES:
            return self._respond_seed(Request(environ), path)(environ, start_response)
        if path.startswith(SIGN_IN_PREFIX):
            return self._sign_ins.respond(Request(environ))(environ, start_response)
        scope = signing_scope(environ.get("HTTP_AUTHORIZATION"))
        if scope is None:
            return self._forward(None, environ, start_response)
        route = _match(environ) if scope.service == "connect" else None
        operation = route[0] if route else operation_of(environ, scope.service)
        self._counters.record_request(scope.service, operation)
        if scope.service == "sts" and scope.access_key == self._root_access_key:
            account_id = request_account(scope.access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
            answer = _root_sts_answer(query_action(environ), account_id, scope.region)
            if answer is not None:
                return answer(environ, start_response)
        if scope.service == "secretsmanager":
            account_id = request_account(scope.access_key, environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
            return self._secrets_manager(environ, start_response, operation, account_id, scope.region)
        if route is None:
            return self._forward(scope.service, environ, start_response)
        operation, args = route
        if operation in _TAG_OPERATIONS and _USER_ARN.fullmatch(args["resource_arn"]) is None:
            # an instance's (or another resource's) tags
            return self._forward(scope.service, environ, start_response)
        response = self._respond(operation, Request(environ), scope, args)
        return response(environ, start_response)

    def _forward(
        self, service: str | None, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """moto's answer, holding the lock of the request's service (every lock: ``service`` None).

        moto builds its whole response inside the call; the lock is released before it is sent."""
        with self._locks.hold(service):
            return self._moto_app(environ, start_response)

    def _secrets_manager(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        operation: str,
        account_id: str,
        region: str,
    ) -> Iterable[bytes]:
        """A Secrets Manager request: its write quota, AWS's refusals where moto differs, then moto's
        answer from an indexed store, all but the quota under the Secrets Manager lock."""
        quota = WRITE_QUOTAS.get(operation)
        if quota is not None and not self._write_quota.try_acquire((account_id, region, quota)):
            self._counters.record_throttle(operation)
            return throttling_response()(environ, start_response)
        with self._locks.hold("secretsmanager"):
            with contextlib.suppress(KeyError):  # a region moto does not serve: moto answers
                indexed_backend(account_id, region)
            refusal = scheduled_deletion_refusal(environ, operation, account_id, region)
            if refusal is not None:
                return refusal(environ, start_response)
            return self._moto_app(environ, start_response)

    def _respond(
        self, operation: str, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> Response:
        try:
            if operation != "GetFederationToken":  # which applies its own quota, counted per instance
                self._admit_api(operation, _account(request, scope), scope.region)
            return _json_response(200, self._handlers[operation](request, scope, args))
        except ConnectError as error:
            if error.code == "ThrottlingException":
                self._counters.record_throttle(operation)
            return _json_response(error.status, {"Message": error.message}, error.code)
        except Exception:
            logger.exception("Connect emulator failed on %s %s", request.method, request.path)
            return _json_response(
                500, {"Message": "The emulator failed; see its log"}, "InternalServiceException"
            )

    def _admit_api(self, operation: str, account_id: str, region: str) -> None:
        if not self._api_quota.try_acquire((account_id, region, operation)):
            raise ConnectError(
                "ThrottlingException",
                f"Rate exceeded: {operation} allows {self._api_quota.requests_per_second:g} requests/s "
                f"(burst {self._api_quota.burst}) per account and region; slow down and retry",
            )

    # The emulator-only routes: an instance with a given id, users at once

    def _respond_seed(self, request: Request, route: str) -> Response:
        if request.method != "POST":
            return _json_response(405, {"Message": f"Use POST on {route}"}, "InvalidRequestException")
        seed = self._seed_instance if route == INSTANCE_ROUTE else self._seed_users
        try:
            return _json_response(200, seed(_json_body(request)))
        except ConnectError as error:
            return _json_response(error.status, {"Message": error.message}, error.code)

    def _seed_instance(self, payload: dict[str, Any]) -> dict[str, Any]:
        account_id, region = self._seed_scope(payload)
        instance_id = payload.get("InstanceId")
        try:
            check_instance_id(instance_id)
        except ValueError as error:
            raise ConnectError(
                "InvalidParameterException", str(error).replace("instance_id", "InstanceId")
            ) from None
        backend = connect_backends[account_id][region]
        assert isinstance(instance_id, str)
        with self._locks.hold("connect"):
            instance = backend.instances.get(instance_id)
            created = instance is None
            if instance is None:
                instance = backend.instances.pop(backend.create_instance("SAML", True, True)["Id"])
                instance.id = instance_id
                instance.arn = instance.arn.rsplit("/", 1)[0] + f"/{instance_id}"
                instance.instance_access_url = f"https://{instance_id}.my.connect.aws"
                backend.instances[instance_id] = instance
        return {"Id": instance.id, "Arn": instance.arn, "Created": created}

    def _seed_users(self, payload: dict[str, Any]) -> dict[str, Any]:
        account_id, region = self._seed_scope(payload)
        instance_id, users = payload.get("InstanceId"), payload.get("Users")
        if not isinstance(instance_id, str) or not instance_id:
            raise ConnectError(
                "InvalidParameterException", f"InstanceId must be an instance id, got {instance_id!r}"
            )
        if not isinstance(users, list):
            raise ConnectError(
                "InvalidParameterException",
                f"Users must be a list of usernames or objects of CreateUser fields, got {users!r}",
            )
        added = add_users(
            self._users, (account_id, region, instance_id), users, existing_ok=True, label="Users"
        )
        return {
            "Users": [
                {"Username": user.username, "Id": user.id, "Arn": user.arn, "Created": created}
                for user, created in added
            ]
        }

    def _seed_scope(self, payload: dict[str, Any]) -> tuple[str, str]:
        """The account (default the root's) and region of a seed request, checked."""
        account_id = payload.get("AccountId") or request_account(self._root_access_key, None)
        if not isinstance(account_id, str) or not (account_id.isdigit() and len(account_id) == 12):
            raise ConnectError(
                "InvalidParameterException", f"AccountId must be 12 digits, or left out, got {account_id!r}"
            )
        region = payload.get("Region")
        try:
            connect_backends[account_id][str(region)]
        except KeyError:
            raise ConnectError(
                "InvalidParameterException",
                f"Region must be an AWS region moto serves Connect in, like 'us-east-1', got {region!r}",
            ) from None
        return account_id, str(region)

    # CreateUser, DescribeUser, DeleteUser, UpdateUserRoutingProfile, ListUsers

    def _create_user(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key = (_account(request, scope), scope.region, args["instance_id"])
        [(user, _)] = add_users(self._users, key, [_json_body(request)])
        return {"UserId": user.id, "UserArn": user.arn}

    def _describe_user(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        return {"User": self._user(key, instance, args["user_id"]).description()}

    def _delete_user(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        self._user(key, instance, args["user_id"])
        self._users.remove(key, args["user_id"])
        return {}

    def _update_user_routing_profile(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        key, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        profile = _json_body(request).get("RoutingProfileId")
        if not isinstance(profile, str) or not profile:
            raise ConnectError(
                "InvalidParameterException", f"RoutingProfileId must be a non-empty string, got {profile!r}"
            )
        self._user(key, instance, args["user_id"])
        self._users.update(key, args["user_id"], RoutingProfileId=profile)
        return {}

    def _list_users(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, _ = self._instance(_account(request, scope), scope.region, args["instance_id"])
        start = _page_start(request.args.get("nextToken"), "ListUsers")
        size = _page_size(request.args.get("maxResults"))
        users = self._users.users(key)
        body: dict[str, Any] = {"UserSummaryList": [user.summary() for user in users[start : start + size]]}
        if start + size < len(users):
            body["NextToken"] = str(start + size)
        return body

    def _user(self, key: InstanceKey, instance: Instance, user_id: str) -> ConnectUser:
        user = self._users.get(key, user_id)
        if user is None:
            raise ConnectError(
                "ResourceNotFoundException", f"User {user_id} not found in instance {instance.id}"
            )
        return user

    # SearchUsers

    def _search_users(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        payload = _json_body(request)
        instance_id = payload.get("InstanceId")
        if not isinstance(instance_id, str) or not instance_id:
            raise ConnectError(
                "InvalidParameterException", f"InstanceId must be an instance id, got {instance_id!r}"
            )
        size = payload.get("MaxResults", DEFAULT_SEARCH_RESULTS)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SEARCH_RESULTS:
            raise ConnectError(
                "InvalidParameterException", f"MaxResults must be 1 to {MAX_SEARCH_RESULTS}, got {size!r}"
            )
        criteria, search_filter = payload.get("SearchCriteria"), payload.get("SearchFilter")
        key, _ = self._instance(_account(request, scope), scope.region, instance_id)
        search_id = self._pages.search_id(key, criteria, search_filter)
        try:
            matches = search_predicate(criteria, search_filter)
            after = self._pages.after(payload.get("NextToken"), search_id)
        except ValueError as error:
            raise ConnectError("InvalidParameterException", str(error)) from None
        found = [user for user in self._users.users(key) if matches(user)]
        rest = [user for user in found if user.sequence > after]
        page = rest[:size]
        body: dict[str, Any] = {
            "Users": [user.search_summary() for user in page],
            "ApproximateTotalCount": len(found),
        }
        if len(rest) > size:
            body["NextToken"] = self._pages.issue(search_id, page[-1].sequence)
        return body

    # ListAuthenticationProfiles, DescribeAuthenticationProfile, UpdateAuthenticationProfile

    def _list_authentication_profiles(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        _, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        start = _page_start(request.args.get("nextToken"), "ListAuthenticationProfiles")
        size = _page_size(request.args.get("maxResults"))
        profiles = [self._profiles.default(instance)]
        body: dict[str, Any] = {
            "AuthenticationProfileSummaryList": [
                profile.summary() for profile in profiles[start : start + size]
            ]
        }
        if start + size < len(profiles):
            body["NextToken"] = str(start + size)
        return body

    def _describe_authentication_profile(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        _, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        profile = self._profiles.get(instance, _profile_id(args["profile_id"]))
        return {"AuthenticationProfile": _found(profile, args["profile_id"], instance).description_json()}

    def _update_authentication_profile(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        _, instance = self._instance(_account(request, scope), scope.region, args["instance_id"])
        profile_id = _profile_id(args["profile_id"])
        try:
            changes = profile_changes(_json_body(request))
        except ValueError as error:
            raise ConnectError("InvalidParameterException", str(error)) from None
        _found(self._profiles.update(instance, profile_id, changes), profile_id, instance)
        return {}

    # TagResource, UntagResource, ListTagsForResource of a user

    def _tag_resource(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, user = self._tagged_user(args["resource_arn"])
        try:
            tags = check_tags(_json_body(request).get("tags"), "tags")
        except ValueError as error:
            raise ConnectError("InvalidParameterException", str(error)) from None
        self._users.update(key, user.id, Tags={**(user.settings.get("Tags") or {}), **tags})
        return {}

    def _untag_resource(self, request: Request, scope: SigningScope, args: dict[str, str]) -> dict[str, Any]:
        key, user = self._tagged_user(args["resource_arn"])
        keys = request.args.getlist("tagKeys")
        if not keys:
            raise ConnectError(
                "InvalidParameterException", "tagKeys must name at least one tag key, got none"
            )
        remaining = {k: v for k, v in (user.settings.get("Tags") or {}).items() if k not in keys}
        self._users.update(key, user.id, Tags=remaining or None)
        return {}

    def _list_tags_for_resource(
        self, request: Request, scope: SigningScope, args: dict[str, str]
    ) -> dict[str, Any]:
        _, user = self._tagged_user(args["resource_arn"])
        return {"tags": dict(user.settings.get("Tags") or {})}

    def _tagged_user(self, arn: str) -> tuple[InstanceKey, ConnectUser]:
        parts = _USER_ARN.fullmatch(arn)
        assert parts is not None  # only user ARNs are routed here
        key = (parts["account"], parts["region"], parts["instance"])
        user = self._users.get(key, parts["user"])
        if user is None or user.arn != arn:
            raise ConnectError("ResourceNotFoundException", f"Resource {arn} not found")
        return key, user

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
        with self._locks.hold("sts"):  # reads moto's STS and IAM backends
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
        """A token pair whose lifetimes are the instance's default profile's session durations: the
        access token's its ``PeriodicSessionDuration``, the refresh token's its ``MaxSessionDuration``
        (the emulator's assumption; AWS does not document the mapping)."""
        profile = self._profiles.default(instance)
        now = time.time()
        credentials = {
            "AccessToken": secrets.token_urlsafe(48),
            "AccessTokenExpiration": round(now + profile.periodic_session_duration * 60, 3),
            "RefreshToken": secrets.token_urlsafe(48),
            "RefreshTokenExpiration": round(now + profile.max_session_duration * 60, 3),
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
        key = (account_id, region, instance_id)
        return key, find_instance(key)


def find_instance(key: InstanceKey) -> Instance:
    """The moto Connect instance that the account holds in the region under the instance id."""
    account_id, region, instance_id = key
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
    return instance


def add_users(
    directory: UserDirectory,
    key: InstanceKey,
    users: Iterable[str | Mapping[str, Any]],
    *,
    existing_ok: bool = False,
    label: str | None = None,
) -> list[tuple[ConnectUser, bool]]:
    """Create users of an instance from usernames or CreateUser-like mappings, all or none, as CreateUser
    checks them; ``(user, created)`` in order. ``label`` names the list in error messages
    (``Users[2]: ...``). With ``existing_ok`` a username the instance has is that user, not a 409."""
    instance = find_instance(key)
    entries = []
    for i, user in enumerate(users):
        try:
            entries.append(new_user(user))
        except ValueError as error:
            where = f"{label}[{i}]: " if label else ""
            raise ConnectError("InvalidParameterException", f"{where}{error}") from None
    try:
        return directory.add_many(key, instance.arn, entries, existing_ok=existing_ok)
    except DuplicateUsername as error:
        raise ConnectError("DuplicateResourceException", str(error)) from None
    except ValueError as error:
        raise ConnectError("InvalidParameterException", str(error)) from None


def _account(request: Request, scope: SigningScope) -> str:
    return request_account(scope.access_key, request.headers.get("x-moto-account-id"))


def _match(environ: WSGIEnvironment) -> tuple[str, dict[str, str]] | None:
    try:
        endpoint, args = _ROUTES.bind_to_environ(environ).match()
    except HTTPException:
        return None
    return str(endpoint), dict(args)


def _check_instance_id(instance_id: str) -> None:
    _check_length("InstanceId", instance_id, MAX_INSTANCE_ID_LENGTH)


def _profile_id(profile_id: str) -> str:
    _check_length("AuthenticationProfileId", profile_id, MAX_PROFILE_ID_LENGTH)
    return profile_id


def _check_length(name: str, value: str, maximum: int) -> None:
    """A path parameter AWS caps at ``maximum`` characters: 400 InvalidParameterException beyond."""
    if len(value) > maximum:
        raise ConnectError(
            "InvalidParameterException",
            f"{name} must be 1 to {maximum} characters, got {len(value)} characters starting {value[:20]!r}",
        )


def _found(
    profile: AuthenticationProfile | None, profile_id: str, instance: Instance
) -> AuthenticationProfile:
    if profile is None:
        raise ConnectError(
            "ResourceNotFoundException",
            f"Authentication profile {profile_id} not found in instance {instance.id}",
        )
    return profile


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


def _page_start(next_token: str | None, operation: str) -> int:
    if next_token is None:
        return 0
    if not next_token.isdigit():
        raise ConnectError(
            "InvalidParameterException", f"nextToken {next_token!r} was not issued by {operation}"
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
