from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from airflow_connect_fed._client.aws_error import AwsAnswer, describe, evidence

TOKEN = "TOKEN-VALUE-0123456789"


def client_error(message: str = " no user ", request_id: str | None = "req-123") -> ClientError:
    metadata = {"HTTPStatusCode": 404, **({"RequestId": request_id} if request_id else {})}
    return ClientError(
        {"Error": {"Code": "UserNotFoundException", "Message": message}, "ResponseMetadata": metadata},
        "GetFederationToken",
    )


def test_code_message_status_and_request_id():
    assert AwsAnswer.of(client_error()) == AwsAnswer("UserNotFoundException", "no user", 404, "req-123")
    assert AwsAnswer.of(client_error()).label == "UserNotFoundException (HTTP 404, RequestId req-123)"


def test_an_answer_without_details():
    answer = AwsAnswer.of(ClientError({}, "GetFederationToken"))
    assert answer == AwsAnswer("Unknown", "", None, None)
    assert answer.label == "Unknown"


def test_no_request_id_leaves_it_out():
    assert AwsAnswer.of(client_error(request_id=None)).label == "UserNotFoundException (HTTP 404)"


def test_describe_redacts_the_secrets_it_is_given():
    error = client_error(f"Value '{TOKEN}' at 'secretString' failed")
    assert describe(error, [TOKEN]) == (
        "UserNotFoundException (HTTP 404, RequestId req-123): Value '***' at 'secretString' failed"
    )
    assert describe(ValueError(f"bad {TOKEN}"), [TOKEN]) == "ValueError: bad ***"


def test_evidence_is_the_error_itself_when_it_shows_no_secret():
    error = client_error()
    assert evidence(error, [TOKEN]) is error


def test_evidence_is_a_redacted_copy_of_the_same_class_when_aws_echoed_a_secret():
    class ValidationException(ClientError):
        pass

    error = ValidationException(
        {
            "Error": {"Code": "ValidationException", "Message": f"Value '{TOKEN}' is too long"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "req-9"},
        },
        "PutSecretValue",
    )
    cause = evidence(error, [TOKEN])
    assert type(cause) is ValidationException
    assert TOKEN not in str(cause)
    assert TOKEN not in repr(cause.response)
    assert cause.response["ResponseMetadata"]["RequestId"] == "req-9"
    assert "Value '***' is too long" in str(cause)
    assert TOKEN in str(error)  # botocore's own error is left as it was


@pytest.mark.parametrize("secrets", [[TOKEN], [TOKEN, ""]])
def test_a_botocore_error_showing_a_secret_is_not_chained(secrets):
    error = ParamValidationError(report=f"Invalid length for parameter SecretString, value: {TOKEN}")
    assert evidence(error, secrets) is None
