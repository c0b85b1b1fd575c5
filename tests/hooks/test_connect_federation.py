"""ConnectFederationHook: answer and error translation with botocore's Stubber (STS on moto); what needs
botocore's whole pipeline (requests sent, retries, signing, the Connect user an identity maps to) over
HTTP against the emulator."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from tests.federation_answers import ACCESS_TOKEN, ACCOUNT, INSTANCE_ID, REFRESH_TOKEN, success_body

INSTANCE_ARN = f"arn:aws:connect:eu-west-2:{ACCOUNT}:instance/{INSTANCE_ID}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ConnectFederation"


def make_hook(**kwargs) -> ConnectFederationHook:
    kwargs.setdefault("region_name", "us-east-1")
    return ConnectFederationHook(aws_conn_id=None, **kwargs)


def emu_hook(**kwargs) -> ConnectFederationHook:
    """A hook on connection ``emu``: IAM user ``airflow-worker`` with every service on the emulator."""
    kwargs.setdefault("region_name", "us-east-1")
    return ConnectFederationHook(aws_conn_id="emu", **kwargs)


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

    def test_arn_is_called_by_id_in_its_region(self, connect_emulator, emu_connection):
        from amazon_connect_emulator.seed import seed

        # The instance exists in eu-west-2 only; connection emu's own region is us-east-1.
        seed(
            connect_emulator.endpoint_url,
            region="eu-west-2",
            instance_id=INSTANCE_ID,
            users=["airflow-worker"],
        )
        connect_emulator.counters.reset()
        token = ConnectFederationHook(aws_conn_id="emu").get_federation_token(INSTANCE_ARN)
        # One request, signed for eu-west-2 (the emulator routes on the SigV4 scope, as AWS on the host),
        # naming the instance by id: the ARN itself would be ResourceNotFoundException.
        assert connect_emulator.counters.totals().received == 1
        assert connect_emulator.counters.for_instance(INSTANCE_ID).succeeded == 1
        assert token.user_arn.startswith(f"{INSTANCE_ARN}/agent/")
        assert token.instance_id == INSTANCE_ID

    def test_arn_region_must_match_explicit_region(self, emu_instance):
        with pytest.raises(exc.InvalidInstanceIdError, match="'eu-west-2' but region_name is 'us-east-1'"):
            emu_hook(region_name="us-east-1").get_federation_token(INSTANCE_ARN)
        assert emu_instance.counters.requests() == 0

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
    def test_bad_instance_id_fails_before_any_call(self, emu_instance, instance_id, message):
        with pytest.raises(exc.InvalidInstanceIdError, match=message) as raised:
            emu_hook().get_federation_token(instance_id)
        assert isinstance(raised.value, ValueError)
        assert emu_instance.counters.requests() == 0

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
    def test_bad_connect_user_fails_before_any_call(self, emu_instance, user, message):
        with pytest.raises(exc.InvalidConnectUserError, match=message):
            emu_hook().get_federation_token(INSTANCE_ID, connect_user=user, role_arn=ROLE_ARN)
        assert emu_instance.counters.requests() == 0

    def test_connect_user_needs_role_arn(self, emu_instance):
        with pytest.raises(exc.InvalidConnectUserError, match=r"'agent-1' needs role_arn.*got role_arn=None"):
            emu_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1")
        assert emu_instance.counters.requests() == 0

    def test_role_arn_needs_connect_user(self, emu_instance):
        with pytest.raises(exc.InvalidConnectUserError, match="without connect_user"):
            emu_hook().get_federation_token(INSTANCE_ID, role_arn=ROLE_ARN)
        assert emu_instance.counters.requests() == 0


class TestConnectUser:
    def test_assumes_role_with_the_username_as_session_name(self, emu_instance):
        agent = emu_instance.create_user(INSTANCE_ID, "Agent.One")
        token = emu_hook().get_federation_token(INSTANCE_ID, connect_user="Agent.One", role_arn=ROLE_ARN)
        # The Connect call is signed with the assumed-role session Agent.One, not the caller's own key:
        # that key's identity is the IAM user airflow-worker, whose Connect user exists too.
        assert (token.user_arn, token.user_id) == (agent["arn"], agent["id"])
        assert token.access_token
        assert emu_instance.counters.requests("sts") == 1  # the AssumeRole
        assert emu_instance.counters.totals().succeeded == 1

    def test_assume_role_failure_names_role_and_user(self, emu_instance):
        from moto.core import enable_iam_authentication

        # moto checks IAM policies while enabled: airflow-worker has none allowing sts:AssumeRole.
        with enable_iam_authentication(), pytest.raises(exc.AssumeRoleError) as raised:
            emu_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1", role_arn=ROLE_ARN)
        message = str(raised.value)
        assert ROLE_ARN in message
        assert "Connect user 'agent-1'" in message
        assert re.search(
            # moto's IAM refusal carries no request id; the label leaves out what AWS did not send.
            r"AccessDenied \(HTTP 403(, RequestId [\w-]+)?\): "
            rf"User: arn:aws:iam::{ACCOUNT}:user/airflow-worker is not authorized to perform: sts:AssumeRole\. Check",
            message,
        )
        assert isinstance(raised.value.__cause__, ClientError)
        assert raised.value.request_id == raised.value.__cause__.response["ResponseMetadata"].get("RequestId")
        assert "trust policy" in message
        assert raised.value.status_code == 403
        assert emu_instance.counters.requests("sts") == 1
        assert emu_instance.counters.requests("connect") == 0

    def test_a_root_connection_is_told_to_use_an_iam_identity(self, emu_instance, monkeypatch):
        root_connection(emu_instance, monkeypatch)
        with pytest.raises(exc.AssumeRoleError) as raised:
            emu_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1", role_arn=ROLE_ARN)
        assert re.search(
            r"AccessDenied \(HTTP 403, RequestId [\w-]+\): Roles may not be assumed by root accounts\. Give the "
            r"connection an IAM user's or role's keys",
            str(raised.value),
        )
        assert raised.value.status_code == 403
        assert emu_instance.counters.requests("connect") == 0


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


def no_backoff(monkeypatch, then=None, at_retry=0):
    """botocore's retry backoff without the wait; ``then()`` runs when the ``at_retry``-th retry is due."""
    retries = []

    def delay_amount(self, context):
        retries.append(context.attempt_number)
        if then is not None and len(retries) == at_retry:
            then()
        return 0

    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", delay_amount)


