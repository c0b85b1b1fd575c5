"""GetFederationTokenOperator (Stubber on its hook's Connect client, STS on moto; the emulator where requests
are counted or a role is assumed) and GetFederationTokensOperator (emulator, over HTTP)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import structlog
from airflow.sdk import DAG, BaseOperator
from botocore.stub import Stubber
from moto import mock_aws

from airflow_connect_fed import load_federation_token, metrics, secret_key_for
from airflow_connect_fed.destinations import SecretsManagerDestination, TokenDestination
from airflow_connect_fed.destinations.secrets_backend import task_backend
from airflow_connect_fed.destinations.teams import amazon_team_separator
from airflow_connect_fed.exceptions import (
    AccessDeniedError,
    BulkFederationError,
    InvalidConnectUserError,
    InvalidDestinationError,
    InvalidInputError,
    UserNotFoundError,
)
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.operators.federation_token import (
    XCOM_WARNING,
    GetFederationTokenOperator,
    GetFederationTokensOperator,
)
from tests.federation_answers import ACCESS_TOKEN, CALLER_ARN, INSTANCE_ID, REFRESH_TOKEN, success_body
from tests.outlets import OutletEvents
from tests.stats import recording_stats

ROLE_ARN = "arn:aws:iam::123456789012:role/ConnectFederation"
SM_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"


def make_operator(**kwargs) -> GetFederationTokenOperator:
    kwargs.setdefault("task_id", "get_token")
    kwargs.setdefault("instance_id", INSTANCE_ID)
    kwargs.setdefault("aws_conn_id", None)
    kwargs.setdefault("region_name", "us-east-1")
    return GetFederationTokenOperator(**kwargs)


def test_template_fields():
    assert set(GetFederationTokenOperator.template_fields) == {
        "instance_id",
        "connect_user",
        "role_arn",
        "secret_key",
        "aws_conn_id",
        "region_name",
        "verify",
    }


def test_the_hook_is_built_with_every_argument_once_rendered():
    with DAG("hook_args", schedule=None, start_date=datetime(2026, 1, 1)):
        op = make_operator(
            aws_conn_id="{{ params.conn }}",
            region_name="eu-west-2",
            verify="/etc/ca.pem",
            botocore_config={"read_timeout": 7},
            shared_quota_conn_id="quota_redis",
            params={"conn": "connect_prod"},
        )
    op.render_template_fields({"params": op.params})
    hook = op.hook
    assert isinstance(hook, ConnectFederationHook)
    assert (hook.aws_conn_id, hook.region_name, hook.shared_quota_conn_id) == (
        "connect_prod",
        "eu-west-2",
        "quota_redis",
    )
    assert (hook.conn_config.verify, hook.conn_config.region_name) == ("/etc/ca.pem", "eu-west-2")
    assert hook.config.read_timeout == 7
    assert op.hook is hook  # one hook per run
    assert isinstance(op, BaseOperator)


def test_the_operator_module_imports_no_hook_or_boto3_when_a_dag_is_parsed():
    probe = (
        "import sys, airflow.sdk; import airflow_connect_fed.operators.federation_token; "
        "print(sorted(m for m in sys.modules if m.startswith(('boto3', 'airflow_connect_fed.hooks', "
        "'airflow.providers.amazon.aws.operators', 'airflow.providers.amazon.aws.hooks'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_template_fields_render():
    with DAG("render", schedule=None, start_date=datetime(2026, 1, 1)):
        op = make_operator(
            instance_id="{{ params.instance }}",
            connect_user="{{ params.user }}",
            role_arn="arn:aws:iam::{{ params.account }}:role/Federation",
            aws_conn_id="{{ params.conn }}",
            region_name="{{ params.region }}",
            params={
                "instance": INSTANCE_ID,
                "user": "agent-7",
                "account": "123456789012",
                "conn": "connect_prod",
                "region": "eu-west-2",
            },
        )
    op.render_template_fields({"params": op.params})
    assert op.instance_id == INSTANCE_ID
    assert op.connect_user == "agent-7"
    assert op.role_arn == "arn:aws:iam::123456789012:role/Federation"
    assert op.aws_conn_id == "connect_prod"
    assert op.region_name == "eu-west-2"


def xcom_operator(**kwargs) -> GetFederationTokenOperator:
    return make_operator(destination="xcom", **kwargs)


@contextmanager
def answered(op: GetFederationTokenOperator, body: dict | None = None, instance_id: str = INSTANCE_ID):
    """Stubber on the Connect client of ``op``'s hook (the connection's own, for a call without a role):
    one GetFederationToken answer, ``success_body()`` unless given, which must have been taken."""
    with Stubber(op.hook.conn) as stub:
        stub.add_response("get_federation_token", body or success_body(), {"InstanceId": instance_id})
        yield stub
        stub.assert_no_pending_responses()


def test_the_default_destination_is_the_secrets_backend():
    assert make_operator().destination == "secrets_backend"


def test_without_a_backend_the_default_fails_before_any_call(emu_instance):
    op = make_operator(
        connect_user="agent-1", role_arn=ROLE_ARN, secret_key="connect/agent-1", aws_conn_id="emu"
    )
    with pytest.raises(InvalidDestinationError) as raised:
        op.execute({})
    message = str(raised.value)
    assert "neither [workers] secrets_backend nor [secrets] backend is set" in message
    assert "SecretsManagerBackend" in message
    assert "destination='xcom' would work without one, but keeps both tokens in plain text" in message
    assert emu_instance.counters.totals().received == 0
    assert emu_instance.counters.requests() == 0  # not even STS


def test_execute_pushes_the_token_dict_and_warns_once(emu_instance, log_messages):
    agent = emu_instance.client("connect").list_users(InstanceId=INSTANCE_ID)["UserSummaryList"]
    (agent_arn,) = [user["Arn"] for user in agent if user["Username"] == "agent-1"]
    value = xcom_operator(connect_user="agent-1", role_arn=ROLE_ARN, aws_conn_id="emu").execute({})
    logs = log_messages()
    warnings = [message for message in logs if message.startswith("destination='xcom'")]
    assert warnings == [XCOM_WARNING]
    assert "readable in the metadata DB, through the REST API (xcomEntries) and in the UI" in XCOM_WARNING
    token = load_federation_token(value)
    assert value == token.to_dict()
    assert token.user_arn == agent_arn
    assert token.access_token
    assert token.instance_id == INSTANCE_ID
    (info,) = [message for message in logs if message.startswith("Got a federation token")]
    assert info == (
        f"Got a federation token for {token.user_arn} on instance {INSTANCE_ID}; "
        f"the access token expires at {token.access_token_expiration.isoformat()}, "
        f"the refresh token at {token.refresh_token_expiration.isoformat()}."
    )
    assert token.access_token not in repr(logs)
    assert token.refresh_token not in repr(logs)


def test_execute_registers_tokens_with_the_masker():
    from tests.masker import redact

    op = xcom_operator()
    with answered(op):
        op.execute({})
    assert redact({"a": ACCESS_TOKEN, "b": [REFRESH_TOKEN]}) == {"a": "***", "b": ["***"]}


def test_api_errors_propagate_with_their_class():
    op = xcom_operator()
    # moto answers the GetCallerIdentity that names the caller in the message.
    with mock_aws(), Stubber(op.hook.conn) as stub:
        stub.add_client_error(
            "get_federation_token",
            service_error_code="UserNotFoundException",
            service_message="No user.",
            http_status_code=404,
            response_meta={"RequestId": "5d6b2c1e-0000-4000-8000-000000000404"},
        )
        with pytest.raises(UserNotFoundError, match="No user"):
            op.execute({})
        stub.assert_no_pending_responses()


def test_unknown_destination_fails_at_parse_time():
    with pytest.raises(InvalidDestinationError, match="Unknown destination 'vault'"):
        make_operator(destination="vault")


def test_custom_destination_object():
    class Recorder(TokenDestination):
        kind = "recorder"

        def __init__(self):
            self.texts = []

        def write(self, token, connect_user=None, principal=None):
            self.texts.append(json.dumps(token.to_dict()))
            return {"kind": self.kind, "slot": len(self.texts), "instance_id": token.instance_id}

        @classmethod
        def read(cls, reference):
            raise NotImplementedError

    destination = Recorder()
    op = make_operator(destination=destination)
    with mock_aws(), answered(op):  # moto: the GetCallerIdentity that names who requested the token
        value = op.execute({})
    assert value["kind"] == "recorder"
    assert value["slot"] == 1
    assert value["instance_id"] == INSTANCE_ID
    assert ACCESS_TOKEN not in repr(value)
    assert REFRESH_TOKEN not in repr(value)
    assert ACCESS_TOKEN in destination.texts[0]


@pytest.mark.parametrize(
    "value",
    [-1, 0, "10", timedelta(seconds=-5), True, float("inf"), float("nan"), 3601, timedelta(hours=7)],
)
def test_bad_reuse_window(value):
    with pytest.raises(InvalidInputError) as raised:
        make_operator(reuse_if_valid_for=value)
    message = str(raised.value)
    assert "reuse_if_valid_for must be a timedelta or a number of seconds above 0 and at most 3600" in message
    assert f"got {value!r}" in message
    assert "PeriodicSessionDuration (10-60 minutes)" in message


def test_the_longest_reuse_window_is_the_longest_access_token():
    assert make_operator(reuse_if_valid_for=3600).reuse_if_valid_for == timedelta(hours=1)


def test_reuse_window_in_seconds():
    op = make_operator(destination="secrets_backend", secret_key="connect/agent-1", reuse_if_valid_for=90)
    assert op.reuse_if_valid_for == timedelta(seconds=90)


def test_reuse_needs_a_stored_destination():
    with pytest.raises(
        InvalidInputError, match="reuse_if_valid_for needs a destination that stores the token"
    ):
        xcom_operator(reuse_if_valid_for=60)


def test_secrets_backend_needs_secret_key(emu_instance):
    op = make_operator(destination="secrets_backend", aws_conn_id="emu")
    with pytest.raises(
        InvalidDestinationError, match=r"destination='secrets_backend' \(the default\) needs secret_key"
    ):
        op.execute({})
    assert emu_instance.counters.requests() == 0


def test_templated_secret_key_is_not_checked_at_parse_time():
    op = make_operator(secret_key="{{ var.value.agent_key }}", reuse_if_valid_for=60)
    assert op.secret_key == "{{ var.value.agent_key }}"


def test_a_token_returned_from_a_task_is_refused_by_airflows_serializer():
    try:
        from airflow.sdk.serde import serialize
    except ImportError:  # Airflow 3.0
        from airflow.serialization.serde import serialize

    from airflow_connect_fed.exceptions import TokenInXComError

    op = xcom_operator()
    with answered(op):
        token = load_federation_token(op.execute({}))
    with pytest.raises(TokenInXComError) as raised:
        serialize(token)
    assert "Store it with GetFederationTokenOperator (destination='secrets_backend'" in str(raised.value)
    assert ACCESS_TOKEN not in str(raised.value)


class TestReuse:
    """Stored tokens on the emulator's Secrets Manager; what is requested is counted there too."""

    @pytest.fixture
    def store(self, emu_instance, emu_connection):
        self.emulator, self.credentials = emu_instance, emu_connection
        secrets = emu_instance.client("secretsmanager", **emu_connection)
        return SecretsManagerDestination("connect/agent-1", aws_conn_id=None, client=secrets)

    def seed(self, store, user="agent-1", minutes=45, instance=INSTANCE_ID, principal=ROLE_ARN):

        from airflow_connect_fed.token import FederationToken

        body = success_body(expires_at=datetime.now(UTC) + timedelta(minutes=minutes))
        seeded = store.write(FederationToken.from_dict(body, instance_id=instance), user, principal)
        self.emulator.counters.reset()
        return seeded

    @pytest.fixture(autouse=True)
    def _logs(self, log_messages):
        self.log_messages = log_messages

    def run(self, store, **kwargs):
        kwargs = {"connect_user": "agent-1", "role_arn": ROLE_ARN, "aws_conn_id": "emu", **kwargs}
        op = make_operator(destination=store, reuse_if_valid_for=1800, **kwargs)
        value = op.execute({})
        return value, " | ".join(self.log_messages())

    def federation_requests(self) -> int:
        """GetFederationToken requests the emulator received since the last reset of its counters."""
        return self.emulator.counters.totals().received

    def test_valid_stored_token_makes_no_api_call(self, store):
        seeded = self.seed(store)
        value, logs = self.run(store)
        assert self.federation_requests() == 0
        assert self.emulator.counters.requests("sts") == 0  # no role assumed either
        assert value == seeded
        assert "Reusing the stored federation token" in logs

    @pytest.mark.parametrize(
        ("seed", "reason"),
        [
            ({"minutes": 20}, "within reuse_if_valid_for 0:30:00 (its refresh token expires at"),
            ({"user": "agent-2"}, "for another instance or user"),
            ({"instance": "other-instance"}, "for another instance or user"),
            (
                {"principal": "arn:aws:iam::123456789012:role/OtherRole"},
                f"was requested as arn:aws:iam::123456789012:role/OtherRole, this task requests as {ROLE_ARN}",
            ),
            ({"principal": None}, "was requested as an identity it does not record"),
        ],
    )
    def test_fetches_when_not_reusable(self, store, seed, reason):
        seeded = self.seed(store, **seed)
        value, logs = self.run(store)
        assert self.federation_requests() == 1
        assert value["version_id"] != seeded["version_id"]
        assert reason in logs

    def test_a_token_past_its_access_expiry_is_not_reused_though_its_refresh_token_lives(self, store):
        seeded = self.seed(store, minutes=-1)
        assert store.current().token.refresh_expires_in() > timedelta(hours=10)
        value, logs = self.run(store)
        assert self.federation_requests() == 1
        assert value["version_id"] != seeded["version_id"]
        assert "(its refresh token expires at" in logs

    def test_a_schedule_rewriting_the_secret_within_ten_minutes_is_warned_about(self, store):
        op = make_operator(
            destination=store,
            connect_user="agent-1",
            role_arn=ROLE_ARN,
            aws_conn_id="emu",
        )
        op.execute({"prev_start_date_success": datetime.now(UTC) - timedelta(minutes=4)})
        (warning,) = [m for m in self.log_messages() if "AWS advises at most once every 10.0 min" in m]
        assert "This DAG's runs come every 4.0 min and, with reuse_if_valid_for unset" in warning
        assert "Secrets Manager secret about every 4.0 min" in warning
        assert ACCESS_TOKEN not in warning

    @pytest.mark.parametrize(
        ("every", "window"), [(11, None), (4, 1800)], ids=["runs every 11 min", "reused for 32 min"]
    )
    def test_a_schedule_rewriting_the_secret_every_ten_minutes_or_more_is_not_warned_about(
        self, store, every, window
    ):
        op = make_operator(
            destination=store,
            connect_user="agent-1",
            role_arn=ROLE_ARN,
            aws_conn_id="emu",
            reuse_if_valid_for=window,
        )
        op.execute({"prev_start_date_success": datetime.now(UTC) - timedelta(minutes=every)})
        assert [m for m in self.log_messages() if "AWS advises" in m] == []

    def test_the_connections_own_identity_is_compared(self, store, monkeypatch):
        seeded = self.seed(store, user=None, principal=CALLER_ARN)
        value, _ = self.run(store, connect_user=None, role_arn=None)
        assert self.federation_requests() == 0
        assert value == seeded

        # Connection emu now authenticates as another IAM user, with a Connect user of its own.
        another = "arn:aws:iam::123456789012:user/another-worker"
        credentials = self.emulator.create_iam_user_credentials("another-worker")
        self.emulator.create_user(INSTANCE_ID, "another-worker")
        for name, env_value in self.emulator.airflow_env("emu", **credentials).items():
            monkeypatch.setenv(name, env_value)
        value, logs = self.run(store, connect_user=None, role_arn=None)
        assert self.federation_requests() == 1
        assert value["version_id"] != seeded["version_id"]
        assert f"was requested as {CALLER_ARN}, this task requests as {another}" in logs
        stored = store.current()
        assert stored.principal == another
        assert self.emulator.counters.requests("sts") == 2  # one GetCallerIdentity per run

    def test_a_role_session_needs_no_identity_call(self, store):
        self.seed(store)
        self.run(store)
        assert self.emulator.counters.requests("sts") == 0

    def test_an_identity_sts_cannot_resolve_fails_with_what_to_check(self, store, monkeypatch):
        from airflow_connect_fed.exceptions import AwsConnectionError

        # STS on a local port that refuses connections: botocore raises EndpointConnectionError.
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))  # bound, never listening
            connection = json.loads(self.emulator.airflow_connection("emu", **self.credentials))
            sts_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
            connection["extra"]["service_config"]["sts"] = {"endpoint_url": sts_url}
            monkeypatch.setenv("AIRFLOW_CONN_EMU", json.dumps(connection))
            monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
            self.emulator.counters.reset()
            with pytest.raises(
                AwsConnectionError, match="STS GetCallerIdentity failed for connection 'emu'"
            ) as e:
                self.run(store, connect_user=None, role_arn=None)
        assert f'Could not connect to the endpoint URL: "{sts_url}/"' in str(e.value)
        assert "Check the connection's credentials, region and endpoint_url." in str(e.value)
        assert self.federation_requests() == 0

    def test_unreadable_or_missing_value_means_fetch(self, store):
        _, logs = self.run(store)
        assert "No stored token yet" in logs
        store.client.put_secret_value(SecretId="connect/agent-1", SecretString="{broken")
        _, logs = self.run(store)
        assert (
            "The stored token cannot be reused (The value stored at secret 'connect/agent-1' is not JSON.)"
            in logs
        )
        assert self.federation_requests() == 2


