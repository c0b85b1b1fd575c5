from __future__ import annotations

import logging
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from tests.fake_connect_api import ACCESS_TOKEN, ACCOUNT, INSTANCE_ID, REFRESH_TOKEN, success_body

INSTANCE_ARN = f"arn:aws:connect:eu-west-2:{ACCOUNT}:instance/{INSTANCE_ID}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ConnectFederation"


def make_hook(**kwargs) -> ConnectFederationHook:
    kwargs.setdefault("region_name", "us-east-1")
    return ConnectFederationHook(aws_conn_id=None, **kwargs)


def stubbed(hook: ConnectFederationHook) -> Stubber:
    stubber = Stubber(hook.conn)
    stubber.activate()
    return stubber


class TestContract:
    def test_identity(self):
        hook = make_hook()
        assert hook.conn_type == "aws"
        assert hook.hook_name == "Amazon Connect Federation"
        assert hook.client_type == "connect"
        assert hook.conn.meta.service_model.service_name == "connect"

    def test_standard_retry_mode_by_default(self):
        assert make_hook().config.retries == {"mode": "standard", "total_max_attempts": 5}

    def test_configured_retries_are_kept(self):
        hook = make_hook(config={"retries": {"mode": "adaptive", "max_attempts": 2}})
        assert hook.config.retries == {"mode": "adaptive", "max_attempts": 2}


class TestGetFederationToken:
    def test_parses_the_response(self):
        hook = make_hook()
        expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        with stubbed(hook) as stub:
            stub.add_response(
                "get_federation_token", success_body(expires_at=expires), {"InstanceId": INSTANCE_ID}
            )
            token = hook.get_federation_token(INSTANCE_ID)
            stub.assert_no_pending_responses()
        assert token.access_token == ACCESS_TOKEN
        assert token.refresh_token == REFRESH_TOKEN
        assert token.access_token_expiration == expires
        assert token.access_token_expiration.tzinfo is not None
        assert token.instance_id == INSTANCE_ID
        assert token.user_id == "agent-1-id"

    def test_tokens_are_masked_before_return(self):
        from tests.masker import redact

        hook = make_hook()
        with stubbed(hook) as stub:
            stub.add_response("get_federation_token", success_body(), {"InstanceId": INSTANCE_ID})
            hook.get_federation_token(INSTANCE_ID)
        assert redact(f"a {ACCESS_TOKEN} b {REFRESH_TOKEN}") == "a *** b ***"

    def test_arn_is_called_by_id_in_its_region(self, federation_api):
        token = ConnectFederationHook(aws_conn_id=None).get_federation_token(INSTANCE_ARN)
        (request,) = federation_api.requests
        assert request.url == f"https://connect.eu-west-2.amazonaws.com/user/federate/{INSTANCE_ID}"
        assert token.instance_id == INSTANCE_ID

    def test_arn_region_must_match_explicit_region(self, federation_api):
        with pytest.raises(exc.InvalidInstanceIdError, match="'eu-west-2' but region_name is 'us-east-1'"):
            make_hook(region_name="us-east-1").get_federation_token(INSTANCE_ARN)
        assert federation_api.requests == []

    @pytest.mark.parametrize(
        ("instance_id", "message"),
        [
            ("", "non-empty string, got ''"),
            (None, "non-empty string, got None"),
            ("x" * 101, "has 101 characters"),
            ("abc def", "contains whitespace"),
            ("abc/def", "contains whitespace or '/'"),
            ("arn:aws:s3:::bucket", "'arn:aws:s3:::bucket' is not an Amazon Connect instance ARN"),
            (f"{INSTANCE_ARN}/queue/Q1", "contains whitespace or '/'"),
        ],
    )
    def test_bad_instance_id_fails_before_any_call(self, federation_api, instance_id, message):
        with pytest.raises(exc.InvalidInstanceIdError, match=message) as raised:
            make_hook().get_federation_token(instance_id)
        assert isinstance(raised.value, ValueError)
        assert federation_api.requests == []

    @pytest.mark.parametrize(
        ("user", "message"),
        [
            ("a", "'a' cannot be an STS role session name"),
            ("agent one", "'agent one' cannot be"),
            ("agent/1", "'agent/1' cannot be"),
            ("x" * 65, "2 to 64 characters"),
            ("agënt", "'agënt' cannot be"),
        ],
    )
    def test_bad_connect_user_fails_before_any_call(self, federation_api, user, message):
        with pytest.raises(exc.InvalidConnectUserError, match=message):
            make_hook().get_federation_token(INSTANCE_ID, connect_user=user, role_arn=ROLE_ARN)
        assert federation_api.requests == []

    def test_connect_user_needs_role_arn(self, federation_api):
        with pytest.raises(exc.InvalidConnectUserError, match=r"'agent-1' needs role_arn.*got role_arn=None"):
            make_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1")
        assert federation_api.requests == []

    def test_role_arn_needs_connect_user(self, federation_api):
        with pytest.raises(exc.InvalidConnectUserError, match="without connect_user"):
            make_hook().get_federation_token(INSTANCE_ID, role_arn=ROLE_ARN)
        assert federation_api.requests == []


