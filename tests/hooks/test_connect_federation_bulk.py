"""get_federation_tokens over real HTTP against the emulator: pacing, per-user errors, faults."""

from __future__ import annotations

import time

import pytest

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.token import FederationToken

pytestmark = pytest.mark.integration


@pytest.fixture
def agents(connect_emulator, emu_connection, monkeypatch):
    instance = connect_emulator.create_instance("bulk")
    role_arn = connect_emulator.create_federation_role()
    users = [f"agent-{i:03d}" for i in range(30)]
    for user in users:
        connect_emulator.create_user(instance["id"], user)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0.01)
    return connect_emulator, instance, role_arn, users


def fetch(instance, users, role_arn, **kwargs):
    return ConnectFederationHook(aws_conn_id="emu").get_federation_tokens(
        instance["id"], users, role_arn=role_arn, **kwargs
    )


def test_every_user_gets_their_own_token_paced_to_the_quota(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_quota(20, 5)
    started = time.monotonic()
    # A client burst under the emulator's leaves it slack for requests that arrive bunched.
    results = fetch(instance, users, role_arn, requests_per_second=20, burst=3)
    elapsed = time.monotonic() - started
    assert list(results) == users
    assert all(isinstance(token, FederationToken) for token in results.values())
    assert len({token.user_arn for token in results.values()}) == len(users)
    assert len({token.access_token for token in results.values()}) == len(users)
    counts = emulator.counters.totals()
    assert counts.succeeded == len(users)
    # Threads may still deliver a few paced requests bunched together; the retries absorb those 429s.
    assert counts.throttled <= 3
    assert elapsed >= (len(users) - 3) / 20 * 0.95  # the bucket, not luck, kept it under the quota


def test_user_errors_stay_with_that_user(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_quota(100, 50)
    asked = [users[0], "ghost", users[1]]
    results = fetch(instance, asked, role_arn, requests_per_second=100, burst=50)
    assert list(results) == asked
    assert isinstance(results[users[0]], FederationToken)
    assert isinstance(results[users[1]], FederationToken)
    assert isinstance(results["ghost"], exc.UserNotFoundError)
    assert "assumed-role session 'ghost'" in str(results["ghost"])


@pytest.mark.parametrize(
    ("asked", "error"),
    [
        (["agent-000", "bad name"], "connect_user 'bad name' cannot be an STS role session name"),
        (["agent-000", "agent-001", "agent-000"], "names 'agent-000' more than once"),
        (["agent-000", 7], "connect_user 7 cannot be an STS role session name"),
        ([], "connect_users is empty"),
    ],
)
def test_bad_user_lists_are_refused_before_any_call(agents, asked, error):
    emulator, instance, role_arn, _ = agents
    with pytest.raises(exc.InvalidConnectUserError, match=error):
        fetch(instance, asked, role_arn)
    assert emulator.counters.totals().received == 0


def test_each_token_is_handed_over_as_it_arrives(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_quota(100, 50)
    seen = []

    def on_token(user, token):
        # Called before the batch ends: the emulator has not answered every user yet.
        seen.append((user, token.user_id, emulator.counters.totals().succeeded))
        if user == users[1]:
            raise exc.DestinationWriteError(f"cannot store {user}")

    results = fetch(instance, users[:6], role_arn, requests_per_second=4, burst=1, on_token=on_token)
    assert sorted(user for user, _, _ in seen) == sorted(users[:6])
    assert min(done for _, _, done in seen) < 6
    assert isinstance(results[users[1]], exc.DestinationWriteError)
    assert all(isinstance(results[user], FederationToken) for user in users[:6] if user != users[1])


def test_faults_and_throttling_are_absorbed(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_fault_rate(0.2)
    emulator.set_quota(20, 2)  # tighter burst than the client's: some 429s
    results = fetch(instance, users, role_arn, requests_per_second=20, burst=5)
    failed = {user: repr(r) for user, r in results.items() if not isinstance(r, FederationToken)}
    assert failed == {}
    counts = emulator.counters.totals()
    assert counts.succeeded == len(users)
    assert counts.faulted > 0
    assert counts.throttled > 0
    assert counts.received <= 5 * len(users)


def test_retries_per_user_are_bounded(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_fault_rate(1.0)
    emulator.set_quota(100, 50)
    results = fetch(instance, users[:2], role_arn, requests_per_second=100, burst=50)
    assert all(isinstance(error, exc.InternalServiceError) for error in results.values())
    assert emulator.counters.totals().received == 2 * 5


def test_each_users_tokens_are_masked_and_sent_to_the_supervisor_as_they_arrive(agents, monkeypatch):
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import MaskSecret

    from tests.masker import redact

    sent: list[list[str]] = []

    class Comms:
        def send(self, message):
            if isinstance(message, MaskSecret):
                sent.append(message.value)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    emulator, instance, role_arn, users = agents
    emulator.set_quota(100, 50)
    results = fetch(instance, [*users[:3], "ghost"], role_arn, requests_per_second=100, burst=50)
    tokens = [t for t in results.values() if isinstance(t, FederationToken)]
    text = " ".join(f"{t.access_token} {t.refresh_token}" for t in tokens)
    assert redact(text) == " ".join(["***"] * 6)
    pairs = [[t.access_token, t.refresh_token] for t in tokens]
    token_messages = [value for value in sent if value in pairs]
    assert len(token_messages) == 3
    assert sorted(token_messages) == sorted(pairs)


@pytest.mark.parametrize(
    ("users", "role_arn", "error"),
    [
        ("agent-1", "arn:aws:iam::123456789012:role/R", "must be a list of Connect usernames, got str"),
        (["agent-1"], None, "connect_users needs role_arn"),
        (["agent-1"], "arn:aws:iam::1234:role/R", "a 12-digit account"),
        (["agent-1"], "arn:aws:sts::123456789012:role/R", "the iam service"),
        (["agent-1"], "arn:aws:iam::123456789012:role/", "a role name of 1 to 64"),
    ],
)
def test_bad_arguments(users, role_arn, error):
    with pytest.raises(exc.InvalidConnectUserError, match=error):
        ConnectFederationHook(aws_conn_id=None).get_federation_tokens("i-1", users, role_arn=role_arn)


def test_bad_pacing():
    with pytest.raises(exc.InvalidInputError, match="requests_per_second must be a finite number > 0"):
        ConnectFederationHook(aws_conn_id=None).get_federation_tokens(
            "i-1", ["agent-1"], role_arn="arn:aws:iam::123456789012:role/R", requests_per_second=0
        )
