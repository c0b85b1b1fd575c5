"""``connect-fed get-federation-token`` against the local emulator over real HTTP."""

from __future__ import annotations

import json
import re
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest

from airflow_connect_fed.cli.response import REDACTED
from tests.cli.conftest import AGENT, Cli, Federation

pytestmark = pytest.mark.integration

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")


def fetch(cli: Cli, federation: Federation, *options: str) -> tuple[int, str, str]:
    result = cli("get-federation-token", "--instance-id", federation.instance_id, *options)
    return result.exit_code, result.stdout, result.stderr


def expires_in_about(value: str, minutes: int) -> bool:
    """``value`` is about ``minutes`` from now: the emulator's default profile gives 60 (access) and 720 (refresh)."""
    expires = datetime.fromisoformat(value)
    return abs(expires - (datetime.now(UTC) + timedelta(minutes=minutes))) < timedelta(minutes=1)


class TestOutput:
    def test_json_is_the_api_shape_with_tokens_redacted(self, cli, federation, agent_conn):
        code, out, err = fetch(cli, federation, "--conn-id", agent_conn)
        assert (code, err) == (0, "")
        response = json.loads(out)
        assert list(response) == ["UserId", "UserArn", "Credentials", "SignInUrl"]
        assert response["UserId"] == federation.user_id
        assert response["UserArn"] == f"{federation.instance_arn}/agent/{federation.user_id}"
        assert response["SignInUrl"] == federation.sign_in_url
        credentials = response["Credentials"]
        assert credentials["AccessToken"] == credentials["RefreshToken"] == REDACTED
        for name, minutes in (("AccessTokenExpiration", 60), ("RefreshTokenExpiration", 720)):
            assert ISO_UTC.match(credentials[name])
            assert expires_in_about(credentials[name], minutes)
        assert out.startswith('{\n    "UserId": ')  # indented by four, as the AWS CLI

    def test_text(self, cli, federation, agent_conn):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--output", "text")
        assert code == 0
        top, credentials = (line.split("\t") for line in out.splitlines())
        assert top == [
            federation.sign_in_url,
            f"{federation.instance_arn}/agent/{federation.user_id}",
            federation.user_id,
        ]
        label, access_token, access_expiry, refresh_token, refresh_expiry = credentials
        assert (label, access_token, refresh_token) == ("CREDENTIALS", REDACTED, REDACTED)
        assert expires_in_about(access_expiry, 60)
        assert expires_in_about(refresh_expiry, 720)

    def test_table(self, cli, federation, agent_conn):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--output", "table")
        assert code == 0
        lines = out.splitlines()
        width = len(lines[0])
        assert lines[0] == "-" * width
        assert all(len(line) == width for line in lines)
        assert lines[1].strip("| ") == "GetFederationToken"
        rows = {
            cells[0]: cells[1]
            for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)
            if len(cells) == 2
        }
        assert rows["SignInUrl"] == federation.sign_in_url
        assert rows["UserId"] == federation.user_id
        assert rows["AccessToken"] == rows["RefreshToken"] == REDACTED
        assert expires_in_about(rows["AccessTokenExpiration"], 60)
        assert expires_in_about(rows["RefreshTokenExpiration"], 720)
        credentials_title = next(line for line in lines if "Credentials" in line)
        assert credentials_title.startswith("||")
        assert credentials_title.endswith("||")

    @pytest.mark.parametrize("output", ["json", "text", "table"])
    def test_show_tokens_prints_them_and_says_so(self, cli, federation, agent_conn, output):
        code, out, err = fetch(cli, federation, "--conn-id", agent_conn, "--show-tokens", "--output", output)
        assert code == 0
        assert REDACTED not in out
        assert "--show-tokens: the output holds the access and refresh tokens in clear text" in err
        tokens = re.findall(r"(?<![\w-])[\w-]{64}(?![\w-])", out)  # the emulator's tokens: 64 URL-safe chars
        assert len(tokens) == 2
        assert all(token not in err for token in tokens)

    def test_query_sees_redacted_tokens(self, cli, federation, agent_conn):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--query", "Credentials.AccessToken")
        assert (code, json.loads(out)) == (0, REDACTED)

    def test_query_projection_as_table(self, cli, federation, agent_conn):
        code, out, _ = fetch(
            cli, federation, "--conn-id", agent_conn, "--query", "[SignInUrl, UserId]", "--output", "table"
        )
        assert code == 0
        width = len(federation.sign_in_url)
        assert out.splitlines()[3:5] == [
            f"|  {federation.sign_in_url}  |",
            f"|  {federation.user_id.ljust(width)}  |",
        ]

    def test_query_without_match_prints_null(self, cli, federation, agent_conn):
        assert fetch(cli, federation, "--conn-id", agent_conn, "--query", "NoSuchKey")[:2] == (0, "null\n")

    def test_color_on_highlights_json_keys(self, cli, federation, agent_conn):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--color", "on")
        assert code == 0
        assert '\x1b[1m\x1b[34m"UserId"\x1b[0m: ' in out
        assert json.loads(re.sub(r"\x1b\[\d+m", "", out))["UserId"] == federation.user_id

    def test_color_on_table_paints_cells_and_nested_borders(self, cli, federation, agent_conn):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--color", "on", "--output", "table")
        assert code == 0
        assert f"\x1b[1m\x1b[34m{federation.user_id}\x1b[0m" in out
        assert "\x1b[2m\x1b[33m|\x1b[0m|" in out

    @pytest.mark.parametrize(("color", "output"), [("off", "table"), ("auto", "json"), ("auto", "table")])
    def test_color_off_and_auto_off_a_terminal(self, cli, federation, agent_conn, color, output):
        # auto: stdout is captured here, not a terminal
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, "--color", color, "--output", output)
        assert code == 0
        assert "\x1b[" not in out


