"""Pacing settings: a bad rate or burst is refused as InvalidInputError, before any AWS call."""

from __future__ import annotations

import pytest

from airflow_connect_fed._client.pacing import validate_pacing
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
