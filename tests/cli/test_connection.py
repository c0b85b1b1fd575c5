"""How --conn-id, --profile, --endpoint-url, --region, SSL and timeout options reach the hook."""

from __future__ import annotations

import argparse
import json

import pytest

from airflow_connect_fed.cli.arguments import build_parser
from airflow_connect_fed.cli.connection import AwsOptions, CommandLineHook
from airflow_connect_fed.cli.exit_codes import UsageError

CONNECTION = {
    "conn_type": "aws",
    "login": "AKIACONNECTIONKEY000",
    "password": "connection-secret",
    "extra": {
        "region_name": "eu-west-1",
        "endpoint_url": "http://connection.example",
        "aws_session_token": "connection-session",
        "service_config": {
            "sts": {"endpoint_url": "http://sts.example"},
            "s3": {"endpoint_url": "http://s3"},
        },
        "config_kwargs": {"retries": {"total_max_attempts": 1}, "read_timeout": 30},
        "verify": "/connection/ca.pem",
    },
}


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONFIGURED", json.dumps(CONNECTION))


def hook(*options: str) -> CommandLineHook:
    args = build_parser().parse_args(["get-federation-token", "--instance-id", "i", *options])
    return CommandLineHook(AwsOptions.from_args(args))


def test_connection_values_apply_without_options():
    config = hook("--conn-id", "configured").conn_config
    assert (config.conn_id, config.aws_access_key_id, config.aws_session_token) == (
        "configured",
        "AKIACONNECTIONKEY000",
        "connection-session",
    )
    assert (config.region_name, config.endpoint_url, config.verify) == (
        "eu-west-1",
        "http://connection.example",
        "/connection/ca.pem",
    )
    assert config.get_service_endpoint_url("sts") == "http://sts.example"


def test_profile_replaces_the_credentials_only():
    config = hook("--conn-id", "configured", "--profile", "agent").conn_config
    assert config.profile_name == "agent"
    assert (config.aws_access_key_id, config.aws_secret_access_key, config.aws_session_token) == (
        None,
        None,
        None,
    )
    assert (config.region_name, config.endpoint_url) == ("eu-west-1", "http://connection.example")


def test_endpoint_url_replaces_connect_and_sts_endpoints():
    config = hook("--conn-id", "configured", "--endpoint-url", "http://127.0.0.1:5000").conn_config
    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("connect") == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("sts") == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("sts", sts_connection_assume=True) == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("s3") == "http://s3"


def test_region_and_ssl_options_win():
    assert hook("--conn-id", "configured", "--region", "ap-southeast-2").region_name == "ap-southeast-2"
    assert hook("--conn-id", "configured", "--no-verify-ssl").verify is False
    assert hook("--conn-id", "configured", "--ca-bundle", "/cli/ca.pem").verify == "/cli/ca.pem"


def test_timeouts_merge_into_the_connections_config():
    config = hook("--conn-id", "configured", "--cli-connect-timeout", "7").config
    assert (config.connect_timeout, config.read_timeout) == (7, 30)
    assert config.retries == {"total_max_attempts": 1}


def test_zero_timeout_means_none():
    config = hook("--cli-read-timeout", "0", "--cli-connect-timeout", "0").config
    assert (config.read_timeout, config.connect_timeout) == (None, None)


def test_default_retries_without_configured_ones():
    assert hook("--cli-read-timeout", "5").config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_missing_aws_default_is_boto3s_default_chain():
    config = hook().conn_config
    assert (config.aws_access_key_id, config.profile_name, config.endpoint_url) == (None, None, None)


def test_missing_explicit_connection_is_a_usage_error():
    with pytest.raises(
        UsageError, match=r"Airflow connection 'nowhere' is not defined.*AIRFLOW_CONN_NOWHERE"
    ):
        hook("--conn-id", "nowhere").conn_config  # noqa: B018


def test_a_non_aws_connection_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_DATABASE", json.dumps({"conn_type": "postgres", "login": "u"}))
    with pytest.raises(
        UsageError, match="connection 'database' has type 'postgres'; connect-fed needs an 'aws'"
    ):
        hook("--conn-id", "database").conn_config  # noqa: B018


def test_options_from_args():
    args = argparse.Namespace(
        conn_id=None, profile=None, region=None, endpoint_url=None, no_verify_ssl=False, ca_bundle=None,
        cli_read_timeout=None, cli_connect_timeout=None,
    )  # fmt: skip
    assert AwsOptions.from_args(args) == AwsOptions()
    assert AwsOptions().botocore_config() is None