@mock_aws
class TestConnectUser:
    def test_assumes_role_with_the_username_as_session_name(self, federation_api):
        iam = boto3.client("iam")
        iam.create_role(RoleName="ConnectFederation", AssumeRolePolicyDocument="{}")
        token = make_hook().get_federation_token(INSTANCE_ID, connect_user="Agent.One", role_arn=ROLE_ARN)
        assert token.access_token == ACCESS_TOKEN
        (key,) = federation_api.access_keys()
        # The Connect call is signed with the assumed-role session, not the caller's own key.
        assert key != "AKIAUNITTESTCALLER00"
        assert key.startswith("ASIA")

    def test_assume_role_failure_names_role_and_user(self, federation_api):
        federation_api.assume_role_error = "User is not authorized to perform: sts:AssumeRole"
        with pytest.raises(exc.AssumeRoleError) as raised:
            make_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1", role_arn=ROLE_ARN)
        message = str(raised.value)
        assert ROLE_ARN in message
        assert "Connect user 'agent-1'" in message
        assert "AccessDenied: User is not authorized to perform: sts:AssumeRole" in message
        assert "trust policy" in message
        assert raised.value.status_code == 403
        assert federation_api.requests == []


class TestErrors:
    @pytest.mark.parametrize(
        ("code", "status", "error_class", "advice"),
        [
            ("InvalidRequestException", 400, exc.InvalidRequestError, "SAML 2.0"),
            ("InvalidParameterException", 400, exc.InvalidParameterError, "1 to 100 characters"),
            (
                "ResourceNotFoundException",
                404,
                exc.InstanceNotFoundError,
                "check instance_id and region_name",
            ),
            ("UserNotFoundException", 404, exc.UserNotFoundError, "role session name \\(case-sensitive\\)"),
            ("DuplicateResourceException", 409, exc.DuplicateResourceError, "different IAM role"),
            ("InternalServiceException", 500, exc.InternalServiceError, "retry later"),
            ("ThrottlingException", 429, exc.ThrottlingError, "about 2 requests/s"),
            ("AccessDeniedException", 403, exc.AccessDeniedError, "connect:GetFederationToken"),
        ],
    )
    def test_each_documented_error_maps_to_its_class(self, code, status, error_class, advice):
        hook = make_hook(config={"retries": {"mode": "standard", "max_attempts": 1}})
        with stubbed(hook) as stub:
            stub.add_client_error("get_federation_token", code, "The service said no.", status)
            with pytest.raises(error_class, match=advice) as raised:
                hook.get_federation_token(INSTANCE_ID)
        error = raised.value
        assert error.error_code == code
        assert error.status_code == status
        assert error.instance_id == INSTANCE_ID
        assert INSTANCE_ID in str(error)
        assert "The service said no." in str(error)
        assert isinstance(error, exc.ConnectFederationError)

    def test_user_not_found_names_the_calling_identity(self):
        hook = make_hook()
        with mock_aws(), stubbed(hook) as stub:
            stub.add_client_error("get_federation_token", "UserNotFoundException", "No user.", 404)
            with pytest.raises(exc.UserNotFoundError, match=r"as identity arn:aws:(iam|sts)::\d{12}:"):
                hook.get_federation_token(INSTANCE_ID)

    def test_root_refusal(self):
        hook = make_hook()
        message = (
            f"Provided identity: Principal: arn:aws:iam::{ACCOUNT}:root User: arn:aws:iam::{ACCOUNT}:root "
            "cannot be used for federation with Amazon Connect"
        )
        with mock_aws(), stubbed(hook) as stub:
            stub.add_client_error("get_federation_token", "InvalidRequestException", message, 400)
            with pytest.raises(
                exc.RootCredentialsError, match="refuses to federate the account root"
            ) as raised:
                hook.get_federation_token(INSTANCE_ID)
        assert "IAM user" in str(raised.value)

    def test_no_credentials(self, monkeypatch):
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        with pytest.raises(
            exc.AwsConnectionError, match=r"Unable to locate credentials.*Check the connection"
        ):
            make_hook().get_federation_token(INSTANCE_ID)