class TestCredentialsAndEndpoint:
    def test_default_connection_is_aws_default(self, cli, federation, monkeypatch):
        monkeypatch.setenv(*federation.connection("aws_default", federation.agent).popitem())
        code, out, _ = fetch(cli, federation)
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_missing_aws_default_falls_back_to_boto3_credentials_announced(self, cli, federation):
        # conftest's fake environment keys are unknown to the emulator: they are the account root
        code, _, err = fetch(cli, federation, "--endpoint-url", federation.endpoint_url)
        assert code == 254
        notice, error = err.splitlines()
        assert notice.startswith(
            "airflow_connect_fed.cli.connection: WARNING: Airflow connection 'aws_default' is not defined "
            "(looked in: environment variable AIRFLOW_CONN_AWS_DEFAULT: not defined). Calling AWS"
        )
        assert (
            "Calling AWS with boto3's default credential chain instead, as the amazon provider's hook does: "
            "credentials from environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, access key "
            "****************ER00."
        ) in notice
        assert "(InvalidRequestException) Amazon Connect refuses to federate the account root" in error

    def test_missing_explicit_connection_is_a_usage_error_before_any_call(self, cli, federation):
        federation.emulator.counters.reset()
        code, out, err = fetch(
            cli, federation, "--conn-id", "nowhere", "--endpoint-url", federation.endpoint_url
        )
        assert (code, out) == (252, "")
        assert err.startswith(
            "connect-fed get-federation-token: error: Airflow connection 'nowhere' (--conn-id) was not found. "
            "Looked in: environment variable AIRFLOW_CONN_NOWHERE: not defined. The metadata database is not read"
        )
        assert federation.emulator.counters.totals().received == 0

    def test_connect_user_assumes_the_role_as_that_session(self, cli, federation, agent_conn):
        code, out, _ = fetch(
            cli, federation, "--conn-id", "worker", "--connect-user", AGENT, "--role-arn", federation.role_arn
        )
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_profile_credentials_replace_the_connections(
        self, cli, federation, agent_conn, tmp_path, monkeypatch
    ):
        credentials_file = tmp_path / "credentials"
        credentials_file.write_text(
            "[agent]\n" + "".join(f"{name} = {value}\n" for name, value in federation.agent.items())
        )
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials_file))
        code, out, _ = fetch(cli, federation, "--conn-id", "root", "--profile", "agent")
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_unknown_profile_is_a_usage_error(self, cli, federation, agent_conn):
        code, out, err = fetch(cli, federation, "--conn-id", agent_conn, "--profile", "nope")
        assert (code, out) == (252, "")
        assert "(ProfileNotFound) The config profile (nope) could not be found" in err

    def test_endpoint_url_overrides_the_connections(self, cli, federation, monkeypatch):
        closed = "http://127.0.0.1:9"
        monkeypatch.setenv(
            *federation.connection("elsewhere", federation.agent, endpoint_url=closed).popitem()
        )
        code, out, _ = fetch(
            cli, federation, "--conn-id", "elsewhere", "--endpoint-url", federation.endpoint_url
        )
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_endpoint_url_without_one_in_the_connection(self, cli, federation, monkeypatch):
        monkeypatch.setenv(*federation.connection("plain", federation.agent, endpoint_url=None).popitem())
        code, out, _ = fetch(cli, federation, "--conn-id", "plain", "--endpoint-url", federation.endpoint_url)
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_region_is_where_the_instance_is_looked_up(self, cli, federation, agent_conn):
        code, _, err = fetch(cli, federation, "--conn-id", agent_conn, "--region", "eu-west-2")
        assert code == 254
        assert "(ResourceNotFoundException)" in err
        assert "region eu-west-2" in err

    def test_instance_arn_gives_the_region(self, cli, federation, agent_conn):
        result = cli(
            "get-federation-token", "--instance-id", federation.instance_arn, "--conn-id", agent_conn
        )
        assert (result.exit_code, result.json()["UserId"]) == (0, federation.user_id)

    @pytest.mark.parametrize("option", [["--no-verify-ssl"], ["--ca-bundle", "/nonexistent/ca.pem"]])
    def test_ssl_options_are_accepted_over_http(self, cli, federation, agent_conn, option):
        code, out, _ = fetch(cli, federation, "--conn-id", agent_conn, *option)
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_timeouts_of_zero_mean_none(self, cli, federation, agent_conn):
        code, out, _ = fetch(
            cli, federation, "--conn-id", agent_conn, "--cli-read-timeout", "0", "--cli-connect-timeout", "0"
        )
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)

    def test_read_timeout_ends_a_silent_call(self, cli, federation, monkeypatch):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            accepted: list[socket.socket] = []
            threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
            url = f"http://127.0.0.1:{server.getsockname()[1]}"
            no_retries = {"retries": {"total_max_attempts": 1}}
            monkeypatch.setenv(
                *federation.connection("silent", federation.agent, config_kwargs=no_retries).popitem()
            )
            code, out, err = fetch(
                cli, federation, "--conn-id", "silent", "--endpoint-url", url, "--cli-read-timeout", "1"
            )
            for connection in accepted:
                connection.close()
        assert (code, out) == (255, "")
        assert "(ReadTimeoutError) Could not call AWS for instance" in err


