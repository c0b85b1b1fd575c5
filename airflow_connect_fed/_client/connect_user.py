"""Connect usernames as STS role session names: the rule that maps an IAM session to an agent."""

from __future__ import annotations

import re
from collections import Counter

from airflow_connect_fed.exceptions import InvalidConnectUserError

# STS RoleSessionName: 2-64 characters of [\w+=,.@-].
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
# IAM role ARN: a 12-digit account, an optional path of printable ASCII segments, a 1-64 character name.
_ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x2e\x30-\x7e]+/)*[\w+=,.@-]{1,64}", re.ASCII
)


def validate_caller(connect_user: str | None, role_arn: str | None) -> None:
    """``connect_user`` and ``role_arn`` come together (a role session) or not at all (the connection's identity)."""
    if connect_user is None and role_arn is not None:
        raise InvalidConnectUserError(
            f"role_arn {role_arn!r} was given without connect_user. Pass connect_user, the Connect "
            "username to use as the role session name, or drop role_arn to call as the connection's identity."
        )
    if connect_user is not None:
        validate_connect_user(connect_user, role_arn)


def validate_connect_user(connect_user: object, role_arn: object) -> str:
    """Check that ``connect_user`` can be the session name of ``role_arn``; return it."""
    name = validate_session_name(connect_user)
    validate_role_arn(role_arn, f"connect_user {connect_user!r}")
    return name


def validate_session_name(connect_user: object) -> str:
    """Check that ``connect_user`` is a Connect username STS accepts as a role session name; return it."""
    if not isinstance(connect_user, str) or not _SESSION_NAME.fullmatch(connect_user):
        raise InvalidConnectUserError(
            f"connect_user {connect_user!r} cannot be an STS role session name: it must be 2 to 64 "
            "characters of letters, digits and + = , . @ _ -. The session name must equal the Connect "
            "username exactly (case-sensitive)."
        )
    return connect_user


def validate_role_arn(role_arn: object, needed_by: str) -> str:
    """Check that ``role_arn`` is an IAM role ARN; ``needed_by`` names what needs it."""
    if not isinstance(role_arn, str) or not _ROLE_ARN.fullmatch(role_arn):
        raise InvalidConnectUserError(
            f"{needed_by} needs role_arn, the IAM role whose sessions map to Connect users, as "
            f"arn:aws:iam::ACCOUNT:role/NAME (a 12-digit account, the iam service, a role name of 1 to 64 "
            f"characters, an optional path); got role_arn={role_arn!r}."
        )
    return role_arn


def connect_user_list(connect_users: object, role_arn: object) -> list[str]:
    """The usernames of a bulk request, each checked as a session name of ``role_arn``.

    A lone string, an empty list, a non-string element and a name given twice are refused.
    """
    if isinstance(connect_users, (str, bytes)) or not isinstance(connect_users, (list, tuple)):
        raise InvalidConnectUserError(
            f"connect_users must be a list of Connect usernames, got {type(connect_users).__name__} "
            f"{connect_users!r}."
        )
    if not connect_users:
        raise InvalidConnectUserError(
            "connect_users is empty: there is no Connect user to get a token for. Pass at least one "
            "username, or skip the task when the list is empty."
        )
    validate_role_arn(role_arn, "connect_users")
    users = [validate_connect_user(user, role_arn) for user in connect_users]
    repeated = sorted(user for user, count in Counter(users).items() if count > 1)
    if repeated:
        raise InvalidConnectUserError(
            f"connect_users names {', '.join(map(repr, repeated))} more than once; each Connect user "
            "gets one token. Remove the duplicates."
        )
    return users