class TestRetries:
    @pytest.mark.parametrize(
        ("status", "code"),
        [(500, "InternalServiceException"), (429, "ThrottlingException"), (503, "ServiceUnavailable")],
    )
    def test_transient_errors_are_retried_then_succeed(self, federation_api, status, code, monkeypatch):
        monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
        federation_api.fail(status, code, "try again", times=2)
        federation_api.succeed()
        token = make_hook().get_federation_token(INSTANCE_ID)
        assert token.access_token == ACCESS_TOKEN
        assert len(federation_api.requests) == 3

    def test_retries_are_bounded(self, federation_api, monkeypatch):
        monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
        federation_api.fail(500, "InternalServiceException", "down", times=10)
        with pytest.raises(exc.InternalServiceError, match="after 5 attempts") as raised:
            make_hook().get_federation_token(INSTANCE_ID)
        assert len(federation_api.requests) == 5
        assert raised.value.status_code == 500

    @pytest.mark.parametrize(
        ("status", "code"),
        [
            (400, "InvalidRequestException"),
            (400, "InvalidParameterException"),
            (404, "ResourceNotFoundException"),
            (404, "UserNotFoundException"),
            (409, "DuplicateResourceException"),
        ],
    )
    def test_client_errors_are_not_retried(self, federation_api, status, code):
        federation_api.fail(status, code, "no", times=5)
        with pytest.raises(exc.ConnectApiError):
            make_hook().get_federation_token(INSTANCE_ID)
        assert len(federation_api.requests) == 1


class TestConnection:
    def test_ok_for_an_iam_identity(self):
        with mock_aws():
            ok, message = make_hook().test_connection()
        assert ok is True
        assert message.startswith("Connected as arn:aws:")

    def test_root_is_a_failure(self):
        hook = make_hook()
        root = {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}
        sts = boto3.client("sts", region_name="us-east-1")
        with Stubber(sts) as stub:
            stub.add_response("get_caller_identity", root)
            hook.federation._sts_client = lambda session: sts  # type: ignore[method-assign]
            ok, message = hook.test_connection()
        assert ok is False
        assert "account root" in message
        assert "IAM user or role" in message

    def test_unreachable_identity_is_a_failure(self, monkeypatch):
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        ok, message = make_hook().test_connection()
        assert ok is False
        assert "Unable to locate credentials" in message


def test_no_token_in_error_messages_or_debug_logs(federation_api):
    from tests._client.test_sensitive import Shown

    shown = Shown()
    logger = logging.getLogger("botocore")
    saved = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(shown)
    try:
        federation_api.succeed()
        federation_api.fail(404, "UserNotFoundException", "no user")
        hook = make_hook()
        hook.get_federation_token(INSTANCE_ID)
        with pytest.raises(exc.UserNotFoundError) as raised:
            hook.get_federation_token(INSTANCE_ID)
    finally:
        logger.removeHandler(shown)
        logger.setLevel(saved)
    # botocore logged the response body at DEBUG; the tokens were masked before it did.
    assert ACCESS_TOKEN in shown.raw_text()
    assert "Response body" in shown.text()
    for text in (str(raised.value), shown.text()):
        assert ACCESS_TOKEN not in text
        assert REFRESH_TOKEN not in text