def test_outlet_events_get_expiry_and_user_not_token():
    from airflow.sdk import Asset

    asset = Asset(name="agent_token", uri="connect-fed://instance/agent-1")
    events = OutletEvents()
    op = xcom_operator(outlets=[asset])
    with answered(op):
        value = op.execute({"outlet_events": events})
    extra = events[asset].extra
    assert extra == {
        "user_arn": value["UserArn"],
        "instance_id": INSTANCE_ID,
        "access_token_expiration": value["Credentials"]["AccessTokenExpiration"],
        "refresh_token_expiration": value["Credentials"]["RefreshTokenExpiration"],
        "rotated": True,
    }


class TestBadRenderedInputs:
    """Each templated field is checked once rendered, in execute, before any AWS request."""

    @pytest.fixture
    def emulator(self, connect_emulator, emu_connection, monkeypatch):
        backend_env(monkeypatch, connect_emulator)
        self.instance = connect_emulator.create_instance("render")
        self.role_arn = connect_emulator.create_federation_role()
        connect_emulator.create_user(self.instance["id"], "agent-1")
        return connect_emulator

    def execute(self, emulator, **params):
        params = {
            "instance": self.instance["id"],
            "user": "agent-1",
            "role": self.role_arn,
            "key": "connect/a1",
            **params,
        }
        with DAG("render_bad", schedule=None, start_date=datetime(2026, 1, 1)):
            op = GetFederationTokenOperator(
                task_id="get_token",
                instance_id="{{ params.instance }}",
                connect_user="{{ params.user }}",
                role_arn="{{ params.role }}",
                secret_key="{{ params.key }}",
                reuse_if_valid_for=1800,
                aws_conn_id="emu",
                params=params,
            )
        op.render_template_fields({"params": params})
        emulator.counters.reset()
        try:
            return op.execute({})
        finally:
            self.requests = emulator.counters.requests()

    def test_good_values_work(self, emulator):
        value = self.execute(emulator)
        assert value["secret_key"] == "connect/a1"
        assert self.requests > 0

    @pytest.mark.parametrize(
        ("params", "error", "message"),
        [
            ({"instance": None}, InvalidInputError, "instance_id is 'None' after template rendering"),
            ({"instance": "x" * 101}, InvalidInputError, "has 101 characters; Connect allows 1 to 100"),
            ({"instance": "a b"}, InvalidInputError, "instance_id 'a b' contains whitespace"),
            ({"user": None}, InvalidInputError, "connect_user is 'None' after template rendering"),
            (
                {"user": "bad name"},
                InvalidInputError,
                "connect_user 'bad name' cannot be an STS role session name",
            ),
            ({"user": "x" * 65}, InvalidInputError, "cannot be an STS role session name"),
            ({"role": None}, InvalidInputError, "role_arn is 'None' after template rendering"),
            ({"role": "arn:aws:iam::1234567890123:role/R"}, InvalidInputError, "a 12-digit account"),
            ({"role": "arn:aws:sts::123456789012:role/R"}, InvalidInputError, "the iam service"),
            ({"role": "arn:aws:iam::123456789012:role/"}, InvalidInputError, "a role name of 1 to 64"),
            (
                {"role": "arn:aws:iam::123456789012:user/R"},
                InvalidInputError,
                "got role_arn='arn:aws:iam::123456789012:user/R'",
            ),
            ({"key": None}, InvalidInputError, "secret_key is 'None' after template rendering"),
            (
                {"key": "connect agents/a1"},
                InvalidDestinationError,
                "'airflow/variables/connect agents/a1' cannot be stored in Secrets Manager",
            ),
            (
                {"key": "c/" + "x" * 600},
                InvalidDestinationError,
                "cannot be stored in Secrets Manager: use 1 to 512",
            ),
        ],
    )
    def test_refused_before_any_request(self, emulator, params, error, message):
        with pytest.raises(error, match=message):
            self.execute(emulator, **params)
        assert self.requests == 0

    def test_the_user_field_is_filled_by_the_bulk_operators_rule(self, emulator):
        emulator.create_user(self.instance["id"], "agent.one@example.com")
        value = self.execute(emulator, user="agent.one@example.com", key="connect/agents/{user}")
        assert value["secret_key"] == "connect/agents/agent.one_40example.com"
        assert value["secret_id"] == "airflow/variables/connect/agents/agent.one_40example.com"

    def test_the_user_field_without_a_user(self, emulator):
        op = GetFederationTokenOperator(
            task_id="t",
            instance_id=self.instance["id"],
            secret_key="connect/agents/{user}",
            aws_conn_id="emu",
        )
        emulator.counters.reset()
        with pytest.raises(InvalidDestinationError, match=r"contains '\{user\}'.*no connect_user was given"):
            op.execute({})
        assert emulator.counters.requests() == 0

    def test_role_without_user_is_refused_before_sts(self, emulator):
        op = GetFederationTokenOperator(
            task_id="t",
            instance_id=self.instance["id"],
            role_arn=self.role_arn,
            secret_key="k/a",
            aws_conn_id="emu",
        )
        emulator.counters.reset()
        with pytest.raises(InvalidInputError, match="was given without connect_user"):
            op.execute({})
        assert emulator.counters.requests() == 0