class TestRequestInput:
    def test_cli_input_json(self, cli, federation, agent_conn):
        request = json.dumps({"InstanceId": federation.instance_id})
        result = cli("get-federation-token", "--cli-input-json", request, "--conn-id", agent_conn)
        assert (result.exit_code, result.json()["UserId"]) == (0, federation.user_id)

    def test_cli_input_json_from_a_file(self, cli, federation, agent_conn, tmp_path):
        path = tmp_path / "request.json"
        path.write_text(json.dumps({"InstanceId": federation.instance_id}))
        result = cli("get-federation-token", "--cli-input-json", f"file://{path}", "--conn-id", agent_conn)
        assert (result.exit_code, result.json()["UserId"]) == (0, federation.user_id)

    def test_command_line_overrides_cli_input_json(self, cli, federation, agent_conn):
        request = json.dumps({"InstanceId": "not-this-one"})
        code, out, _ = fetch(cli, federation, "--cli-input-json", request, "--conn-id", agent_conn)
        assert (code, json.loads(out)["UserId"]) == (0, federation.user_id)


class TestServiceErrors:
    def test_unknown_instance(self, cli, federation, agent_conn):
        result = cli("get-federation-token", "--instance-id", "no-such-instance", "--conn-id", agent_conn)
        assert (result.exit_code, result.stdout) == (254, "")
        assert result.stderr.startswith(
            "connect-fed get-federation-token: error: (ResourceNotFoundException) "
        )
        assert "check instance_id and region_name" in result.stderr

    def test_unknown_user(self, cli, federation, agent_conn):
        code, out, err = fetch(
            cli, federation, "--conn-id", "worker", "--connect-user", "Bob", "--role-arn", federation.role_arn
        )
        assert (code, out) == (254, "")
        assert "error: (UserNotFoundException) " in err
        assert "Create a Connect user whose username equals" in err

    def test_root_may_not_assume_the_role(self, cli, federation, agent_conn):
        code, out, err = fetch(
            cli, federation, "--conn-id", "root", "--connect-user", AGENT, "--role-arn", federation.role_arn
        )
        assert (code, out) == (254, "")
        assert re.search(
            r"AccessDenied \(HTTP 403, RequestId [0-9a-f-]{36}\): Roles may not be assumed by root accounts\. "
            r"Give the connection an IAM user's",
            err,
        )

    def test_root_key(self, cli, federation, agent_conn):
        code, out, err = fetch(cli, federation, "--conn-id", "root")
        assert (code, out) == (254, "")
        assert "error: (InvalidRequestException) Amazon Connect refuses to federate the account root" in err

    def test_error_is_colored_on_request(self, cli, federation, agent_conn):
        code, _, err = fetch(cli, federation, "--conn-id", "root", "--color", "on")
        assert code == 254
        assert (
            "connect-fed get-federation-token: \x1b[1m\x1b[31merror\x1b[0m: (InvalidRequestException)" in err
        )

    def test_unreachable_endpoint(self, cli, federation, monkeypatch):
        no_retries = {"retries": {"total_max_attempts": 1}}
        monkeypatch.setenv(
            *federation.connection("closed", federation.agent, config_kwargs=no_retries).popitem()
        )
        code, _, err = fetch(cli, federation, "--conn-id", "closed", "--endpoint-url", "http://127.0.0.1:9")
        assert code == 255
        assert "error: (EndpointConnectionError) Could not call AWS for instance" in err


