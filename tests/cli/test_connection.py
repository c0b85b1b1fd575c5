"""Where the CLI finds --conn-id (the hook's sources, never the metadata DB), and how its options reach the hook."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.sdk import Connection
from airflow.secrets import BaseSecretsBackend

from airflow_connect_fed.cli.arguments import build_parser
from airflow_connect_fed.cli.connection import AwsOptions, CommandLineHook, find_connection
from airflow_connect_fed.cli.exit_codes import CommandFailed, UsageError
from tests.cli.conftest import Federation

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


def cli_connection(*options: str) -> CommandLineHook:
    args = build_parser().parse_args(["get-federation-token", "--instance-id", "i", *options])
    return CommandLineHook(AwsOptions.from_args(args))


access = cli_connection


def test_connection_values_apply_without_options():
    config = cli_connection("--conn-id", "configured").conn_config
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
    config = cli_connection("--conn-id", "configured", "--profile", "agent").conn_config
    assert config.profile_name == "agent"
    assert (config.aws_access_key_id, config.aws_secret_access_key, config.aws_session_token) == (
        None,
        None,
        None,
    )
    assert (config.region_name, config.endpoint_url) == ("eu-west-1", "http://connection.example")


def test_endpoint_url_replaces_connect_and_sts_endpoints():
    config = cli_connection("--conn-id", "configured", "--endpoint-url", "http://127.0.0.1:5000").conn_config
    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("connect") == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("sts") == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("sts", sts_connection_assume=True) == "http://127.0.0.1:5000"
    assert config.get_service_endpoint_url("s3") == "http://s3"


def test_region_and_ssl_options_win():
    assert (
        cli_connection("--conn-id", "configured", "--region", "ap-southeast-2").federation.region_name
        == "ap-southeast-2"
    )
    assert access("--conn-id", "configured", "--no-verify-ssl").verify is False
    assert access("--conn-id", "configured", "--ca-bundle", "/cli/ca.pem").verify == "/cli/ca.pem"


def test_timeouts_merge_into_the_connections_config():
    config = access("--conn-id", "configured", "--cli-connect-timeout", "7").config
    assert (config.connect_timeout, config.read_timeout) == (7, 30)
    assert config.retries == {"total_max_attempts": 1}


def test_zero_timeout_means_none():
    config = access("--cli-read-timeout", "0", "--cli-connect-timeout", "0").config
    assert (config.read_timeout, config.connect_timeout) == (None, None)


def test_default_retries_without_configured_ones():
    assert access("--cli-read-timeout", "5").config.retries == {"mode": "standard", "total_max_attempts": 5}


def test_a_non_aws_connection_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_DATABASE", json.dumps({"conn_type": "postgres", "login": "u"}))
    with pytest.raises(
        UsageError,
        match=r"connection 'database' \(from the environment variable AIRFLOW_CONN_DATABASE\) has type "
        "'postgres'; connect-fed needs an 'aws'",
    ):
        cli_connection("--conn-id", "database").conn_config  # noqa: B018


def test_options_from_args():
    args = argparse.Namespace(
        conn_id=None, profile=None, region=None, endpoint_url=None, no_verify_ssl=False, ca_bundle=None,
        cli_read_timeout=None, cli_connect_timeout=None,
    )  # fmt: skip
    assert AwsOptions.from_args(args) == AwsOptions()
    assert AwsOptions().timeouts() == {}
    assert AwsOptions().apply({"region_name": "eu-west-1"}) == {"region_name": "eu-west-1"}


# --- Where the connection comes from -------------------------------------------------------------


class Unreachable(BaseSecretsBackend):
    """A configured secrets backend that cannot be reached."""

    def get_connection(self, conn_id, team_name=None):  # type: ignore[override]
        raise ConnectionError("vault.example:8200 refused the connection")


class InMemory(BaseSecretsBackend):
    """A configured secrets backend holding connection ``vaulted``."""

    def get_connection(self, conn_id, team_name=None):  # type: ignore[override]
        if conn_id != "vaulted":
            return None
        return Connection(
            conn_id=conn_id, conn_type="aws", login="AKIAFROMVAULT0000000", password="vault-secret"
        )


@pytest.fixture
def sources(monkeypatch):
    """Configure the secrets backend a task reads, as a deployment does: ``[secrets] backend``."""

    def use(backend: type[BaseSecretsBackend]) -> None:
        monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", f"{__name__}.{backend.__name__}")

    return use


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "airflow_connect_fed.cli.connection" and r.levelno >= logging.WARNING
    ]


def test_debug_names_the_source(caplog):
    caplog.set_level(logging.DEBUG, logger="airflow_connect_fed")
    cli_connection("--conn-id", "configured").conn_config  # noqa: B018
    assert "Airflow connection 'configured' read from the environment variable AIRFLOW_CONN_CONFIGURED" in [
        r.getMessage() for r in caplog.records
    ]
    assert warnings_of(caplog) == []


def test_the_lookup_reads_the_hooks_sources_only():
    lookup = find_connection("nowhere")
    assert lookup.connection is None
    assert [str(answer) for answer in lookup.answers] == [
        "environment variable AIRFLOW_CONN_NOWHERE: not defined"
    ]


def test_the_configured_backend_is_read_before_the_environment(sources):
    sources(InMemory)
    lookup = find_connection("nowhere")
    assert [str(answer) for answer in lookup.answers] == [
        "secrets backend InMemory ([secrets] backend): not defined",
        "environment variable AIRFLOW_CONN_NOWHERE: not defined",
    ]


def test_workers_secrets_backend_is_the_one_read_when_set(sources, monkeypatch):
    sources(Unreachable)
    monkeypatch.setenv("AIRFLOW__WORKERS__SECRETS_BACKEND", f"{__name__}.InMemory")
    lookup = find_connection("vaulted")
    assert [str(answer) for answer in lookup.answers] == [
        "secrets backend InMemory ([workers] secrets_backend): found"
    ]
    assert lookup.connection.login == "AKIAFROMVAULT0000000"


def test_a_backend_that_cannot_be_imported_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "no.such.Backend")
    [backend, environment] = find_connection("configured").answers
    assert backend.source == "secrets backend Backend ([secrets] backend)"
    assert backend.outcome == "skipped"
    assert "[secrets] backend is 'no.such.Backend', which cannot be imported" in backend.reason
    # The hook's own lookup builds the same backend first, so it cannot read the environment either.
    assert environment.source == "environment variable AIRFLOW_CONN_CONFIGURED"
    assert environment.outcome == "skipped"
    assert "AirflowConfigException" in environment.reason


def test_missing_explicit_connection_names_the_sources_tried():
    with pytest.raises(UsageError) as raised:
        cli_connection("--conn-id", "nowhere").conn_config  # noqa: B018
    message = str(raised.value)
    assert message == (
        "Airflow connection 'nowhere' (--conn-id) was not found. Looked in: environment variable "
        "AIRFLOW_CONN_NOWHERE: not defined. The metadata database is not read: in Airflow 3 only Airflow's "
        "servers read connections there, so a connection added in the UI or with `airflow connections add` "
        'must also be defined as an environment variable (AIRFLOW_CONN_NOWHERE=\'{"conn_type": "aws", ...}\') '
        "or in the secrets backend of [workers] secrets_backend or [secrets] backend; or pass --conn-id "
        "naming an aws connection defined there."
    )


def test_explicit_aws_default_never_falls_back(caplog):
    with pytest.raises(UsageError, match=r"'aws_default' \(--conn-id\) was not found"):
        cli_connection("--conn-id", "aws_default").conn_config  # noqa: B018


def test_missing_aws_default_is_boto3s_default_chain_announced(caplog):
    config = cli_connection().conn_config
    assert (config.aws_access_key_id, config.profile_name, config.endpoint_url) == (None, None, None)
    [warning] = warnings_of(caplog)
    assert warning.startswith(
        "Airflow connection 'aws_default' is not defined (looked in: environment variable "
        "AIRFLOW_CONN_AWS_DEFAULT: not defined). Calling AWS"
    )
    assert "one kept only in the metadata database is not read) or pass --conn-id" in warning
    assert (
        "Calling AWS with boto3's default credential chain instead, as the amazon provider's hook does: "
        "credentials from environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, access key "
        "****************ER00. To choose the identity, define 'aws_default'"
    ) in warning
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in warning
    assert "AKIAUNITTESTCALLER00" not in warning


def test_missing_aws_default_names_the_profile_the_chain_uses(caplog, tmp_path, monkeypatch):
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text(
        "[dev]\naws_access_key_id = AKIADEVELOPERKEY1234\naws_secret_access_key = s\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials_file))
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    cli_connection().conn_config  # noqa: B018
    [warning] = warnings_of(caplog)
    assert (
        "credentials from the shared credentials file, profile 'dev', access key ****************1234"
        in warning
    )


def test_missing_aws_default_with_profile_is_explicit_and_quiet(caplog):
    config = cli_connection("--profile", "agent").conn_config
    assert (config.profile_name, config.aws_access_key_id) == ("agent", None)
    assert warnings_of(caplog) == []


def test_missing_aws_default_without_any_credentials_fails(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(
        CommandFailed,
        match=r"'aws_default' is not defined \(looked in: .*\), and boto3's default credential chain found "
        r"no credentials\. Define the connection, pass --conn-id or --profile",
    ):
        cli_connection().conn_config  # noqa: B018


def test_connection_from_the_configured_secrets_backend_comes_first(sources, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="airflow_connect_fed")
    monkeypatch.setenv(
        "AIRFLOW_CONN_VAULTED", json.dumps({"conn_type": "aws", "login": "AKIAFROMENVIRONMENT0"})
    )
    sources(InMemory)
    assert cli_connection("--conn-id", "vaulted").conn_config.aws_access_key_id == "AKIAFROMVAULT0000000"
    assert "Airflow connection 'vaulted' read from the secrets backend InMemory ([secrets] backend)" in [
        r.getMessage() for r in caplog.records
    ]


def test_unreadable_source_is_named_with_the_reason(sources):
    sources(Unreachable)
    with pytest.raises(UsageError) as raised:
        cli_connection("--conn-id", "nowhere").conn_config  # noqa: B018
    assert (
        "Looked in: secrets backend Unreachable ([secrets] backend): skipped, could not be read "
        "(ConnectionError: vault.example:8200 refused the connection); environment variable "
        "AIRFLOW_CONN_NOWHERE: not defined. It may be defined in a source that could not be read: make that "
        "source readable, or define it as an environment variable"
    ) in str(raised.value)


def test_default_connection_is_not_replaced_when_a_source_was_skipped(sources):
    sources(Unreachable)
    with pytest.raises(UsageError) as raised:
        cli_connection().conn_config  # noqa: B018
    message = str(raised.value)
    assert message.startswith(
        "Airflow connection 'aws_default' (the default --conn-id) was not found, but a source could not be "
        "read. Looked in: secrets backend Unreachable ([secrets] backend): skipped, could not be read"
    )
    assert "so connect-fed does not call AWS as another identity" in message


def test_connection_found_after_a_skipped_source_is_announced(sources, caplog):
    sources(Unreachable)
    assert cli_connection("--conn-id", "configured").conn_config.aws_access_key_id == "AKIACONNECTIONKEY000"
    assert warnings_of(caplog) == [
        "Airflow connection 'configured' read from the environment variable AIRFLOW_CONN_CONFIGURED, after "
        "skipping a source Airflow reads first: secrets backend Unreachable ([secrets] backend): skipped, "
        "could not be read (ConnectionError: vault.example:8200 refused the connection). Make that source "
        "readable if it defines 'configured' differently."
    ]


class Denying(BaseSecretsBackend):
    """A configured secrets backend that refuses this identity (Airflow's authoritative denial)."""

    def get_connection(self, conn_id, team_name=None):  # type: ignore[override]
        from airflow.sdk import exceptions as sdk_exceptions

        raise sdk_exceptions.AirflowSecretsBackendAccessDenied("team 'blue' may not read it")


def test_a_backend_that_denies_access_ends_the_lookup(sources):
    from airflow.sdk import exceptions as sdk_exceptions

    denied = getattr(sdk_exceptions, "AirflowSecretsBackendAccessDenied", None)
    if denied is None:
        pytest.skip("this Airflow has no AirflowSecretsBackendAccessDenied")

    sources(Denying)
    with pytest.raises(
        UsageError,
        match=r"'configured': the secrets backend Denying \(\[secrets\] backend\) denied access "
        r"\(AirflowSecretsBackendAccessDenied: team 'blue' may not read it\)",
    ):
        cli_connection("--conn-id", "configured").conn_config  # noqa: B018


# --- The metadata database is never read: console script against the emulator --------------------

BIN = Path(sys.executable).parent


def run(program: str, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / program), *argv], capture_output=True, text=True, timeout=180, env=env, check=False
    )