# GetFederationTokensOperator


@pytest.fixture
def setup(connect_emulator, emu_connection):
    connect_emulator.set_quota(200, 50)
    instance = connect_emulator.create_instance("bulkop")
    role_arn = connect_emulator.create_federation_role()
    users = [f"agent-{i:02d}" for i in range(50)]
    for user in users:
        connect_emulator.create_user(instance["id"], user)
    credentials = emu_connection
    secrets = connect_emulator.client("secretsmanager", **credentials)

    def store(user: str) -> SecretsManagerDestination:
        return SecretsManagerDestination(f"connect/agents/{user}", aws_conn_id=None, client=secrets)

    return connect_emulator, instance, role_arn, users, store, secrets


def operator(instance, role_arn, users, store, **kwargs) -> GetFederationTokensOperator:
    return GetFederationTokensOperator(
        task_id="bulk",
        instance_id=instance["id"],
        connect_users=users,
        role_arn=role_arn,
        destination=store,
        aws_conn_id="emu",
        requests_per_second=200,
        burst=50,
        **kwargs,
    )


@pytest.mark.integration
def test_one_unknown_user_among_fifty(setup):
    _, instance, role_arn, users, store, secrets = setup
    asked = [*users[:49], "nobody-here"]
    with structlog.testing.capture_logs() as logs, pytest.raises(BulkFederationError) as raised:
        operator(instance, role_arn, asked, store).execute({})
    error = raised.value
    assert list(error.failures) == ["nobody-here"]
    assert isinstance(error.failures["nobody-here"], UserNotFoundError)
    assert "1 Connect user(s)" in str(error)
    assert "nobody-here: UserNotFoundError" in str(error)
    assert "allow_partial_failure=True" in str(error)
    stored = {s["Name"] for s in secrets.list_secrets(MaxResults=100)["SecretList"]}
    assert stored == {f"connect/agents/{user}" for user in users[:49]}
    summary = [e["event"] for e in logs if e["event"].startswith("Connect users:")]
    assert summary == ["Connect users: 50, tokens stored: 49, reused: 0, failed: 1."]


