"""Connect usernames as STS role session names: the rule that maps an IAM session to an agent."""

from __future__ import annotations

import re

from airflow_connect_fed.exceptions import InvalidConnectUserError

# STS RoleSessionName: 2-64 characters of [\w+=,.@-].
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)


def validate_connect_user(connect_user: object, role_arn: object) -> str:
    """Check that ``connect_user`` can be the session name of ``role_arn``; return it."""
    if not isinstance(connect_user, str) or not _SESSION_NAME.match(connect_user):
        raise InvalidConnectUserError(
            f"connect_user {connect_user!r} cannot be an STS role session name: it must be 2 to 64 "
            "characters of letters, digits and + = , . @ _ -. The session name must equal the Connect "
            "username exactly (case-sensitive)."
        )
    validate_role_arn(role_arn, f"connect_user {connect_user!r}")
    return connect_user


def validate_role_arn(role_arn: object, needed_by: str) -> str:
    """Check that ``role_arn`` looks like an IAM role ARN; ``needed_by`` names what needs it."""
    if not isinstance(role_arn, str) or not role_arn.startswith("arn:") or ":role/" not in role_arn:
        raise InvalidConnectUserError(
            f"{needed_by} needs role_arn, the IAM role whose sessions map to Connect "
            f"users (arn:aws:iam::ACCOUNT:role/NAME); got role_arn={role_arn!r}."
        )
    return role_arn


def unique_connect_users(connect_users: object) -> list[str]:
    """The usernames of a bulk request, in order, each once; a lone string is refused."""
    if isinstance(connect_users, (str, bytes)) or not isinstance(
        connect_users, (list, tuple, set, frozenset)
    ):
        raise InvalidConnectUserError(
            f"connect_users must be a list of Connect usernames, got {type(connect_users).__name__} "
            f"{connect_users!r}."
        )
    return list(dict.fromkeys(connect_users))
