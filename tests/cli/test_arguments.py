"""Command-line usage: bad values exit 252 before any AWS call, with argparse's message on stderr."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import AGENT

ROLE_ARN = "arn:aws:iam::123456789012:role/ConnectFederation"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--output", "xml"],
            "argument --output: invalid choice: 'xml' (choose from 'json', 'text', 'table')",
        ),
        (["--color", "sometimes"], "argument --color: invalid choice: 'sometimes'"),
        (["--cli-read-timeout", "-1"], "argument --cli-read-timeout: must be a whole number of seconds >= 0"),
        (
            ["--cli-connect-timeout", "soon"],
            "argument --cli-connect-timeout: must be a whole number of seconds",
        ),
        (["--query", "[["], "argument --query: bad JMESPath expression '[['"),
        (
            ["--no-verify-ssl", "--ca-bundle", "ca.pem"],
            "argument --ca-bundle: not allowed with argument --no-verify-ssl",
        ),
        (["--generate-cli-skeleton", "both"], "argument --generate-cli-skeleton: invalid choice: 'both'"),
    ],
)
def test_argparse_errors(cli, options, message):
    result = cli("get-federation-token", "--instance-id", "i", *options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert result.stderr.startswith("usage: connect-fed get-federation-token ")
    assert f"connect-fed get-federation-token: error: {message}" in result.stderr


def test_unknown_option(cli):
    result = cli("get-federation-token", "--instance-id", "i", "--no-such-option")
    assert (result.exit_code, result.stdout) == (252, "")
    assert "connect-fed: error: unrecognized arguments: --no-such-option" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "the following arguments are required: --instance-id (or InstanceId in --cli-input-json)"),
        (["--cli-input-json", "{not json"], "--cli-input-json is not valid JSON (Expecting property name"),
        (["--cli-input-json", "[1]"], "--cli-input-json must be a JSON object like"),
        (["--cli-input-json", '{"InstanceId": 7}'], "InstanceId in --cli-input-json must be a string, got 7"),
        (
            ["--cli-input-json", '{"InstanceID": "x"}'],
            "Unknown parameter in --cli-input-json: 'InstanceID'; must be one of: InstanceId",
        ),
        (
            ["--cli-input-json", "file:///nonexistent/request.json"],
            "Cannot read --cli-input-json file '/nonexistent/request.json': No such file",
        ),
        (["--instance-id", "i", "--connect-user", AGENT], "--connect-user needs --role-arn"),
        (["--instance-id", "i", "--role-arn", ROLE_ARN], "--role-arn needs --connect-user"),
        (
            ["--instance-id", "i", "--connect-user", "x", "--role-arn", ROLE_ARN],
            "connect_user 'x' cannot be an STS role session name",
        ),
        (["--instance-id", "i d"], "instance_id 'i d' contains whitespace"),
        (["--instance-id", "x" * 101], "has 101 characters; Connect allows 1 to 100"),
        (
            ["--instance-id", "i", "--conn-id", "undefined"],
            "Airflow connection 'undefined' (--conn-id) was not found",
        ),
    ],
)
def test_command_errors(cli, options, message):
    result = cli("get-federation-token", *options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert result.stderr.startswith("connect-fed get-federation-token: error: ")
    assert message in result.stderr


def test_empty_skeleton_instance_id_is_rejected(cli):
    result = cli("get-federation-token", "--cli-input-json", json.dumps({"InstanceId": ""}))
    assert result.exit_code == 252
    assert "instance_id must be a non-empty string, got ''" in result.stderr


def test_skeleton_needs_no_instance_or_credentials(cli):
    result = cli("get-federation-token", "--generate-cli-skeleton", "--conn-id", "undefined")
    assert (result.exit_code, result.stdout, result.stderr) == (0, '{\n    "InstanceId": ""\n}\n', "")


def test_help_and_version(cli):
    help_text = cli("get-federation-token", "--help")
    assert help_text.exit_code == 0
    for option in ("--conn-id", "--profile", "--endpoint-url", "--show-tokens", "--generate-cli-skeleton"):
        assert option in help_text.stdout
    from airflow_connect_fed import __version__

    assert cli("--version").stdout == f"connect-fed {__version__}\n"


def test_a_command_is_required(cli):
    result = cli()
    assert result.exit_code == 252
    assert "the following arguments are required: COMMAND" in result.stderr