GONE = "agent.gone@example.com"


@pytest.mark.parametrize("ghost", ["never created", "deleted in Connect"])
@pytest.mark.integration
def test_a_departed_user_is_reported_not_failed_with_skip_departed_users(setup, ghost, log_messages):
    from airflow.sdk import Asset

    emulator, instance, role_arn, users, store, secrets = setup
    if ghost == "deleted in Connect":
        emulator.create_user(instance["id"], GONE)
        emulator.delete_user(instance["id"], GONE)
    asset = Asset(name="agent_tokens", uri="connect-fed://instance/agents")
    events = OutletEvents()
    values = operator(
        instance, role_arn, [users[0], GONE, users[1]], store, skip_departed_users=True, outlets=[asset]
    ).execute({"outlet_events": events})
    assert list(values) == users[:2]
    assert {s["Name"] for s in secrets.list_secrets()["SecretList"]} == {
        f"connect/agents/{u}" for u in users[:2]
    }
    assert events[asset].extra == {
        "instance_id": instance["id"],
        "rotated_users": users[:2],
        "failed_users": [],
        "departed_users": [GONE],
    }
    logs = log_messages()
    assert [m for m in logs if "no longer exist" in m] == [
        f"1 Connect user(s) no longer exist on instance {instance['id']} (UserNotFoundException), reported as "
        f"departed, not failed: {GONE}. Their stored tokens stay until a prune deletes them."
    ]
    assert "Connect users: 3, tokens stored: 2, reused: 0, departed: 1, failed: 0." in logs


