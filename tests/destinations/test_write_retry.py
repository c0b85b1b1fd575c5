"""WriteRetry: which store failures are tried again, how long to wait, and when to stop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from airflow_connect_fed.destinations.write_retry import WriteRetry, retryable
from tests.destinations.conftest import EXPIRES, token


def answer(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutSecretValue",
    )


@pytest.mark.parametrize(
    "error",
    [
        answer("InternalServiceError", 500),
        answer("500", 502),
        answer("ThrottlingException", 400),
        answer("TooManyRequestsException", 429),
        answer("TooManyUpdates", 400),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ],
)
def test_server_errors_throttling_and_lost_connections_are_retried(error):
    assert retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        answer("AccessDeniedException", 400),
        answer("ResourceNotFoundException", 400),
        answer("ValidationException", 400),
        NoCredentialsError(),
    ],
)
def test_what_a_new_try_cannot_change_is_not_retried(error):
    assert not retryable(error)


def retry(**kwargs) -> WriteRetry:
    defaults = {"jitter": lambda: 1.0, "now": lambda: EXPIRES - timedelta(hours=1)}
    return WriteRetry(**{**defaults, **kwargs})


def test_the_wait_doubles_up_to_the_cap_with_full_jitter():
    policy = retry(attempts=10, base=1.0, cap=5.0)
    waits = [policy.delay(answer("ThrottlingException", 400), n, token()) for n in range(1, 6)]
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry(jitter=lambda: 0.25).delay(answer("500", 500), 3, token()) == 1.0


def test_a_failure_not_retried_gives_no_reason():
    assert retry().delay(answer("AccessDeniedException", 400), 1, token()) == ""


def test_stops_after_the_attempts():
    reason = retry(attempts=3).delay(answer("500", 500), 3, token())
    assert reason == " The store kept failing; 3 attempts made, the most allowed."


def test_stops_when_the_token_would_expire_while_waiting():
    policy = retry(now=lambda: EXPIRES - timedelta(seconds=0.5))
    reason = policy.delay(answer("ThrottlingException", 400), 1, token())
    assert reason == (
        f" The token expired at {EXPIRES.isoformat()} before it could be stored; the next run gets a new one."
    )
