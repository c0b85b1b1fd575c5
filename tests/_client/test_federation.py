"""FederationClient over real HTTP against the local emulator, through the hook: every error class,
per-agent tokens, bulk pacing, per-user errors, faults."""

from __future__ import annotations

import re
import threading
import time
from contextlib import suppress
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.token import FederationToken
from tests.stats import recording_stats

pytestmark = pytest.mark.integration


@pytest.fixture
def connect(connect_emulator, emu_connection):
    """An instance with agent-1, a federation role, and a connection for an IAM user 'airflow-worker'."""
    instance = connect_emulator.create_instance("hooktest")
    connect_emulator.create_user(instance["id"], "agent-1")
    role_arn = connect_emulator.create_federation_role()
    return connect_emulator, instance, role_arn


def hook(**kwargs) -> ConnectFederationHook:
    return ConnectFederationHook(aws_conn_id="emu", **kwargs)


def test_token_for_a_connect_user(connect):
    emulator, instance, role_arn = connect
    token = hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert token.instance_id == instance["id"]
    assert f"instance/{instance['id']}/agent/" in token.user_arn
    assert token.is_valid()
    # The default authentication profile: 60-minute access tokens, 720-minute refresh tokens.
    assert 59.9 * 60 < token.expires_in().total_seconds() <= 60 * 60
    assert 719.9 * 60 < token.refresh_expires_in().total_seconds() <= 720 * 60
    assert emulator.counters.totals().succeeded == 1


def test_the_tokens_lifetimes_follow_the_instances_authentication_profile(connect, emu_connection):
    emulator, instance, role_arn = connect
    client = emulator.client("connect", **emu_connection)
    (profile,) = client.list_authentication_profiles(InstanceId=instance["id"])[
        "AuthenticationProfileSummaryList"
    ]
    client.update_authentication_profile(
        InstanceId=instance["id"], AuthenticationProfileId=profile["Id"], PeriodicSessionDuration=10
    )
    durations = hook().get_session_durations(instance["id"])
    assert (durations.profile_id, durations.access_token, durations.refresh_token) == (
        profile["Id"],
        timedelta(minutes=10),
        timedelta(minutes=720),
    )
    token = hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert 9.9 * 60 < token.expires_in().total_seconds() <= 10 * 60
    assert 719.9 * 60 < token.refresh_expires_in().total_seconds() <= 720 * 60
    # Eleven minutes on, the refresh token lives for hours more, but the token signs no one in.
    later = token.access_token_expiration + timedelta(minutes=1)
    assert not token.is_valid(now=later)
    assert token.refresh_expires_in(later) > timedelta(hours=11)
    with pytest.raises(exc.InvalidFederationTokenError) as refused:
        token.sign_in_form(now=later)
    assert f"expired at {token.access_token_expiration.isoformat()}" in str(refused.value)
    assert f"its refresh token expires at {token.refresh_token_expiration.isoformat()}" in str(refused.value)
    # boto3 on its own, as the connection's IAM user, gets the same two lifetimes from the same instance.
    emulator.create_user(instance["id"], "airflow-worker")
    answer = emulator.client("connect", **emu_connection).get_federation_token(InstanceId=instance["id"])
    credentials = answer["Credentials"]
    assert abs(credentials["AccessTokenExpiration"] - token.access_token_expiration) < timedelta(seconds=5)
    assert abs(credentials["RefreshTokenExpiration"] - token.refresh_token_expiration) < timedelta(seconds=5)


def test_instance_arn(connect):
    _, instance, role_arn = connect
    token = hook().get_federation_token(instance["arn"], connect_user="agent-1", role_arn=role_arn)
    assert token.instance_id == instance["id"]


def test_iam_user_identity_maps_to_its_own_name(connect):
    emulator, instance, _ = connect
    emulator.create_user(instance["id"], "airflow-worker")
    token = hook().get_federation_token(instance["id"])
    assert token.user_arn.startswith(instance["arn"])


def test_user_not_found_names_the_identity(connect):
    _, instance, _ = connect
    with pytest.raises(exc.UserNotFoundError, match=r"as identity arn:aws:iam::\d+:user/airflow-worker") as e:
        hook().get_federation_token(instance["id"])
    assert e.value.status_code == 404


def test_connect_usernames_are_case_sensitive(connect):
    _, instance, role_arn = connect
    with pytest.raises(exc.UserNotFoundError, match="assumed-role session 'Agent-1'"):
        hook().get_federation_token(instance["id"], connect_user="Agent-1", role_arn=role_arn)