@pytest.mark.integration
def test_without_skip_departed_users_a_user_deleted_in_connect_fails_the_task(setup):
    emulator, instance, role_arn, users, store, secrets = setup
    emulator.create_user(instance["id"], GONE)
    emulator.delete_user(instance["id"], GONE)
    with pytest.raises(BulkFederationError) as raised:
        operator(instance, role_arn, [users[0], GONE], store).execute({})
    assert list(raised.value.failures) == [GONE]
    assert f"{GONE}: UserNotFoundError" in str(raised.value)
    assert [s["Name"] for s in secrets.list_secrets()["SecretList"]] == [f"connect/agents/{users[0]}"]


@pytest.mark.integration
def test_partial_failure_allowed_returns_references(setup):
    _, instance, role_arn, users, store, _secrets = setup
    values = operator(instance, role_arn, [users[0], "ghost"], store, allow_partial_failure=True).execute({})
    assert list(values) == [users[0]]
    reference = values[users[0]]
    assert reference["kind"] == "secrets_manager"
    assert "Credentials" not in json.dumps(reference)
    token = load_federation_token({**reference, "aws_conn_id": "emu"})
    assert token.user_arn == reference["user_arn"]


@pytest.mark.integration
def test_reuse_skips_valid_tokens(setup):
    emulator, instance, role_arn, users, store, _ = setup
    first = operator(instance, role_arn, users[:5], store).execute({})
    emulator.counters.reset()
    second = operator(instance, role_arn, users[:5], store, reuse_if_valid_for=1800).execute({})
    assert emulator.counters.totals().received == 0
    assert {u: r["version_id"] for u, r in second.items()} == {u: r["version_id"] for u, r in first.items()}


