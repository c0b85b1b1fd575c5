"""Seed a running emulator over HTTP: a Connect instance with a fixed id, Connect users, the federation role.

The defaults are the values of the README's first DAG: instance
``11111111-2222-3333-4444-555555555555`` of account ``123456789012`` (moto's default) in
``us-east-1``, Connect user ``agent-1`` and role ``arn:aws:iam::123456789012:role/ConnectFederation``.
What already exists is reported, not created again. The instance and the users go through the
emulator-only routes (``/connect-emulator-api/...``, not throttled: seeding is not AWS traffic), the
role through IAM. Only boto3 and the standard library are used, so a client without moto can seed an
emulator served elsewhere.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from amazon_connect_emulator.identity import DEFAULT_ROOT_ACCESS_KEY, ROOT_SECRET_ACCESS_KEY, validate_region

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
DEFAULT_USERS = ("agent-1",)
DEFAULT_ROLE_NAME = "ConnectFederation"
#: The emulator-only route that creates a Connect instance with a given id (moto picks random ids).
INSTANCE_ROUTE = "/connect-emulator-api/instances"
#: The emulator-only route that creates Connect users at once, unthrottled (seeding is not AWS traffic).
USERS_ROUTE = "/connect-emulator-api/users"
#: Connect instance ids the emulator can create: UUID-like, 1 to 100 letters, digits and hyphens.
INSTANCE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")

# A Connect username that is also an STS role session name (the hook assumes the role with it).
_CONNECT_USER = re.compile(r"[A-Za-z0-9_.@-]{2,64}")
_ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
_START_IT = "Start it with `amazon-connect-emulator` and pass the URL its first line prints"


class SeedError(Exception):
    """The emulator could not be reached or refused the seed; the message says what to do."""


@dataclass(frozen=True)
class Seeded:
    """One seeded resource: what it is, its name, id and ARN, and whether this run created it."""

    kind: Literal["instance", "user", "role"]
    name: str
    id: str
    arn: str
    created: bool

    def line(self) -> str:
        """``created  user      agent-1  id 5f0c...  arn:aws:connect:...`` (``exists`` when it did)."""
        label = self.name if self.name == self.id else f"{self.name}  id {self.id}"
        return f"{'created' if self.created else 'exists':<8} {self.kind:<9}{label}  {self.arn}"


def seed(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    instance_id: str = DEFAULT_INSTANCE_ID,
    users: Sequence[str] = DEFAULT_USERS,
    role_name: str = DEFAULT_ROLE_NAME,
) -> list[Seeded]:
    """Create the instance, its users and the federation role unless they exist; returns them in order.

    Raises ``ValueError`` for a bad argument (the message starts with its name) and ``SeedError``
    when the emulator cannot be reached or refuses.
    """
    validate(endpoint_url, region=region, instance_id=instance_id, users=users, role_name=role_name)
    instance = _instance(endpoint_url.rstrip("/"), region, instance_id)
    seeded = [instance, *_users(endpoint_url.rstrip("/"), region, instance_id, users)]
    account_id = instance.arn.split(":")[4]  # the account moto serves the seeder's requests from
    seeded.append(_role(_client("iam", endpoint_url, region), role_name, account_id))
    return seeded


def validate(
    endpoint_url: str, *, region: str, instance_id: str, users: Sequence[str], role_name: str
) -> None:
    """Check every argument of ``seed`` before anything is sent; ``ValueError`` names the first bad one."""
    _check_endpoint_url(endpoint_url)
    validate_region(region)
    check_instance_id(instance_id)
    if isinstance(users, str) or not users:
        raise ValueError(f"user must be given at least once, as a list of Connect usernames, got {users!r}")
    for username in users:
        if not isinstance(username, str) or not _CONNECT_USER.fullmatch(username):
            raise ValueError(
                "user must be 2 to 64 letters, digits or _.@- (a Connect username usable as an STS role "
                f"session name), got {username!r}"
            )
    duplicates = sorted({username for username in users if list(users).count(username) > 1})
    if duplicates:
        raise ValueError(f"user {duplicates[0]!r} is given more than once; give each Connect username once")
    if not isinstance(role_name, str) or not _ROLE_NAME.fullmatch(role_name):
        raise ValueError(
            f"role_name must be 1 to 64 letters, digits or _+=,.@- (an IAM role name), got {role_name!r}"
        )


def check_instance_id(instance_id: object) -> None:
    """Raise ``ValueError`` unless ``instance_id`` is an id the emulator can create."""
    if not isinstance(instance_id, str) or not INSTANCE_ID.fullmatch(instance_id):
        raise ValueError(
            "instance_id must be 1 to 100 letters, digits and hyphens, like "
            f"{DEFAULT_INSTANCE_ID!r} (an id, not an ARN), got {instance_id!r}"
        )


def federation_trust_policy(account_id: str) -> dict[str, Any]:
    """Trust of the federation role: the account's IAM users and roles may assume it (never the root,
    which AWS lets assume no role)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


