from __future__ import annotations

from botocore.exceptions import ClientError

from airflow_connect_fed._client.aws_error import error_parts


def test_code_message_and_status():
    error = ClientError(
        {
            "Error": {"Code": "UserNotFoundException", "Message": " no user "},
            "ResponseMetadata": {"HTTPStatusCode": 404},
        },
        "GetFederationToken",
    )
    assert error_parts(error) == ("UserNotFoundException", "no user", 404)


def test_an_answer_without_details():
    assert error_parts(ClientError({}, "GetFederationToken")) == ("Unknown", "", None)