@pytest.mark.integration
def test_the_bulk_warns_once_about_a_window_the_access_tokens_never_meet(setup, log_messages):
    _, instance, role_arn, users, store, _ = setup
    operator(instance, role_arn, users[:3], store, reuse_if_valid_for=3600).execute(
        {"prev_start_date_success": datetime.now(UTC) - timedelta(minutes=3)}
    )
    logs = log_messages()
    (never,) = [m for m in logs if "so no stored token is ever reused" in m]
    assert never.startswith(
        "reuse_if_valid_for (60.0 min) is not shorter than the access tokens this instance issues"
    )
    (rewrites,) = [
        m for m in logs if "AWS advises at most once every 10.0 min" in m
    ]  # one per task, not per agent
    assert "runs come every 3.0 min" in rewrites
    assert "secret about every 3.0 min" in rewrites


@pytest.mark.parametrize(
    ("users", "expected"),
    [('["a1", "a2"]', ["a1", "a2"]), ("a1, a2 ,a3", ["a1", "a2", "a3"])],
)
@pytest.mark.integration
def test_rendered_user_lists(setup, users, expected):
    emulator, instance, role_arn, _, store, _ = setup
    for user in expected:
        emulator.create_user(instance["id"], user)
    assert list(operator(instance, role_arn, users, store).execute({})) == expected


@pytest.mark.integration
def test_parse_time_checks_only_non_templated_arguments():
    kwargs = {
        "task_id": "t",
        "instance_id": "{{ params.i }}",
        "role_arn": "{{ params.r }}",
        "connect_users": "{{ params.u }}",
    }
    with pytest.raises(InvalidDestinationError, match="Unknown destination 'vault'"):
        GetFederationTokensOperator(destination="vault", **kwargs)
    with pytest.raises(InvalidInputError, match="burst must be a whole number"):
        GetFederationTokensOperator(burst=0, **kwargs)
    with pytest.raises(InvalidInputError, match="got inf"):
        GetFederationTokensOperator(requests_per_second=float("inf"), **kwargs)
    with pytest.raises(InvalidInputError, match="got inf"):
        GetFederationTokensOperator(reuse_if_valid_for=float("inf"), **kwargs)
    with pytest.raises(InvalidInputError, match="skip_departed_users must be True or False, got 'yes'"):
        GetFederationTokensOperator(skip_departed_users="yes", **kwargs)
    # Templated fields are taken as written; they are checked once rendered.
    GetFederationTokensOperator(secret_key="{{ var.value.agent_key }}", **kwargs)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"connect_users": "[oops"},
            InvalidConnectUserError,
            "connect_users '\\[oops' is not a valid JSON list",
        ),
        ({"connect_users": "[]"}, InvalidConnectUserError, "connect_users is empty"),
        (
            {"connect_users": '["a1", 7]'},
            InvalidConnectUserError,
            "connect_user 7 cannot be an STS role session name",
        ),
        ({"connect_users": '["a1", "a1"]'}, InvalidConnectUserError, "names 'a1' more than once"),
        ({"connect_users": "None"}, InvalidInputError, "connect_users is 'None' after template rendering"),
        ({"role_arn": "arn:aws:iam::1234:role/R"}, InvalidConnectUserError, "a 12-digit account"),
        ({"role_arn": None}, InvalidInputError, "role_arn is None after template rendering"),
        ({"instance_id": "x" * 101}, InvalidInputError, "has 101 characters"),
        (
            {"secret_key": "connect/agent"},
            InvalidDestinationError,
            "secret_key 'connect/agent' has no '\\{user\\}'",
        ),
        (
            {"secret_key": "connect agents/{user}"},
            InvalidDestinationError,
            "'airflow/variables/connect agents/a1' cannot be stored",
        ),
        (
            {"secret_key": "c/{user}/" + "x" * 600},
            InvalidDestinationError,
            "cannot be stored in Secrets Manager",
        ),
    ],
)
@pytest.mark.integration
def test_bad_rendered_inputs_are_refused_before_any_call(setup, monkeypatch, change, error, message):
    emulator, instance, role_arn, _, _, secrets = setup
    backend_env(monkeypatch, emulator)
    kwargs = {
        "task_id": "bulk",
        "instance_id": instance["id"],
        "connect_users": ["a1", "a2"],
        "role_arn": role_arn,
        "aws_conn_id": "emu",
        "reuse_if_valid_for": 3600,
        **change,
    }
    emulator.counters.reset()
    with pytest.raises(error, match=message):
        GetFederationTokensOperator(**kwargs).execute({})
    assert emulator.counters.requests() == 0  # not even STS or a secret read
    assert secrets.list_secrets()["SecretList"] == []


def backend_env(monkeypatch, emulator, prefix="airflow/variables", backend=SM_BACKEND):
    """An amazon secrets backend (Secrets Manager by default), on the emulator, as Airflow's configuration."""
    credentials = emulator.create_iam_user_credentials("backend-reader")
    kwargs = {
        "endpoint_url": emulator.endpoint_url,
        "region_name": emulator.region,
        "variables_prefix": prefix,
        "connections_prefix": None,
        "config_prefix": None,
        **credentials,
    }
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", backend)
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps(kwargs))


