"""Which operation a signed request calls: X-Amz-Target, the query protocol's Action, Connect's routes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from amazon_connect_emulator.operations import operation_of


def environ(method: str, path: str, **options: Any) -> dict[str, Any]:
    return EnvironBuilder(method=method, path=path, **options).get_environ()


@pytest.mark.parametrize(
    ("service", "method", "path", "options", "operation"),
    [
        ("secretsmanager", "POST", "/", {"headers": {"X-Amz-Target": "secretsmanager.ListSecrets"}}, "ListSecrets"),
        ("ssm", "POST", "/", {"headers": {"X-Amz-Target": "AmazonSSM.GetParametersByPath"}}, "GetParametersByPath"),
        ("sts", "GET", "/", {"query_string": "Action=GetCallerIdentity&Version=2011-06-15"}, "GetCallerIdentity"),
        ("iam", "POST", "/", {"data": {"Action": "ListRoles", "Version": "2010-05-08"}}, "ListRoles"),
        ("sts", "POST", "/", {"data": b"{}", "content_type": "application/json"}, "Unknown"),
        ("connect", "PUT", "/instance", {}, "CreateInstance"),
        ("connect", "GET", "/instance/abc", {}, "DescribeInstance"),
        ("connect", "POST", "/search-users", {}, "SearchUsers"),
        ("connect", "DELETE", "/users/abc/def", {}, "DeleteUser"),
        ("connect", "GET", "/no/such/route", {}, "Unknown"),
        ("s3", "GET", "/bucket", {}, "Unknown"),
    ],
)  # fmt: skip
def test_operation_names(
    service: str, method: str, path: str, options: dict[str, Any], operation: str
) -> None:
    assert operation_of(environ(method, path, **options), service) == operation


def test_a_body_read_for_the_action_is_put_back() -> None:
    body = b"Action=AssumeRole&RoleSessionName=agent.one%40example.com"
    request = environ("POST", "/", data=body, content_type="application/x-www-form-urlencoded")
    assert operation_of(request, "sts") == "AssumeRole"
    assert isinstance(request["wsgi.input"], io.BytesIO)
    assert request["wsgi.input"].read() == body
