"""moto's backends under the threaded server: a lock per service group, every lock for the rest.

The stress test is the issue's measurement: 16 threads writing Secrets Manager against 12,000 stored
secrets made moto fail with HTTP 500 ("dictionary changed size during iteration") without the locks."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from amazon_connect_emulator.secrets_store import indexed_backend
from amazon_connect_emulator.service_locks import ServiceLocks

if TYPE_CHECKING:
    from collections.abc import Callable

    from amazon_connect_emulator import ConnectEmulator

ACCOUNT = "123456789012"  # the root's account
THREADS = 16
STORED = 12_000
ROUNDS = 40  # per thread, 4 requests each


def held_elsewhere(locks: ServiceLocks, service: str | None) -> bool:
    """Whether another thread holds ``service``'s lock (so this thread cannot take it at once)."""
    taken: list[bool] = []

    def probe() -> None:
        with locks.hold_all() if service == "*" else locks.hold(service):
            taken.append(True)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(0.2)
    return not taken


def test_services_of_a_group_share_a_lock_and_other_groups_do_not() -> None:
    locks = ServiceLocks()
    with locks.hold("secretsmanager"):
        assert held_elsewhere(locks, "ssm")
        assert not held_elsewhere(locks, "connect")
        assert not held_elsewhere(locks, "sts")


def test_a_service_of_no_group_and_an_unsigned_request_hold_every_lock() -> None:
    locks = ServiceLocks()
    for service in ("kms", None):
        with locks.hold(service):
            assert held_elsewhere(locks, "secretsmanager")
            assert held_elsewhere(locks, "connect")
            assert held_elsewhere(locks, "iam")


def test_a_holder_may_take_its_lock_again() -> None:
    locks = ServiceLocks()
    with locks.hold("sts"), locks.hold("iam"), locks.hold_all():
        pass


def seed_secrets(region: str, count: int) -> None:
    """``count`` secrets stored at once through moto's backend, as CreateSecret would store them."""
    backend = indexed_backend(ACCOUNT, region)
    for i in range(count):
        backend.create_secret(
            name=f"connect/agents/stored.{i}@example.com",
            secret_string='{"AccessToken": "stored"}',
            secret_binary=None,
            description=None,
            tags=None,
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )


def status_of(call: Callable[..., Any], **request: Any) -> int:
    """The HTTP status of one call, answered or refused (no retries)."""
    try:
        response = call(**request)
    except ClientError as error:
        response = error.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.mark.integration
@pytest.mark.stress
def test_many_threads_writing_against_a_large_store_get_no_500(connect_emulator: ConnectEmulator) -> None:
    connect_emulator.set_secretsmanager_write_quota(1e6, 1_000_000)  # the quota is not under test here
    seed_secrets(connect_emulator.region, STORED)
    config = Config(retries={"total_max_attempts": 1}, max_pool_connections=THREADS)
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = connect_emulator.client("secretsmanager", config=config)
        for i in range(ROUNDS):
            stored = f"connect/agents/stored.{(n * ROUNDS + i) % STORED}@example.com"
            new = f"connect/agents/agent.{n}.{i}@example.com"
            statuses = [
                status_of(client.create_secret, Name=new, SecretString='{"AccessToken": "new"}'),
                status_of(
                    client.put_secret_value, SecretId=stored, SecretString=f'{{"AccessToken": "{n}.{i}"}}'
                ),
                status_of(client.get_secret_value, SecretId=new),
                status_of(client.list_secrets, MaxResults=5, Filters=[{"Key": "name", "Values": [new]}]),
            ]
            with lock:
                answers.update(statuses)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))

    assert answers == {200: THREADS * ROUNDS * 4}
    secrets = connect_emulator.client("secretsmanager")
    assert secrets.get_secret_value(SecretId="connect/agents/agent.15.39@example.com")["SecretString"] == (
        '{"AccessToken": "new"}'
    )
