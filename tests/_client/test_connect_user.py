"""Connect usernames as STS role session names, role ARNs and user lists, checked before any call."""

from __future__ import annotations

import pytest

from airflow_connect_fed._client.connect_user import (
    connect_user_list,
    validate_connect_user,
    validate_role_arn,
)
from airflow_connect_fed.exceptions import InvalidConnectUserError

ROLE = "arn:aws:iam::123456789012:role/ConnectFederation"


@pytest.mark.parametrize(
    "role",
    [ROLE, "arn:aws-cn:iam::123456789012:role/path/to/R", "arn:aws:iam::123456789012:role/a+b=c,d.e@f-g_h"],
)
def test_role_arns(role):
    assert validate_role_arn(role, "x") == role


@pytest.mark.parametrize(
    "role",
    [
        None,
        "",
        "arn:aws:iam::12345678901:role/R",  # 11 digits
        "arn:aws:sts::123456789012:role/R",
        "arn:aws:iam::123456789012:user/R",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/" + "r" * 65,
        "arn:aws:iam::123456789012:role/has space",
    ],
)
def test_bad_role_arns_name_the_value(role):
    with pytest.raises(InvalidConnectUserError, match=f"got role_arn={role!r}"):
        validate_role_arn(role, "connect_user 'agent-1'")


@pytest.mark.parametrize("user", ["ab", "agent.1@example.com", "a" * 64, "x+y=z,w"])
def test_session_names(user):
    assert validate_connect_user(user, ROLE) == user


@pytest.mark.parametrize("user", ["a", "a" * 65, "agent 1", "agent/1", "", None, 7, "ägent"])
def test_bad_session_names(user):
    with pytest.raises(
        InvalidConnectUserError, match=f"connect_user {user!r} cannot be an STS role session name"
    ):
        validate_connect_user(user, ROLE)


def test_user_lists():
    assert connect_user_list(["a1", "a2"], ROLE) == ["a1", "a2"]
    assert connect_user_list(("a1",), ROLE) == ["a1"]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ("a1", "must be a list of Connect usernames, got str 'a1'"),
        ({"a1"}, "must be a list of Connect usernames, got set"),
        ([], "connect_users is empty"),
        (["a1", "a2", "a1", "a2"], "names 'a1', 'a2' more than once"),
        (["a1", None], "connect_user None cannot be an STS role session name"),
    ],
)
def test_bad_user_lists(users, message):
    with pytest.raises(InvalidConnectUserError, match=message):
        connect_user_list(users, ROLE)