def test_unknown_instance(connect):
    _, _, role_arn = connect
    with pytest.raises(exc.InstanceNotFoundError, match="'00000000-0000-0000-0000-000000000000'"):
        hook().get_federation_token(
            "00000000-0000-0000-0000-000000000000", connect_user="agent-1", role_arn=role_arn
        )


def test_an_aws_answer_keeps_its_request_id_and_botocores_error(connect, emu_connection):
    with pytest.raises(exc.InstanceNotFoundError) as raised:
        hook().get_federation_token("00000000-0000-0000-0000-000000000000")
    error = raised.value
    cause = error.__cause__
    assert isinstance(cause, ClientError)
    request_id = cause.response["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert f"ResourceNotFoundException (HTTP 404, RequestId {request_id})" in str(error)
    assert error.request_id == request_id
    assert (error.error_code, error.status_code) == ("ResourceNotFoundException", 404)
    # The chained answer carries no credential of the caller.
    for shown in (str(error), str(cause), repr(cause.response)):
        assert emu_connection["aws_secret_access_key"] not in shown


def test_duplicate_through_another_role(connect):
    emulator, instance, role_arn = connect
    other_role = emulator.create_federation_role("OtherFederation")
    hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    with pytest.raises(exc.DuplicateResourceError, match="federated before through a different IAM role"):
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=other_role)


def test_root_is_refused(connect, monkeypatch):
    emulator, instance, _ = connect
    root = {"aws_access_key_id": emulator.root_access_key, "aws_secret_access_key": "x"}
    for name, value in emulator.airflow_env("emu", **root).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(exc.RootCredentialsError, match="account root"):
        hook().get_federation_token(instance["id"])


def test_test_connection_refuses_the_root(connect, monkeypatch):
    emulator, _, _ = connect
    root = {"aws_access_key_id": emulator.root_access_key, "aws_secret_access_key": "x"}
    for name, value in emulator.airflow_env("emu", **root).items():
        monkeypatch.setenv(name, value)
    ok, message = hook().test_connection()
    assert ok is False
    assert message.startswith(
        "The connection authenticates as the account root (arn:aws:iam::123456789012:root)."
    )
    assert emulator.counters.totals().received == 0


def test_test_connection_ok(connect):
    ok, message = hook().test_connection()
    assert ok is True
    assert ":user/airflow-worker" in message


def test_throttling_is_retried_then_reported(connect, monkeypatch):
    emulator, instance, role_arn = connect
    stats = recording_stats(monkeypatch)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    emulator.set_quota(0.01, 1)
    hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    with pytest.raises(exc.ThrottlingError, match="after 5 attempts") as e:
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert e.value.status_code == 429
    assert emulator.counters.totals().throttled == 5
    # A single call without a shared quota is not paced, but each of its 429s is counted.
    assert stats.counts().get("throttled") == 5
    assert stats.tags("throttled") == [{"instance_id": instance["id"]}] * 5


def test_internal_errors_are_retried(connect, monkeypatch):
    emulator, instance, role_arn = connect
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    emulator.set_fault_rate(1.0)
    with pytest.raises(exc.InternalServiceError, match="after 5 attempts"):
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert emulator.counters.totals().faulted == 5


class CountingBucket:
    """A bucket that hands out every permit at once and counts what it was asked."""

    def __init__(self) -> None:
        self.acquired = self.settled = 0

    def acquire(self) -> None:
        self.acquired += 1

    def drain(self) -> None:
        self.settled += 1

    def recover(self, permit: object = None) -> None:
        self.settled += 1