EMAIL_USERS = ["agent.one@example.com", "agent+two@example.com"]


@pytest.mark.parametrize(
    ("backend", "names"),
    [
        (
            SM_BACKEND,
            {
                "airflow/variables/connect/agents/agent.one_40example.com",
                "airflow/variables/connect/agents/agent_2Btwo_40example.com",
            },
        ),
        (
            SSM_BACKEND,
            {
                "/airflow/variables/connect/agents/agent.one_40example.com",
                "/airflow/variables/connect/agents/agent_2Btwo_40example.com",
            },
        ),
    ],
)
@pytest.mark.integration
def test_email_usernames_store_with_the_default_key(setup, monkeypatch, backend, names):
    emulator, instance, role_arn, _, _, _ = setup
    created = {user: emulator.create_user(instance["id"], user) for user in EMAIL_USERS}
    backend_env(monkeypatch, emulator, backend=backend)
    values = GetFederationTokensOperator(
        task_id="bulk",
        instance_id=instance["id"],
        connect_users=EMAIL_USERS,
        role_arn=role_arn,
        aws_conn_id="emu",
    ).execute({})
    stored = (
        {s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]}
        if backend == SM_BACKEND
        else {p["Name"] for p in emulator.client("ssm").describe_parameters()["Parameters"]}
    )
    assert stored == names
    configured = task_backend().backend
    for user in EMAIL_USERS:
        assert values[user]["secret_key"] == secret_key_for(user)
        token = load_federation_token(values[user])
        assert (token.user_arn, token.user_id) == (created[user]["arn"], created[user]["id"])
        # What Variable.get(secret_key_for(user)) reads in a task: the backend's own lookup.
        assert json.loads(configured.get_variable(secret_key_for(user)))["UserArn"] == token.user_arn


def test_bulk_refuses_reuse_with_xcom_as_the_single_operator_does():
    kwargs = {"task_id": "t", "instance_id": INSTANCE_ID, "destination": "xcom", "reuse_if_valid_for": 60}
    with pytest.raises(InvalidInputError) as single:
        make_operator(**kwargs)
    with pytest.raises(InvalidInputError) as bulk:
        GetFederationTokensOperator(connect_users=["agent-1"], role_arn=ROLE_ARN, **kwargs)
    assert str(bulk.value) == str(single.value)
    assert "with destination='xcom' there is nothing to reuse" in str(bulk.value)


@pytest.mark.integration
def test_a_long_agent_list_maps_over_chunks():
    from airflow.sdk import DAG

    chunks = [["agent-01", "agent-02"], ["agent-03"]]
    with DAG("chunks", schedule=None) as dag:
        GetFederationTokensOperator.partial(
            task_id="bulk",
            instance_id="11111111-2222-3333-4444-555555555555",
            role_arn="arn:aws:iam::123456789012:role/ConnectAgents",
            destination="secrets_backend",
            secret_key="connect/agents/{user}",
        ).expand(connect_users=chunks)
    mapped = dag.get_task("bulk")
    assert mapped.expand_input.value == {"connect_users": chunks}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"AIRFLOW__WORKERS__SECRETS_BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend"},
            r"\[workers\] secrets_backend is 'airflow.secrets.local_filesystem.LocalFilesystemBackend', which is "
            "neither",
        ),
        (
            {
                "AIRFLOW__WORKERS__SECRETS_BACKEND": SM_BACKEND,
                "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS": '{"k": "s3cr3t",',
            },
            r"\[workers\] secrets_backend_kwargs is not valid JSON",
        ),
        (
            {
                "AIRFLOW__WORKERS__SECRETS_BACKEND": SM_BACKEND,
                "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS": json.dumps({"variables_prefix": "p" * 500}),
            },
            "cannot be stored in Secrets Manager: use 1 to 512",
        ),
    ],
)
@pytest.mark.integration
def test_a_workers_backend_that_cannot_hold_the_tokens_is_refused_before_any_call(
    setup, monkeypatch, env, message
):
    emulator, instance, role_arn, users, _, secrets = setup
    backend_env(monkeypatch, emulator)  # the servers' backend would work: the tasks' is what counts
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    emulator.counters.reset()
    with pytest.raises(InvalidDestinationError, match=message) as raised:
        GetFederationTokensOperator(
            task_id="bulk",
            instance_id=instance["id"],
            connect_users=users[:2],
            role_arn=role_arn,
            aws_conn_id="emu",
        ).execute({})
    assert "s3cr3t" not in str(raised.value)
    assert emulator.counters.requests() == 0
    assert secrets.list_secrets()["SecretList"] == []


# Metrics


def test_a_token_fetched_is_counted_with_its_instance_and_operator(monkeypatch):
    stats = recording_stats(monkeypatch)
    op = xcom_operator()
    with answered(op):
        op.execute({})
    assert stats.calls == [
        (
            "incr",
            "connect_federation.tokens_fetched",
            1,
            {"instance_id": INSTANCE_ID, "operator": "GetFederationTokenOperator"},
        )
    ]


def test_a_token_not_fetched_is_counted_as_failed(monkeypatch):
    stats = recording_stats(monkeypatch)
    op = xcom_operator()
    with mock_aws(), Stubber(op.hook.conn) as stub:
        stub.add_client_error(
            "get_federation_token", service_error_code="AccessDeniedException", http_status_code=403
        )
        with pytest.raises(AccessDeniedError):
            op.execute({})
    assert stats.counts() == {"tokens_failed": 1}
    assert stats.tags("tokens_failed") == [
        {"instance_id": INSTANCE_ID, "operator": "GetFederationTokenOperator"}
    ]


