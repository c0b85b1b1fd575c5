"""Pacing settings: a bad rate or burst is refused as InvalidInputError, before any AWS call; each
operation's own options and in-process bucket."""

from __future__ import annotations

import pytest

from airflow_connect_fed._client.pacing import (
    GET_FEDERATION_TOKEN,
    SEARCH_USERS,
    configured_pacing,
    process_bucket,
    validate_pacing,
)
from airflow_connect_fed.exceptions import InvalidInputError


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        (0, 5, "requests_per_second must be a finite number > 0 .*, got 0"),
        (-1.5, 5, "got -1.5"),
        ("2", 5, "requests_per_second must be a finite number > 0 .*, got '2'"),
        (float("inf"), 5, "got inf"),
        (float("nan"), 5, "got nan"),
        (True, 5, "got True"),
        (2.0, 0, "burst must be a whole number >= 1 .*, got 0"),
        (2.0, 2.5, "got 2.5"),
    ],
)
def test_bad_values(rate, burst, message):
    with pytest.raises(InvalidInputError, match=message):
        validate_pacing(rate, burst)


def test_a_bad_value_names_the_operation_it_paces():
    with pytest.raises(
        InvalidInputError, match=r"^burst must be a whole number >= 1 \(SearchUsers's is about 5\)"
    ):
        validate_pacing(2.0, 0, SEARCH_USERS)


def test_each_operation_reads_its_own_options(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__REQUESTS_PER_SECOND", "7.5")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__BURST", "3")
    assert configured_pacing(None, None, SEARCH_USERS) == (2.0, 5)
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SEARCH_USERS_REQUESTS_PER_SECOND", "1.5")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SEARCH_USERS_BURST", "2")
    assert configured_pacing(None, None, SEARCH_USERS) == (1.5, 2)
    assert configured_pacing(None, 4, SEARCH_USERS) == (1.5, 4)
    assert configured_pacing(None, None) == (7.5, 3)


def test_a_bad_configured_search_users_option_is_named(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SEARCH_USERS_BURST", "lots")
    with pytest.raises(
        InvalidInputError,
        match=r"^\[connect_federation\] search_users_burst is 'lots', not a whole number; SearchUsers's quota is about 2 "
        r"requests/s, burst 5\.$",
    ):
        configured_pacing(None, None, SEARCH_USERS)


def test_one_bucket_per_operation_account_and_region_in_a_process():
    bucket = process_bucket(SEARCH_USERS, "123456789012", "us-east-1", 2.0, 5)
    assert process_bucket(SEARCH_USERS, "123456789012", "us-east-1", 2, 5) is bucket
    others = [
        process_bucket(GET_FEDERATION_TOKEN, "123456789012", "us-east-1", 2.0, 5),
        process_bucket(SEARCH_USERS, "210987654321", "us-east-1", 2.0, 5),
        process_bucket(SEARCH_USERS, "123456789012", "eu-west-2", 2.0, 5),
        process_bucket(SEARCH_USERS, "123456789012", "us-east-1", 1.0, 5),
    ]
    assert len({id(other) for other in [bucket, *others]}) == 5
    assert (bucket.rate, bucket.burst) == (2.0, 5)
