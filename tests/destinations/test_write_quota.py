"""The stores' write quotas: configured pacing, and every write request of a paced block taking a permit (moto)."""

from __future__ import annotations

import boto3
import pytest

from airflow_connect_fed._client.token_bucket import SECRETS_MANAGER_WRITES, SSM_WRITES, TokenBucket
from airflow_connect_fed.destinations import (
    SecretsManagerDestination,
    XComDestination,
    write_quota,
)
from airflow_connect_fed.destinations.write_quota import configured_write_pacing, paced_writes
from airflow_connect_fed.exceptions import InvalidInputError
from tests.destinations.conftest import token

ACCOUNT = "123456789012"


def test_defaults_are_awss_documented_quotas():
    assert configured_write_pacing(SECRETS_MANAGER_WRITES) == (50.0, 50)
    assert configured_write_pacing(SSM_WRITES) == (3.0, 3)


def test_the_options_set_each_stores_pace(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_PER_SECOND", "20")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SECRETSMANAGER_WRITES_BURST", "4")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SSM_WRITES_PER_SECOND", "10.5")
    assert configured_write_pacing(SECRETS_MANAGER_WRITES) == (20.0, 4)
    assert configured_write_pacing(SSM_WRITES) == (10.5, 3)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "SECRETSMANAGER_WRITES_PER_SECOND",
            "fast",
            r"secretsmanager_writes_per_second is 'fast', not a number",
        ),
        ("SSM_WRITES_BURST", "2.5", r"ssm_writes_burst is '2.5', not a whole number"),
        ("SECRETSMANAGER_WRITES_PER_SECOND", "0", r"requests_per_second must be a finite number > 0"),
    ],
)
def test_bad_options_are_refused_naming_them(monkeypatch, option, value, message):
    monkeypatch.setenv(f"AIRFLOW__CONNECT_FEDERATION__{option}", value)
    quota = SSM_WRITES if option.startswith("SSM") else SECRETS_MANAGER_WRITES
    with pytest.raises(InvalidInputError, match=message):
        configured_write_pacing(quota)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class CountingBucket(TokenBucket):
    """A bucket on a fake clock that counts its permits, drains and recoveries."""

    def __init__(self, clock: FakeClock, rate: float = 50.0, burst: int = 50) -> None:
        super().__init__(rate, burst, clock=clock.time, sleep=clock.sleep)
        self.permits = self.drains = self.recoveries = 0

    def acquire(self):
        self.permits += 1
        return super().acquire()

    def drain(self) -> None:
        self.drains += 1
        super().drain()

    def recover(self, permit=None) -> None:
        self.recoveries += 1
        super().recover(permit)


@pytest.fixture
def buckets(monkeypatch):
    """The buckets paced_writes makes, each a CountingBucket on one fake clock, by operation."""
    clock = FakeClock()
    made: dict[str, CountingBucket] = {}

    def bucket(quota, account, region, rate, burst):
        assert (account, region) == (ACCOUNT, "us-east-1")
        return made.setdefault(quota.operation, CountingBucket(clock, rate, burst))

    monkeypatch.setattr(write_quota, "process_bucket", bucket)
    made["clock"] = clock  # type: ignore[assignment]
    return made


def test_every_write_request_takes_a_permit_at_the_stores_pace(buckets):
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    users = [f"agent.{n}@example.com" for n in range(120)]
    destinations = [
        SecretsManagerDestination(f"connect/{n}", aws_conn_id=None, client=secrets) for n in range(120)
    ]
    with paced_writes([*destinations, XComDestination()], ACCOUNT):
        for destination, user in zip(destinations, users, strict=True):
            destination.write(token(), user)
        destinations[0].write(token(), users[0])  # a new version: one PutSecretValue
    bucket = buckets["PutSecretValue"]
    # Each new secret: PutSecretValue (not found), then CreateSecret; all one quota's permits.
    assert bucket.permits == 2 * 120 + 1
    assert bucket.recoveries == bucket.permits
    assert bucket.drains == 0
    assert buckets["clock"].now == pytest.approx((bucket.permits - 50) / 50)  # burst, then 50/s
    destinations[1].write(token(), users[1])  # after the block: not paced
    assert bucket.permits == 2 * 120 + 1


@pytest.mark.integration
def test_with_a_shared_quota_the_writes_take_permits_under_their_own_redis_key(monkeypatch):
    from airflow_connect_fed._client.shared_quota import redis_client
    from tests.e2e.servers import RedisServer

    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    destinations = [
        SecretsManagerDestination(f"connect/{n}", aws_conn_id=None, client=secrets) for n in range(3)
    ]
    with RedisServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_CONNECT_QUOTA", server.url())
        with paced_writes(destinations, ACCOUNT, "connect_quota"):
            for n, destination in enumerate(destinations):
                destination.write(token(), f"agent.{n}@example.com")
        redis = redis_client("connect_quota")
        key = f"airflow-connect-fed:quota:PutSecretValue:{ACCOUNT}:us-east-1"
        bucket = redis.hgetall(key)
        assert all(name.decode().startswith(key) for name in redis.keys("*"))  # no other quota's key
    # 6 permits (PutSecretValue, CreateSecret per new secret) out of a full bucket of 50, refilling meanwhile.
    assert 44 <= float(bucket[b"tokens"]) < 50