FEDERATION_PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "connect:GetFederationToken", "Resource": "*"}],
}


def _check_endpoint_url(endpoint_url: object) -> None:
    problem = f"endpoint_url must be the emulator's URL like 'http://127.0.0.1:5000', got {endpoint_url!r}"
    if not isinstance(endpoint_url, str):
        raise ValueError(f"{problem}. {_START_IT}.")
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == -1
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in endpoint_url)
    ):
        raise ValueError(f"{problem}. {_START_IT}.")


def _instance(endpoint_url: str, region: str, instance_id: str) -> Seeded:
    answer = _post(
        endpoint_url, INSTANCE_ROUTE, {"InstanceId": instance_id, "Region": region}, "the instance"
    )
    return Seeded("instance", answer["Id"], answer["Id"], answer["Arn"], bool(answer["Created"]))


def _users(endpoint_url: str, region: str, instance_id: str, users: Sequence[str]) -> list[Seeded]:
    """The users, through the emulator's own users route: seeding is not AWS traffic, so no quota."""
    body = {"InstanceId": instance_id, "Region": region, "Users": list(users)}
    answer = _post(endpoint_url, USERS_ROUTE, body, "the users")
    return [
        Seeded("user", user["Username"], user["Id"], user["Arn"], bool(user["Created"]))
        for user in answer["Users"]
    ]


def _post(endpoint_url: str, route: str, payload: dict[str, Any], what: str) -> Any:
    """POST ``payload`` to an emulator-only route; its JSON answer, or ``SeedError`` saying what went wrong."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s)
        endpoint_url + route,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SeedError(_refusal(endpoint_url, error, what)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SeedError(f"cannot reach the emulator at {endpoint_url}: {reason}. {_START_IT}.") from None
    except ValueError:
        raise SeedError(f"{endpoint_url} did not answer as the Connect emulator. {_START_IT}.") from None


def _refusal(endpoint_url: str, error: urllib.error.HTTPError, what: str) -> str:
    try:
        message = json.loads(error.read())["Message"]
    except (ValueError, KeyError, TypeError):
        return f"{endpoint_url} did not answer as the Connect emulator (HTTP {error.code}). {_START_IT}."
    return f"the emulator at {endpoint_url} refused {what}: {message}"


def _client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DEFAULT_ROOT_ACCESS_KEY,
        aws_secret_access_key=ROOT_SECRET_ACCESS_KEY,
        config=Config(retries={"total_max_attempts": 2}, connect_timeout=10, read_timeout=30),
    )


def _role(iam: Any, role_name: str, account_id: str) -> Seeded:
    try:
        role = _aws(iam.get_role, RoleName=role_name)["Role"]
    except _Missing:
        pass
    else:
        return Seeded("role", role_name, role["RoleId"], role["Arn"], created=False)
    trust = json.dumps(federation_trust_policy(account_id))
    role = _aws(iam.create_role, RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]
    _aws(
        iam.put_role_policy,
        RoleName=role_name,
        PolicyName=role_name,
        PolicyDocument=json.dumps(FEDERATION_PERMISSIONS),
    )
    return Seeded("role", role_name, role["RoleId"], role["Arn"], created=True)


class _Missing(Exception):
    pass


def _aws(call: Any, **kwargs: Any) -> Any:
    """Call boto3; a missing resource becomes ``_Missing``, other errors ``SeedError``."""
    try:
        return call(**kwargs)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "NoSuchEntity":
            raise _Missing from None
        message = error.response.get("Error", {}).get("Message", "")
        raise SeedError(f"the emulator refused {call.__name__}: {code}: {message}") from None
    except BotoCoreError as error:
        raise SeedError(f"{call.__name__} failed: {error}. {_START_IT}.") from None