def test_threads_pacing_one_client_each_wait_for_their_own_bucket(connect):
    """Calls on one client from many threads (the hook shares its client) each pace every attempt on
    their own bucket: no thread's handlers replace, remove or take another's."""
    from airflow_connect_fed._client.federation import _paced
    from airflow_connect_fed._client.token_bucket import GET_FEDERATION_TOKEN

    emulator, instance, _ = connect
    emulator.set_quota(1000, 1000)
    client = hook().conn
    buckets = [CountingBucket() for _ in range(8)]
    start, sent = threading.Barrier(len(buckets)), threading.Barrier(len(buckets))

    def calls(bucket: CountingBucket) -> None:
        with _paced(client, bucket, GET_FEDERATION_TOKEN):
            start.wait()
            for _ in range(3):
                with suppress(ClientError):  # the connection's identity is no Connect user: answered 404
                    client.get_federation_token(InstanceId=instance["id"])
            sent.wait()  # every thread still inside its block when the others send

    threads = [threading.Thread(target=calls, args=(bucket,)) for bucket in buckets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [(b.acquired, b.settled) for b in buckets] == [(3, 3)] * len(buckets)
    assert emulator.counters.totals().received == 3 * len(buckets)
    with suppress(ClientError):  # outside any block: not paced
        client.get_federation_token(InstanceId=instance["id"])
    assert sum(b.acquired for b in buckets) == 3 * len(buckets)


def test_a_local_connect_endpoint_with_sts_elsewhere_is_warned_about(
    connect_emulator, monkeypatch, log_messages
):
    import json

    credentials = connect_emulator.create_iam_user_credentials("split-endpoints")
    connection = json.loads(connect_emulator.airflow_connection("split", **credentials))
    # Connect on the emulator, STS (no endpoint of its own, no global one) on AWS's.
    del connection["extra"]["endpoint_url"]
    connection["extra"]["service_config"] = {"connect": {"endpoint_url": connect_emulator.endpoint_url}}
    monkeypatch.setenv("AIRFLOW_CONN_SPLIT", json.dumps(connection))
    hook = ConnectFederationHook(aws_conn_id="split")
    hook.federation._warn_if_sts_leaves_a_local_endpoint()
    hook.federation._warn_if_sts_leaves_a_local_endpoint()
    warnings = [m for m in log_messages() if "calls Connect on the local endpoint" in m]
    assert len(warnings) == 1
    assert (
        f"Connection 'split' calls Connect on the local endpoint {connect_emulator.endpoint_url}"
        in warnings[0]
    )
    assert "but STS goes to AWS's own endpoint with the same keys" in warnings[0]
    assert '"service_config": {"sts": {"endpoint_url"' in warnings[0]


def test_the_emulators_own_connection_is_not_warned_about(connect_emulator, emu_connection, log_messages):
    hook = ConnectFederationHook(aws_conn_id="emu")
    hook.caller_arn()
    assert [m for m in log_messages() if "calls Connect on the local endpoint" in m] == []


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
    # A client burst under the emulator's leaves it slack for requests that arrive bunched.
    results = fetch(instance, users, role_arn, requests_per_second=20, burst=3)
    assert list(results) == users
    assert all(isinstance(token, FederationToken) for token in results.values())
    assert len({token.user_arn for token in results.values()}) == len(users)
    assert len({token.access_token for token in results.values()}) == len(users)
    counts = emulator.counters.totals()
    assert counts.succeeded == len(users)
    # Unpaced, 4 threads would send 30 requests at several times the quota and most would be throttled;
    # paced, a few may still arrive bunched together, and the retries absorb those 429s.
    assert counts.throttled <= 3


def paced_fetch(emulator, instance, users, role_arn, rate, burst):
    """Fetch every user's token (each must get one) paced to ``rate``/``burst``: the emulator's totals
    for the fetch and the seconds it took."""
    emulator.counters.reset()
    started = time.monotonic()
    results = fetch(instance, users, role_arn, requests_per_second=rate, burst=burst)
    elapsed = time.monotonic() - started
    assert {user: type(result).__name__ for user, result in results.items()} == dict.fromkeys(
        users, "FederationToken"
    )
    return emulator.counters.totals(), elapsed


def test_paced_one_token_under_the_emulators_burst_nothing_is_throttled(agents):
    """The emulator's own bucket (AWS's model) judges the client's: at its rate, with one token of slack
    in the burst, not one request is throttled, and the fetch takes at least what the pacing implies."""
    emulator, instance, role_arn, users = agents
    emulator.set_quota(10, 5)
    counts, elapsed = paced_fetch(emulator, instance, users, role_arn, rate=10, burst=4)
    assert (counts.throttled, counts.received, counts.succeeded) == (0, len(users), len(users))
    paced = (len(users) - 4) / 10  # 4 at once, then one every 1/10 s: 2.6 s
    assert elapsed >= paced


def test_paced_at_exactly_the_emulators_quota_at_most_one_request_is_throttled(agents):
    """At exactly the quota the first request after the burst can be throttled, and in practice is, once.
    The client takes a token before sending, and the burst's requests, which also open the
    connections, reach the emulator longer after their token than later ones do; so the emulator's
    bucket, started by the first arrival, runs behind the client's by that difference. The 429 drains
    the client's bucket, which then runs behind the emulator's: no second 429, and the time stays the
    pacing's at least."""
    emulator, instance, role_arn, users = agents
    emulator.set_quota(10, 5)
    counts, elapsed = paced_fetch(emulator, instance, users, role_arn, rate=10, burst=5)
    assert counts.throttled <= 1
    assert (counts.received, counts.succeeded) == (len(users) + counts.throttled, len(users))
    paced = (len(users) - 5) / 10  # 5 at once, then one every 1/10 s: 2.5 s
    assert elapsed >= paced


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


def test_faults_and_throttling_are_absorbed_and_counted(agents, monkeypatch):
    emulator, instance, role_arn, users = agents
    stats = recording_stats(monkeypatch)
    # The fixture's emulator is seeded: at 0.3 its 4th, 13th, 16th, 26th and 33rd draws fault, never
    # two in a row, so one thread's retry after a fault is served and the 30 agents meet 5 faults.
    emulator.set_fault_rate(0.3)
    # The client's burst of 5 meets the emulator's 1, so back-to-back requests are throttled; after a
    # 429 the client's drained bucket waits longer than the emulator's takes to refill.
    emulator.set_quota(20, 1)
    results = fetch(instance, users, role_arn, requests_per_second=20, burst=5, max_workers=1)
    failed = {user: repr(r) for user, r in results.items() if not isinstance(r, FederationToken)}
    assert failed == {}
    counts = emulator.counters.totals()
    assert counts.succeeded == len(users)
    assert counts.faulted == 5
    assert counts.throttled > 0
    assert counts.received == len(users) + counts.faulted + counts.throttled
    # Each 429 is a throttled; each attempt (retries included) waited for a permit: a quota_wait.
    tags = {"instance_id": instance["id"]}
    assert stats.counts() == {"throttled": counts.throttled}
    assert stats.tags("throttled") == [tags] * counts.throttled
    assert stats.tags("quota_wait") == [tags] * counts.received
    assert all(seconds >= 0 for kind, _, seconds, _ in stats.calls if kind == "timing")


def test_retries_per_user_are_bounded(agents):
    emulator, instance, role_arn, users = agents
    emulator.set_fault_rate(1.0)
    emulator.set_quota(100, 50)
    results = fetch(instance, users[:2], role_arn, requests_per_second=100, burst=50)
    assert all(isinstance(error, exc.InternalServiceError) for error in results.values())
    assert emulator.counters.totals().received == 2 * 5


def test_each_users_tokens_are_registered_once_as_they_arrive(agents, monkeypatch):
    """One public mask_secret call per agent (which also tells the supervisor in a task), none for a failure."""
    import airflow.sdk.log

    registered: list[list[str]] = []
    original = airflow.sdk.log.mask_secret

    def recording(secret, name=None):
        if isinstance(secret, list):
            registered.append(secret)
        original(secret, name)

    monkeypatch.setattr(airflow.sdk.log, "mask_secret", recording)
    emulator, instance, role_arn, users = agents
    emulator.set_quota(100, 50)
    results = fetch(instance, [*users[:3], "ghost"], role_arn, requests_per_second=100, burst=50)
    tokens = [t for t in results.values() if isinstance(t, FederationToken)]
    assert len(tokens) == 3
    issued = {secret for t in tokens for secret in (t.access_token, t.refresh_token)}
    token_calls = [values for values in registered if issued & set(values)]  # Airflow masks connections too
    assert sorted(token_calls) == sorted([t.access_token, t.refresh_token] for t in tokens)


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


# The roster: SearchUsers as the connection's identity, paced on its own quota.

ONE, TWO, THREE = "agent.one@example.com", "agent.two@example.com", "agent.three@example.com"
FOUR, FIVE = "lead.four@example.com", "agent.five@example.com"


@pytest.fixture
def roster(connect_emulator, emu_connection):
    """An instance of five agents across routing profiles, security profiles, hierarchy groups and tags."""
    instance = connect_emulator.create_instance("roster")
    for username, routing, security, group, tags in [
        (ONE, "rp-sales", ["sp-agent"], "hg-east", {"team": "billing", "site": "leeds"}),
        (TWO, "rp-support", ["sp-agent", "sp-supervisor"], "hg-west", {"team": "billing"}),
        (THREE, "rp-sales", ["sp-supervisor"], "hg-west", {"team": "claims", "site": "leeds"}),
        (FOUR, "rp-support", ["sp-agent"], "hg-east", None),
        (FIVE, "rp-other", ["sp-admin"], None, {"site": "leeds"}),
    ]:
        connect_emulator.create_user(
            instance["id"],
            username,
            routing_profile_id=routing,
            security_profile_ids=security,
            hierarchy_group_id=group,
            tags=tags,
        )
    connect_emulator.counters.reset()
    return connect_emulator, instance


def searches(emulator) -> int:
    return emulator.counters.operation("connect", "SearchUsers")


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, sorted([ONE, TWO, THREE, FOUR, FIVE])),
        ({"routing_profile_ids": ["rp-sales"]}, sorted([ONE, THREE])),
        ({"security_profile_ids": ["sp-supervisor"]}, sorted([TWO, THREE])),
        ({"hierarchy_group_ids": ["hg-east"]}, sorted([ONE, FOUR])),
        ({"tags": {"team": "billing"}}, sorted([ONE, TWO])),
        ({"tags": {"team": "billing", "site": "leeds"}}, [ONE]),
        ({"username_prefix": "agent."}, sorted([ONE, TWO, THREE, FIVE])),
        ({"routing_profile_ids": ["rp-sales", "rp-support"]}, sorted([ONE, TWO, THREE, FOUR])),
        ({"routing_profile_ids": ["rp-sales"], "security_profile_ids": ["sp-agent"]}, [ONE]),
        (
            {
                "security_profile_ids": ["sp-agent", "sp-admin"],
                "tags": {"site": "leeds"},
                "username_prefix": "agent.",
            },
            sorted([ONE, FIVE]),
        ),
        ({"hierarchy_group_ids": ["hg-north"]}, []),
    ],
    ids=[
        "none",
        "routing-profile",
        "security-profile",
        "hierarchy-group",
        "tag",
        "every-tag",
        "username-prefix",
        "or-within-a-list",
        "and-between-criteria",
        "and-of-or-tags-prefix",
        "no-match",
    ],
)
def test_list_connect_users_by_criteria(roster, criteria, expected):
    emulator, instance = roster
    assert hook().list_connect_users(instance["id"], **criteria) == expected
    assert searches(emulator) == 1
    assert emulator.counters.totals().received == 0  # no GetFederationToken


