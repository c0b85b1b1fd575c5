"""The json/text/table renderers produce the AWS CLI's output, character for character."""

from __future__ import annotations

import pytest

from airflow_connect_fed.cli.color import Palette
from airflow_connect_fed.cli.output import render
from tests.cli.aws_cli_reference import RESPONSE, aws_cli, plain

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