@pytest.mark.integration
def test_the_bulk_counts_fetched_reused_failed_and_departed_users(setup, monkeypatch):
    emulator, instance, role_arn, users, store, _ = setup
    operator(instance, role_arn, users[:2], store).execute({})
    emulator.create_user(instance["id"], GONE)
    emulator.delete_user(instance["id"], GONE)
    stats = recording_stats(monkeypatch)
    asked = [*users[:4], GONE]
    operator(instance, role_arn, asked, store, reuse_if_valid_for=1800, skip_departed_users=True).execute({})
    assert stats.counts() == {"tokens_fetched": 2, "tokens_reused": 2, "users_departed": 1}
    tags = {"instance_id": instance["id"], "operator": "GetFederationTokensOperator"}
    assert stats.tags("tokens_fetched") == [tags]
    stats.calls.clear()
    with pytest.raises(BulkFederationError):
        operator(instance, role_arn, [users[5], GONE], store).execute({})
    assert stats.counts() == {"tokens_fetched": 1, "tokens_failed": 1}


def test_a_stats_that_fails_never_fails_the_task(monkeypatch):
    class BrokenStats:
        def incr(self, *args, **kwargs):
            raise OSError("statsd is down")

    monkeypatch.setattr(metrics, "Stats", BrokenStats())
    op = xcom_operator()
    with answered(op):
        assert load_federation_token(op.execute({})).access_token == ACCESS_TOKEN


def store_throttles(counters) -> int:
    """Secrets Manager writes the emulator throttled."""
    return sum(counters.throttled_operation(op) for op in ("PutSecretValue", "CreateSecret", "RestoreSecret"))


@pytest.mark.integration
def test_the_bulk_paces_its_writes_to_the_stores_quota(setup, monkeypatch):
    emulator, instance, role_arn, users, store, secrets = setup
    emulator.set_secretsmanager_write_quota(20, 5)  # Connect at 200/s: the store is the binding quota
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_PER_SECOND", "20")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_BURST", "5")
    result = operator(instance, role_arn, users, store).execute({})
    assert sorted(result) == sorted(users)
    assert emulator.counters.operation("secretsmanager", "CreateSecret") == len(users)
    assert store_throttles(emulator.counters) == 0
    assert [stored_user(secrets, user) for user in users] == users


@pytest.mark.integration
def test_a_store_throttling_a_share_of_writes_still_stores_every_token(setup, monkeypatch):
    emulator, instance, role_arn, users, store, secrets = setup
    emulator.set_secretsmanager_write_quota(10, 2)  # far below the pace the provider is told (100/s)
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_PER_SECOND", "100")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_BURST", "50")
    result = operator(instance, role_arn, users, store).execute({})
    assert store_throttles(emulator.counters) > 0
    assert sorted(result) == sorted(users)
    assert [stored_user(secrets, user) for user in users] == users


def stored_user(secrets, user: str) -> str:
    """The Connect user the token stored under ``user``'s secret records, read straight from Secrets Manager."""
    value = json.loads(secrets.get_secret_value(SecretId=f"connect/agents/{user}")["SecretString"])
    assert value["Credentials"]["AccessToken"]  # a whole token
    return value["ConnectUser"]


@pytest.mark.skipif(
    amazon_team_separator() is None,
    reason="the installed apache-airflow-providers-amazon reads no team-scoped Variables (no TEAM_SEP)",
)
@pytest.mark.integration
def test_a_teams_tokens_go_where_only_its_tasks_read_and_are_reused_there(setup, monkeypatch):
    emulator, instance, role_arn, users, _, _ = setup
    backend_env(monkeypatch, emulator)
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
    team_a, team_b = ({"dag_run": SimpleNamespace(team_name=team)} for team in ("team_a", "team_b"))

    def bulk(context, **kwargs):
        return GetFederationTokensOperator(
            task_id="bulk",
            instance_id=instance["id"],
            connect_users=users[:2],
            role_arn=role_arn,
            aws_conn_id="emu",
            **kwargs,
        ).execute(context)

    values = bulk(team_a)
    single = GetFederationTokenOperator(
        task_id="one",
        instance_id=instance["id"],
        connect_user=users[2],
        role_arn=role_arn,
        secret_key="connect/agents/{user}",
        aws_conn_id="emu",
    ).execute(team_a)
    names = sorted(s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"])
    assert names == [f"airflow/variables/team_a--connect/agents/{user}" for user in users[:3]]
    assert [values[users[0]]["team_name"], values[users[1]]["team_name"], single["team_name"]] == [
        "team_a"
    ] * 3
    configured = task_backend().backend
    for user in users[:3]:
        key = secret_key_for(user)
        assert json.loads(configured.get_variable(key, team_name="team_a"))["ConnectUser"] == user
        assert configured.get_variable(key, team_name="team_b") is None
        assert configured.get_variable(key) is None
    stored = json.loads(configured.get_variable(secret_key_for(users[2]), team_name="team_a"))
    assert load_federation_token(single).user_id == stored["UserId"]  # read as the reference records: team_a

    emulator.counters.reset()
    bulk(team_a, reuse_if_valid_for=60)  # reuse reads team_a's tokens: nothing to fetch
    assert emulator.counters.totals().received == 0
    bulk(team_b, reuse_if_valid_for=60)  # team_b has none of its own
    assert emulator.counters.totals().received == 2
