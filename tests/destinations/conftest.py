"""Destinations against moto: a token to store and helpers shared by the destination tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from airflow_connect_fed.token import FederationToken
from tests.federation_answers import ACCESS_TOKEN, REFRESH_TOKEN, success_body

SM_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def aws():
    with mock_aws():
        yield


def token(user: str = "agent-1") -> FederationToken:
    return FederationToken.from_dict(success_body(user=user, expires_at=EXPIRES))


def refuse(client, operation: str, code: str = "AccessDeniedException") -> None:
    """Make ``operation`` fail on ``client`` as AWS would when IAM denies it."""
    from botocore.exceptions import ClientError

    def deny(**_):
        raise ClientError({"Error": {"Code": code, "Message": "not authorized"}}, operation)

    client.meta.events.register(f"before-call.*.{operation}", lambda **kw: deny())


def no_token_in(value) -> bool:
    text = json.dumps(value)
    return ACCESS_TOKEN not in text and REFRESH_TOKEN not in text


TRIALS = 20


def racer_token(writer: int) -> FederationToken:
    """Writer ``writer``'s token of ``agent.one@example.com``: each writer's is told apart by its user id."""
    return FederationToken.from_dict(success_body(user=f"writer-{writer}", expires_at=EXPIRES))


def write_first(
    kind: str, endpoint_url: str, credentials: dict, names: list[str], writer: int, barrier
) -> list:
    """Write ``writer``'s token under each of ``names`` (new keys), each write started with the other
    writer's at ``barrier``; return ``(name, error or None)`` for each. Runs in a thread or a process."""
    import boto3

    from airflow_connect_fed.destinations import DESTINATIONS

    service = "secretsmanager" if kind == "secrets_manager" else "ssm"
    client = boto3.client(service, endpoint_url=endpoint_url, region_name="us-east-1", **credentials)
    outcomes = []
    for name in names:
        destination = DESTINATIONS[kind](name, aws_conn_id=None, client=client)
        barrier.wait(timeout=60)
        try:
            destination.write(racer_token(writer), "agent.one@example.com")
        except Exception as error:  # the test reports what failed
            outcomes.append((name, f"{type(error).__name__}: {error}"))
        else:
            outcomes.append((name, None))
    return outcomes


def _process_writer(kind, endpoint_url, credentials, names, writer, barrier, queue) -> None:
    queue.put((writer, write_first(kind, endpoint_url, credentials, names, writer, barrier)))


def race_threads(kind: str, endpoint_url: str, credentials: dict, names: list[str]) -> list:
    """Two threads writing each of ``names`` at once; every outcome of both."""
    import threading

    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(writer: int) -> None:
        outcomes[writer] = write_first(kind, endpoint_url, credentials, names, writer, barrier)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes[0] + outcomes[1]


def race_processes(kind: str, endpoint_url: str, credentials: dict, names: list[str]) -> list:
    """Two processes (spawned: nothing shared) writing each of ``names`` at once; every outcome of both."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    queue = context.Queue()
    processes = [
        context.Process(
            target=_process_writer, args=(kind, endpoint_url, credentials, names, writer, barrier, queue)
        )
        for writer in (0, 1)
    ]
    for process in processes:
        process.start()
    outcomes = [outcome for _ in processes for outcome in queue.get(timeout=300)[1]]
    for process in processes:
        process.join(timeout=60)
    return outcomes
