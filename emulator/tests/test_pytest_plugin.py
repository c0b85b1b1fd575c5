"""The ``connect_emulator`` fixture: a reset, seeded emulator, so faults repeat from run to run."""

from __future__ import annotations

import random

from botocore.config import Config
from botocore.exceptions import ClientError

from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.counters import FederationCounts

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def outcomes(emulator: ConnectEmulator, calls: int) -> list[str]:
    """Create agent Alice, then call GetFederationToken as her ``calls`` times, once each."""
    instance = emulator.create_instance("plugin-test")
    emulator.create_user(instance["id"], "Alice")
    credentials = emulator.credentials_for("Alice", emulator.create_federation_role())
    connect = emulator.client("connect", config=NO_RETRIES, **credentials)
    seen = []
    for _ in range(calls):
        try:
            connect.get_federation_token(InstanceId=instance["id"])
            seen.append("served")
        except ClientError as error:
            seen.append(error.response["Error"]["Code"])
    return seen


def test_fixture_starts_empty_with_the_default_quota_and_no_faults(connect_emulator: ConnectEmulator) -> None:
    assert connect_emulator.client("connect").list_instances()["InstanceSummaryList"] == []
    assert connect_emulator.counters.totals() == FederationCounts()
    # The default burst of 5, then throttled; no faults.
    assert outcomes(connect_emulator, 6) == ["served"] * 5 + ["ThrottlingException"]


def test_faults_follow_seed_zero_and_repeat_after_reset(connect_emulator: ConnectEmulator) -> None:
    draws = random.Random(0)  # noqa: S311 - the fixture's seed
    expected = ["InternalServiceException" if draws.random() < 0.3 else "served" for _ in range(20)]
    assert expected.count("InternalServiceException") == 3  # a sequence with faults to see

    for _ in range(2):
        connect_emulator.reset()
        connect_emulator.set_quota(requests_per_second=1000.0, burst=1000)
        connect_emulator.set_fault_rate(0.3)
        assert outcomes(connect_emulator, 20) == expected
