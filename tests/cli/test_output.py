"""The json/text/table renderers produce the AWS CLI's output, character for character."""

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
SAMPLES = [
    RESPONSE,
    RESPONSE["Credentials"],
    {"Only": "one"},
    "https://cli-test.my.connect.aws/auth/sign-in",
    ["a", "b"],
    [["a", "bb"], ["ccc", "d"]],
    [{"a": 1, "b": "x"}, {"a": 2, "b": "yy", "c": {"d": 1, "e": "日本語"}}],
    {"k": [1, 2, 3], "j": {"x": "y"}, "z": True},
    [],
    {},
    None,
]


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


@pytest.mark.parametrize("output", ["json", "text", "table"])
@pytest.mark.parametrize("data", SAMPLES, ids=lambda data: repr(data)[:30])
def test_same_as_the_aws_cli(data, output):
    assert plain(data, output) == aws_cli(data, output)


def test_text_shape():
    assert plain(RESPONSE, "text") == (
        f"{RESPONSE['SignInUrl']}\t{RESPONSE['UserArn']}\t{RESPONSE['UserId']}\n"
        "CREDENTIALS\t****(redacted, use --show-tokens)\t2026-11-23T07:23:10.006000+00:00\t"
        "****(redacted, use --show-tokens)\t2026-11-23T19:23:10.006000+00:00\n"
    )


def test_json_keeps_key_order_and_non_ascii():
    assert plain({"b": "日本", "a": 1}, "json") == '{\n    "b": "日本",\n    "a": 1\n}\n'


def test_json_color_paints_keys_only():
    rendered = render({"Key": 'a: "b"'}, "json", title="", width=80, palette=Palette(True))
    assert rendered == '{\n    \x1b[1m\x1b[34m"Key"\x1b[0m: "a: \\"b\\""\n}\n'


def test_empty_results_print_what_the_aws_cli_prints():
    assert (plain({}, "json"), plain({}, "table"), plain(None, "json"), plain(None, "text")) == (
        "",
        "",
        "null\n",
        "None\n",
    )