def root_connection(emulator, monkeypatch):
    """Connection ``emu`` as the emulator's account root."""
    for name, value in emulator.airflow_env("emu").items():
        monkeypatch.setenv(name, value)


class TestRetries:
    """botocore's retry handler on the emulator's real 429s and 500s (Stubber would bypass it)."""

    @pytest.mark.parametrize(
        ("status", "code", "outcome"),
        [(500, "InternalServiceException", "faulted"), (429, "ThrottlingException", "throttled")],
    )
    def test_transient_errors_are_retried_then_succeed(
        self, emu_instance, status, code, outcome, monkeypatch
    ):
        hook = emu_hook()
        if code == "ThrottlingException":
            emu_instance.set_quota(0.01, 1)
            hook.get_federation_token(INSTANCE_ID)  # the account's one request for the next 100 s
            emu_instance.counters.reset()
            recover = partial(emu_instance.set_quota, 200, 50)
        else:
            emu_instance.set_fault_rate(1.0)
            recover = partial(emu_instance.set_fault_rate, 0.0)
        no_backoff(monkeypatch, then=recover, at_retry=2)  # two failed attempts, then Connect answers
        token = hook.get_federation_token(INSTANCE_ID)
        assert token.user_arn.startswith(f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/{INSTANCE_ID}/agent/")
        assert token.access_token
        counts = emu_instance.counters.totals()
        assert counts.received == 3
        assert (getattr(counts, outcome), counts.succeeded) == (2, 1)

    def test_retries_are_bounded(self, emu_instance, monkeypatch):
        no_backoff(monkeypatch)
        emu_instance.set_fault_rate(1.0)
        with pytest.raises(exc.InternalServiceError, match="after 5 attempts") as raised:
            emu_hook().get_federation_token(INSTANCE_ID)
        assert emu_instance.counters.totals().received == 5
        assert emu_instance.counters.totals().faulted == 5
        assert raised.value.status_code == 500

    def test_configured_retries_are_what_the_client_does(self, emu_instance, monkeypatch):
        no_backoff(monkeypatch)
        emu_instance.set_fault_rate(1.0)
        hook = emu_hook(config={"retries": {"mode": "standard", "total_max_attempts": 2}})
        with pytest.raises(exc.InternalServiceError, match="after 2 attempts"):
            hook.get_federation_token(INSTANCE_ID)
        assert emu_instance.counters.totals().faulted == 2

    @pytest.mark.parametrize(
        ("status", "code"),
        [
            (400, "InvalidRequestException"),
            (404, "ResourceNotFoundException"),
            (404, "UserNotFoundException"),
            (409, "DuplicateResourceException"),
        ],
    )
    def test_client_errors_are_not_retried(self, emu_instance, monkeypatch, status, code):
        instance_id, kwargs = INSTANCE_ID, {}
        if code == "InvalidRequestException":  # Connect's answer to the account root
            root_connection(emu_instance, monkeypatch)
        elif code == "ResourceNotFoundException":
            instance_id = "00000000-0000-0000-0000-000000000000"
        elif code == "UserNotFoundException":
            kwargs = {"connect_user": "nobody-here", "role_arn": ROLE_ARN}
        else:  # agent-1 federated through another role first, and Connect keeps that binding
            other_role = emu_instance.create_federation_role("OtherFederation")
            emu_hook().get_federation_token(INSTANCE_ID, connect_user="agent-1", role_arn=other_role)
            emu_instance.counters.reset()
            kwargs = {"connect_user": "agent-1", "role_arn": ROLE_ARN}
        no_backoff(monkeypatch)
        with pytest.raises(exc.ConnectApiError) as raised:
            emu_hook().get_federation_token(instance_id, **kwargs)
        assert (raised.value.error_code, raised.value.status_code) == (code, status)
        counts = emu_instance.counters.totals()
        assert (counts.received, counts.rejected) == (1, 1)


class TestConnection:
    def test_ok_for_an_iam_identity(self):
        with mock_aws():
            ok, message = make_hook().test_connection()
        assert ok is True
        assert message.startswith("Connected as arn:aws:")

    def test_root_is_a_failure(self, connect_emulator, monkeypatch):
        root_connection(connect_emulator, monkeypatch)
        ok, message = emu_hook().test_connection()
        assert ok is False
        assert "account root" in message
        assert "IAM user or role" in message

    def test_unreachable_identity_is_a_failure(self, monkeypatch):
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        ok, message = make_hook().test_connection()
        assert ok is False
        assert "Unable to locate credentials" in message


def test_no_token_in_error_messages_or_debug_logs(emu_instance):
    from tests._client.test_sensitive import Shown

    no_users = emu_instance.create_instance("no-users")
    shown = Shown()
    logger = logging.getLogger("botocore")
    saved = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(shown)
    try:
        hook = emu_hook()
        token = hook.get_federation_token(INSTANCE_ID)
        with pytest.raises(exc.UserNotFoundError) as raised:
            hook.get_federation_token(no_users["id"])
    finally:
        logger.removeHandler(shown)
        logger.setLevel(saved)
    # botocore logged the response body at DEBUG; the tokens were masked before it did.
    assert token.access_token in shown.raw_text()
    assert "Response body" in shown.text()
    for text in (str(raised.value), shown.text()):
        assert token.access_token not in text
        assert token.refresh_token not in text


US_INSTANCE_ARN = f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/{INSTANCE_ID}"


def users_page(*usernames: str, next_token: str | None = None) -> dict:
    """A SearchUsers answer listing ``usernames``, with the other fields a user has."""
    page: dict = {
        "Users": [
            {
                "Id": f"id-{name}",
                "Arn": f"{US_INSTANCE_ARN}/agent/id-{name}",
                "Username": name,
                "RoutingProfileId": "rp-1",
                "SecurityProfileIds": ["sp-1"],
                "IdentityInfo": {"FirstName": "Agent", "LastName": name},
            }
            for name in usernames
        ],
        "ApproximateTotalCount": len(usernames),
    }
    if next_token:
        page["NextToken"] = next_token
    return page


class TestListConnectUsers:
    """SearchUsers' request shape and error translation with Stubber, on the hook's own client. The
    instance is given as an ARN: it names the account whose SearchUsers quota paces the listing."""

    def test_pages_are_followed_and_usernames_sorted_once_each(self):
        hook = make_hook()
        first = {"InstanceId": INSTANCE_ID, "MaxResults": 500}
        with stubbed(hook) as stub:
            stub.add_response(
                "search_users",
                users_page("zoe.agent@example.com", "agent.one@example.com", next_token="page-2"),
                first,
            )
            stub.add_response(
                "search_users",
                users_page("agent.two@example.com", "agent.one@example.com"),
                {**first, "NextToken": "page-2"},
            )
            usernames = hook.list_connect_users(US_INSTANCE_ARN)
            stub.assert_no_pending_responses()
        assert usernames == ["agent.one@example.com", "agent.two@example.com", "zoe.agent@example.com"]

    def test_the_criteria_are_sent_as_search_criteria_and_filter(self):
        hook = make_hook()
        expected = {
            "InstanceId": INSTANCE_ID,
            "MaxResults": 500,
            "SearchCriteria": {
                "AndConditions": [
                    {
                        "OrConditions": [
                            {
                                "StringCondition": {
                                    "FieldName": "RoutingProfileId",
                                    "Value": value,
                                    "ComparisonType": "EXACT",
                                }
                            }
                            for value in ("rp-1", "rp-2")
                        ]
                    },
                    {"HierarchyGroupCondition": {"Value": "hg-1", "HierarchyGroupMatchType": "EXACT"}},
                    {
                        "StringCondition": {
                            "FieldName": "Username",
                            "Value": "agent.",
                            "ComparisonType": "STARTS_WITH",
                        }
                    },
                ]
            },
            "SearchFilter": {"TagFilter": {"TagCondition": {"TagKey": "team", "TagValue": "billing"}}},
        }
        with stubbed(hook) as stub:
            stub.add_response("search_users", users_page("agent.one@example.com"), expected)
            usernames = hook.list_connect_users(
                US_INSTANCE_ARN,
                routing_profile_ids=["rp-1", "rp-2"],
                hierarchy_group_ids=["hg-1"],
                username_prefix="agent.",
                tags={"team": "billing"},
            )
            stub.assert_no_pending_responses()
        assert usernames == ["agent.one@example.com"]

    def test_an_instance_with_no_match_is_an_empty_list(self):
        hook = make_hook()
        with stubbed(hook) as stub:
            stub.add_response("search_users", {"Users": [], "ApproximateTotalCount": 0})
            assert hook.list_connect_users(US_INSTANCE_ARN, security_profile_ids=["sp-9"]) == []

    @pytest.mark.parametrize(
        ("code", "status", "error_class", "advice"),
        [
            (
                "ResourceNotFoundException",
                404,
                exc.InstanceNotFoundError,
                "No such instance in this account and region: check instance_id and region_name.",
            ),
            (
                "AccessDeniedException",
                403,
                exc.AccessDeniedError,
                "Allow connect:SearchUsers on the instance (and its users) in this identity's IAM policy.",
            ),
            (
                "InvalidParameterException",
                400,
                exc.InvalidParameterError,
                "Check the instance ID (1 to 100 characters, as shown in the instance ARN) and the criteria's IDs.",
            ),
            (
                "ThrottlingException",
                429,
                exc.ThrottlingError,
                "Over the SearchUsers quota (about 2 requests/s per account and region)",
            ),
            ("InternalServiceException", 500, exc.InternalServiceError, "Amazon Connect failed internally"),
        ],
    )
    def test_errors_name_searchusers_the_instance_and_the_request_id(self, code, status, error_class, advice):
        hook = make_hook(config={"retries": {"mode": "standard", "max_attempts": 1}})
        with mock_aws(), stubbed(hook) as stub:
            stub.add_client_error(
                "search_users", code, "The service said no.", status, response_meta={"RequestId": "req-4711"}
            )
            with pytest.raises(error_class) as raised:
                hook.list_connect_users(US_INSTANCE_ARN)
        error = raised.value
        message = str(error)
        assert message.startswith(f"SearchUsers for instance {INSTANCE_ID!r} as identity arn:aws:"), message
        assert (
            f"failed with {code} (HTTP {status}, RequestId req-4711): The service said no. {advice}"
            in message
        )
        assert "GetFederationToken" not in message
        assert (error.error_code, error.status_code, error.request_id) == (code, status, "req-4711")
        assert error.instance_id == INSTANCE_ID
        assert isinstance(error.__cause__, ClientError)

    def test_no_credentials(self, monkeypatch):
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        with pytest.raises(
            exc.AwsConnectionError,
            match=rf"Could not call AWS for instance '{INSTANCE_ID}': Unable to locate credentials.*Check the",
        ):
            make_hook().list_connect_users(US_INSTANCE_ARN)

    @pytest.mark.parametrize(
        ("instance_id", "kwargs", "error_class", "message"),
        [
            (US_INSTANCE_ARN, {"routing_profile_ids": "rp-1"}, exc.InvalidInputError, "pass a list"),
            (US_INSTANCE_ARN, {"security_profile_ids": []}, exc.InvalidInputError, "is an empty list"),
            (US_INSTANCE_ARN, {"hierarchy_group_ids": ["hg-1", ""]}, exc.InvalidInputError, "holds ''"),
            (US_INSTANCE_ARN, {"tags": {"team": 1}}, exc.InvalidInputError, r"tags\['team'\] is 1"),
            (US_INSTANCE_ARN, {"tags": {"": "x"}}, exc.InvalidInputError, "tags has the key ''"),
            (US_INSTANCE_ARN, {"username_prefix": " "}, exc.InvalidInputError, "username_prefix ' '"),
            ("abc/def", {}, exc.InvalidInstanceIdError, "instance_id 'abc/def' contains whitespace or '/'"),
            (INSTANCE_ARN, {}, exc.InvalidInstanceIdError, "'eu-west-2' but region_name is 'us-east-1'"),
            (
                US_INSTANCE_ARN,
                {"requests_per_second": 0},
                exc.InvalidInputError,
                r"requests_per_second must be a finite number > 0 \(SearchUsers's quota is about 2 .*got 0",
            ),
            (
                US_INSTANCE_ARN,
                {"burst": 0.5},
                exc.InvalidInputError,
                r"burst must be a whole number >= 1 .*got 0.5",
            ),
        ],
    )
    def test_bad_input_is_refused_before_any_request(self, instance_id, kwargs, error_class, message):
        hook = make_hook()
        with stubbed(hook) as stub:  # no answer queued: a request would fail as unstubbed
            with pytest.raises(error_class, match=message):
                hook.list_connect_users(instance_id, **kwargs)
            stub.assert_no_pending_responses()


class TestGetSessionDurations:
    PROFILE_ID = "a1b2c3d4-0000-0000-0000-000000000001"

    def answer(self, stub: Stubber, summaries: list[dict]) -> None:
        stub.add_response(
            "list_authentication_profiles",
            {"AuthenticationProfileSummaryList": summaries},
            {"InstanceId": INSTANCE_ID},
        )

    def test_reads_the_default_profile(self):
        hook = make_hook()
        other = {"Id": "b-other", "Name": "Contractors", "IsDefault": False}
        default = {"Id": self.PROFILE_ID, "Name": "Default", "IsDefault": True}
        with stubbed(hook) as stub:
            self.answer(stub, [other, default])
            stub.add_response(
                "describe_authentication_profile",
                {
                    "AuthenticationProfile": {
                        "Id": self.PROFILE_ID,
                        "Name": "Default",
                        "PeriodicSessionDuration": 15,
                        "MaxSessionDuration": 480,
                    }
                },
                {"InstanceId": INSTANCE_ID, "AuthenticationProfileId": self.PROFILE_ID},
            )
            durations = hook.get_session_durations(INSTANCE_ID)
            stub.assert_no_pending_responses()
        assert durations.profile_id == self.PROFILE_ID
        assert durations.profile_name == "Default"
        assert durations.access_token == timedelta(minutes=15)
        assert durations.refresh_token == timedelta(hours=8)
        assert durations.advised_schedule.run_every == timedelta(minutes=4)

    def test_access_denied_names_the_operation(self):
        hook = make_hook()
        with stubbed(hook) as stub:
            stub.add_client_error(
                "list_authentication_profiles",
                "AccessDeniedException",
                "User is not authorized to perform connect:ListAuthenticationProfiles",
                403,
            )
            with pytest.raises(exc.AccessDeniedError) as raised:
                hook.get_session_durations(INSTANCE_ID)
        assert str(raised.value).startswith(f"ListAuthenticationProfiles for instance {INSTANCE_ID!r} as ")
        assert raised.value.error_code == "AccessDeniedException"

    def test_no_default_profile_is_an_error_naming_the_count(self):
        hook = make_hook()
        with stubbed(hook) as stub:
            self.answer(stub, [{"Id": "b-other", "Name": "Contractors", "IsDefault": False}])
            with pytest.raises(
                exc.ConnectApiError, match="lists 1 authentication profile\\(s\\) and no default"
            ):
                hook.get_session_durations(INSTANCE_ID)

    def test_a_bad_instance_id_is_refused_before_any_call(self):
        hook = make_hook()
        # The Stubber holds no answer: a request would fail with StubResponseError, not this.
        with stubbed(hook), pytest.raises(exc.InvalidInstanceIdError, match="'not an instance id!'"):
            hook.get_session_durations("not an instance id!")
