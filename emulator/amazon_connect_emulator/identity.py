"""Who is calling: the SigV4 access key, resolved through moto's in-process IAM and STS state.

moto 5.2.5 keeps every access key it issued in ``iam_backends[account][partition].access_keys``
(IAM users' keys from CreateAccessKey, temporary ``ASIA...`` keys from STS), and every assumed-role
session in ``sts_backends[account][partition].assumed_roles`` (``AssumedRole.access_key_id``,
``.session_name``, ``.role_arn``). A key moto does not know belongs to the root of the default
account, which is also how moto picks the account for such a request.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import AssumedRole, sts_backends
from moto.utilities.utils import PARTITION_NAMES, get_partition

#: The access key of the default account's root, unless the emulator is given another.
DEFAULT_ROOT_ACCESS_KEY = "AKIAEMULATORROOT0000"
ROOT_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto checks no secrets; any value works
_REGION = re.compile(r"[a-z]{2}(-[a-z]+){1,2}-\d")


def validate_region(region: object) -> None:
    """Raise ValueError unless ``region`` looks like an AWS region name."""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ValueError(f"region must be an AWS region name like 'us-east-1', got {region!r}")


def root_arn(account_id: str, region: str) -> str:
    return f"arn:{get_partition(region)}:iam::{account_id}:root"


_CREDENTIAL = re.compile(
    r"Credential=(?P<access_key>[^/\s,]+)/\d{8}/(?P<region>[^/\s,]+)/(?P<service>[^/\s,]+)/aws4_request"
)


@dataclass(frozen=True)
class SigningScope:
    """The parts of a SigV4 ``Authorization`` header's credential scope that identify a request."""

    access_key: str
    region: str
    service: str


def signing_scope(authorization: str | None) -> SigningScope | None:
    """Parse ``Credential=AKID/DATE/REGION/SERVICE/aws4_request``; None for unsigned or SigV2 requests."""
    match = _CREDENTIAL.search(authorization or "")
    if match is None:
        return None
    return SigningScope(match["access_key"], match["region"], match["service"].lower())


@dataclass(frozen=True)
class CallerIdentity:
    """The IAM principal behind a request and the Connect username it federates as.

    ``username`` is the assumed-role session name or the IAM user name, None for root.
    ``role_arn`` is set for assumed-role sessions only.
    """

    account_id: str
    arn: str
    username: str | None = None
    role_arn: str | None = None

    @property
    def is_root(self) -> bool:
        return self.username is None

    @property
    def federation_principal(self) -> str:
        """What a Connect user stays bound to after the first federation: the role, else the user."""
        return self.role_arn or self.arn


def request_account(access_key: str, account_header: str | None) -> str:
    """The account moto serves a request from, by moto's own rules (``BaseResponse.get_current_account``).

    ``account_header`` is the request's ``x-moto-account-id`` header, if any.
    """
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    return account_header or get_account_id_from(access_key)


def resolve_caller(access_key: str, account_id: str, region: str, root_access_key: str) -> CallerIdentity:
    """Map an access key to an assumed-role session, an IAM user, or (otherwise) the account root."""
    if access_key != root_access_key:
        session = _assumed_role(access_key)
        if session is not None:
            return CallerIdentity(session.account_id, session.arn, session.session_name, session.role_arn)
        user = _iam_user(access_key)
        if user is not None:
            return user
    return CallerIdentity(account_id, root_arn(account_id, region))


def _assumed_role(access_key: str) -> AssumedRole | None:
    # Searched in every account: AssumeRole files a session under the role's account, while
    # AssumeRoleWithSAML files it under the caller's.
    for account in list(sts_backends.values()):
        for partition in PARTITION_NAMES:
            for session in list(account[partition].assumed_roles):
                if session.access_key_id == access_key:
                    return session
    return None


def _iam_user(access_key: str) -> CallerIdentity | None:
    account_id = get_account_id_from(access_key)
    for partition in PARTITION_NAMES:
        user = iam_backends[account_id][partition].get_user_from_access_key_id(access_key)
        if user is not None:
            return CallerIdentity(account_id, user.arn, user.name)
    return None