class TestDebug:
    def test_botocore_debug_lines_without_tokens(self, cli, federation, agent_conn):
        code, out, err = fetch(cli, federation, "--conn-id", agent_conn, "--debug", "--show-tokens")
        assert code == 0
        credentials = json.loads(out)["Credentials"]
        assert re.search(
            r" - botocore\.endpoint - DEBUG - Making request for OperationModel\(name=GetFederationToken", err
        )
        # The response body is logged, its tokens replaced: they were masked before botocore logged it.
        assert re.search(r"Response body:\n.*\"AccessToken\": \"\*\*\*\"", err)
        assert credentials["AccessToken"] not in err
        assert credentials["RefreshToken"] not in err

    def test_debug_shows_the_traceback_of_an_error(self, cli, federation, agent_conn):
        result = cli(
            "get-federation-token", "--instance-id", "no-such-instance", "--conn-id", agent_conn, "--debug"
        )
        assert result.exit_code == 254
        assert "Traceback (most recent call last)" in result.stderr
        assert "InstanceNotFoundError" in result.stderr
        assert (
            result.stderr.rstrip()
            .splitlines()[-1]
            .startswith("connect-fed get-federation-token: error: (ResourceNotFoundException) ")
        )

    def test_without_debug_stderr_stays_quiet(self, cli, federation, agent_conn):
        assert fetch(cli, federation, "--conn-id", agent_conn)[2] == ""

    def test_debug_restores_logging(self, cli, federation, agent_conn):
        import logging

        root_handlers = logging.getLogger().handlers[:]
        botocore_level = logging.getLogger("botocore").level
        fetch(cli, federation, "--conn-id", agent_conn, "--debug")
        assert logging.getLogger().handlers == root_handlers
        assert logging.getLogger("botocore").level == botocore_level