def test_list_connect_users_follows_every_page(connect_emulator, emu_connection):
    instance = connect_emulator.create_instance("pages")
    usernames = [f"agent.{i:04d}@example.com" for i in range(1200)]
    connect_emulator.create_users(instance["id"], reversed(usernames))
    connect_emulator.counters.reset()
    assert hook().list_connect_users(instance["arn"]) == usernames
    assert searches(connect_emulator) == 3  # 500 + 500 + 200


def test_a_deleted_user_is_no_longer_listed(roster):
    emulator, instance = roster
    emulator.delete_user(instance["id"], TWO)
    assert hook().list_connect_users(instance["id"], tags={"team": "billing"}) == [ONE]


def test_list_connect_users_of_an_unknown_instance(connect_emulator, emu_connection):
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(exc.InstanceNotFoundError) as raised:
        hook().list_connect_users(unknown)
    error = raised.value
    request_id = error.__cause__.response["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert error.request_id == request_id
    assert str(error).startswith(
        f"SearchUsers for instance {unknown!r} as identity arn:aws:iam::123456789012:user/airflow-worker failed "
        f"with ResourceNotFoundException (HTTP 404, RequestId {request_id}): "
    )
    assert str(error).endswith(
        "No such instance in this account and region: check instance_id and region_name."
    )
    assert searches(connect_emulator) == 1


def test_listing_is_paced_on_search_users_own_quota(connect_emulator, emu_connection):
    """At the emulator's default quotas (SearchUsers 2/s burst 5, GetFederationToken the same, apart):
    six pages in a row get no 429, and GetFederationToken's bucket is left full for a burst of five."""
    instance = connect_emulator.create_instance("paced")
    role_arn = connect_emulator.create_federation_role()
    usernames = [f"agent.{i:04d}@example.com" for i in range(3000)]
    connect_emulator.create_users(instance["id"], usernames)
    connect_emulator.counters.reset()
    assert hook().list_connect_users(instance["id"]) == usernames
    assert searches(connect_emulator) == 6
    assert connect_emulator.counters.throttled_operation("SearchUsers") == 0
    tokens = fetch(instance, usernames[:5], role_arn, burst=5)
    assert all(isinstance(token, FederationToken) for token in tokens.values())
    assert connect_emulator.counters.totals().throttled == 0
    assert connect_emulator.counters.throttled_operation("GetFederationToken") == 0