def airflow_env(home: Path, database: str) -> dict[str, str]:
    """This process's environment without its connections, with its own Airflow home and metadata DB."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW_CONN_")}
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=database)
    return env


@pytest.fixture(scope="module")
def metadata_db(federation: Federation, tmp_path_factory) -> dict[str, str]:
    """An initialised metadata DB holding ``stored`` and ``aws_default`` (the agent, on the emulator) only."""
    if not (BIN / "connect-fed").exists():
        pytest.skip(f"connect-fed is not installed in {BIN}")
    home = tmp_path_factory.mktemp("airflow-home")
    env = airflow_env(home, f"sqlite:///{home}/airflow.db")
    migrated = run("airflow", "db", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    agent = json.loads(federation.emulator.airflow_connection("stored", **federation.agent))
    connections = home / "connections.json"
    connections.write_text(json.dumps({"stored": agent, "aws_default": agent}))
    imported = run("airflow", "connections", "import", str(connections), env=env)
    assert imported.returncode == 0, imported.stderr
    connections.unlink()
    return env


@pytest.mark.integration
def test_a_connection_only_in_the_metadata_db_is_not_read_and_the_error_says_where_to_define_it(
    federation, metadata_db
):
    result = run(
        "connect-fed", "get-federation-token", "--instance-id", federation.instance_id,
        "--conn-id", "stored", env=metadata_db,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (252, "")
    assert (
        "connect-fed get-federation-token: error: Airflow connection 'stored' (--conn-id) was not found. "
        "Looked in: environment variable AIRFLOW_CONN_STORED: not defined. The metadata database is not read"
    ) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_the_same_connection_in_the_environment_is_used_with_an_unreachable_metadata_db(federation, tmp_path):
    env = airflow_env(tmp_path, f"sqlite:///{tmp_path}/no-such-directory/airflow.db")
    env["AIRFLOW_CONN_STORED"] = federation.emulator.airflow_connection("stored", **federation.agent)
    result = run(
        "connect-fed", "get-federation-token", "--instance-id", federation.instance_id,
        "--conn-id", "stored", "--debug", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["UserId"] == federation.user_id
    assert (
        "Airflow connection 'stored' read from the environment variable AIRFLOW_CONN_STORED\n"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_aws_default_only_in_the_metadata_db_is_not_read_and_the_fallback_says_so(federation, metadata_db):
    result = run(
        "connect-fed", "get-federation-token", "--instance-id", federation.instance_id,
        "--endpoint-url", federation.endpoint_url, env=metadata_db,
    )  # fmt: skip
    # conftest's fake environment keys are unknown to the emulator: they are the account root
    assert (result.returncode, result.stdout) == (254, "")
    assert (
        "Airflow connection 'aws_default' is not defined (looked in: environment variable "
        "AIRFLOW_CONN_AWS_DEFAULT: not defined). Calling AWS with boto3's default credential chain instead"
    ) in result.stderr
    assert "one kept only in the metadata database is not read" in result.stderr
    assert "(InvalidRequestException) Amazon Connect refuses to federate the account root" in result.stderr


def test_every_secret_value_inside_the_extra_is_registered_with_the_masker(monkeypatch):
    from airflow_connect_fed import masking

    registered: list[object] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", registered.append, raising=False)
    monkeypatch.setattr(masking, "_registered", set())
    cli_connection("--conn-id", "configured").conn_config  # noqa: B018
    # The hook's own lookup registers the password and the extra's JSON; the CLI each value inside it.
    assert ["connection-secret", "connection-session", "/connection/ca.pem"] in registered
    line = "password connection-secret, token connection-session in eu-west-1 at http://connection.example"
    assert masking.redact(line) == "password ***, token *** in eu-west-1 at http://connection.example"
