"""The AWS CLI's own formatter, the reference ``connect-fed``'s output is compared with, and a sample response."""

from __future__ import annotations

import argparse
import io

import pytest

from airflow_connect_fed.cli.color import Palette
from airflow_connect_fed.cli.output import render

RESPONSE = {
    "UserId": "5bebe6f4-4e64-4c70-ac8b-9bc14bbb70ba",
    "UserArn": "arn:aws:connect:us-east-1:123456789012:instance/21fb7e22/agent/5bebe6f4-4e64-4c70-ac8b-9bc14bbb70ba",
    "Credentials": {
        "AccessToken": "****(redacted, use --show-tokens)",
        "AccessTokenExpiration": "2026-11-23T07:23:10.006000+00:00",
        "RefreshToken": "****(redacted, use --show-tokens)",
        "RefreshTokenExpiration": "2026-11-23T19:23:10.006000+00:00",
    },
    "SignInUrl": "https://cli-test.my.connect.aws/auth/sign-in",
}


def plain(data, output, width=80):
    return render(data, output, title="GetFederationToken", width=width, palette=Palette(False))


def aws_cli(data, output, width=80):
    """The AWS CLI's own formatter (awscli is a test dependency, not a runtime one)."""
    formatter_module = pytest.importorskip("awscli.formatter")
    formatter_module.Formatter._remove_request_id = lambda self, response: (
        None
    )  # a query result has no metadata
    args = argparse.Namespace(query=None, color="off")
    formatter = formatter_module.get_formatter(output, args)
    if output == "table":
        formatter.table._terminal_width = width
    stream = io.StringIO()
    formatter("GetFederationToken", data, stream)
    return stream.getvalue()
