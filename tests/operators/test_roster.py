"""ListConnectUsersOperator and PruneFederationTokensOperator against the emulator, over HTTP.

Tokens are stored as GetFederationTokensOperator stores them, where the task's secrets backend (on the
emulator) reads; what reaches AWS is counted at the emulator by operation.
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.sdk import DAG, Asset

from airflow_connect_fed import load_federation_token, secret_key_for
from airflow_connect_fed.destinations.base import serialize
from airflow_connect_fed.destinations.secrets_manager import DESCRIPTION, INSTANCE_TAG
from airflow_connect_fed.destinations.teams import amazon_team_separator
from airflow_connect_fed.exceptions import (
    InvalidDestinationError,
    InvalidInputError,
    TokenPruneError,
    TokenReadError,
)
from airflow_connect_fed.operators.federation_token import GetFederationTokensOperator
from airflow_connect_fed.operators.roster import ListConnectUsersOperator, PruneFederationTokensOperator
from airflow_connect_fed.token import FederationToken
from tests.federation_answers import success_body
from tests.outlets import OutletEvents
from tests.stats import recording_stats

pytestmark = pytest.mark.integration

SM_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
USERS = [
    "agent+two@example.com",
    "agent.four@example.com",
    "agent.one@example.com",
    "agent.three@example.com",
    "agent_five@example.com",
]
DEPARTED = "agent.three@example.com"
#: A user of the other instance, stored under the same secret_key: never in this instance's keep_users.
OTHER_USER = "agent.six@example.com"
#: A hand-written value under the tokens' prefix, at a valid user's key.
BY_HAND = "agent.seven@example.com"


class Site:
    """The emulator with two instances, their users, the federation role and the task's secrets backend."""

    def __init__(self, emulator, monkeypatch, backend: str) -> None:
        self.emulator = emulator
        self.backend = backend
        emulator.set_quota(200, 50)
        self.instance = emulator.create_instance("roster")["id"]
        self.other = emulator.create_instance("other")["id"]
        self.role = emulator.create_federation_role()
        for user in USERS:
            emulator.create_user(self.instance, user)
        emulator.create_user(self.other, OTHER_USER)
        for name, value in emulator.secrets_backend_env(backend=backend).items():
            monkeypatch.setenv(name, value)
        self.name_prefix = "airflow/variables/" if backend == SM_BACKEND else "/airflow/variables/"

    @property
    def secrets_manager(self) -> bool:
        return self.backend == SM_BACKEND

    def refresh(self, instance: str, users: list[str], context: dict | None = None) -> None:
        """Store each user's token as the bulk operator does (in a task of ``context``)."""
        GetFederationTokensOperator(
            task_id="refresh",
            instance_id=instance,
            connect_users=users,
            role_arn=self.role,
            aws_conn_id="emu",
            requests_per_second=200,
            burst=50,
        ).execute(context or {})

    def write_by_hand(self, user: str, text: str) -> None:
        name = self.name_of(user)
        if self.secrets_manager:
            self.emulator.client("secretsmanager").create_secret(Name=name, SecretString=text)
        else:
            self.emulator.client("ssm").put_parameter(Name=name, Value=text, Type="SecureString")

    def name_of(self, user: str) -> str:
        return self.name_prefix + secret_key_for(user)

    def names(self) -> set[str]:
        """Every secret or parameter name in the store (none scheduled for deletion)."""
        if self.secrets_manager:
            pages = self.emulator.client("secretsmanager").get_paginator("list_secrets").paginate()
            return {secret["Name"] for page in pages for secret in page["SecretList"]}
        pages = self.emulator.client("ssm").get_paginator("describe_parameters").paginate()
        return {parameter["Name"] for page in pages for parameter in page["Parameters"]}

    def prune(self, context: dict | None = None, **kwargs) -> list[str]:
        kwargs.setdefault("instance_id", self.instance)
        self.emulator.counters.reset()
        try:
            return PruneFederationTokensOperator(task_id="prune", **kwargs).execute(context or {})
        finally:
            counted = self.emulator.counters.operations().items()
            self.sent = {operation: n for (_, operation), n in counted if n}


@pytest.fixture(params=[SM_BACKEND, SSM_BACKEND], ids=["secrets_manager", "ssm"])
def site(request, connect_emulator, emu_connection, monkeypatch) -> Site:
    return Site(connect_emulator, monkeypatch, request.param)


@pytest.fixture
def sm_site(connect_emulator, emu_connection, monkeypatch) -> Site:
    return Site(connect_emulator, monkeypatch, SM_BACKEND)


@pytest.fixture
def stored(sm_site) -> Site:
    """Secrets Manager holding the tokens of every user of the instance."""
    sm_site.refresh(sm_site.instance, USERS)
    return sm_site


def test_a_departed_agents_token_is_deleted_and_nothing_else(site, log_messages):
    site.refresh(site.instance, USERS)
    site.refresh(site.other, [OTHER_USER])
    site.write_by_hand(BY_HAND, '{"note": "written by hand"}')
    before = site.names()
    assert len(before) == len(USERS) + 2

    site.emulator.delete_user(site.instance, DEPARTED)
    keep = ListConnectUsersOperator(task_id="agents", instance_id=site.instance, aws_conn_id="emu").execute(
        {}
    )
    assert keep == sorted(set(USERS) - {DEPARTED})
    asset = Asset(name="agent_tokens", uri="connect-fed://roster/agents")
    events = OutletEvents()
    deleted = site.prune({"outlet_events": events}, keep_users=keep, outlets=[asset])

    key = secret_key_for(DEPARTED)
    assert deleted == [key]
    assert site.names() == before - {site.name_of(DEPARTED)}
    assert events[asset].extra == {
        "instance_id": site.instance,
        "pruned_users": [DEPARTED],
        "pruned_keys": [key],
    }
    logs = log_messages()
    recovery = "restorable for 7 days (RestoreSecret)" if site.secrets_manager else "without recovery"
    assert (
        f"Deleted the token of {DEPARTED}: Variable {key!r} ({site.name_of(DEPARTED)}), {recovery}." in logs
    )
    final = [message for message in logs if "deletions are final" in message]
    assert final == (
        []
        if site.secrets_manager
        else ["SSM Parameter Store keeps no deleted parameter: these 1 deletions are final."]
    )


def test_a_secrets_manager_prune_is_undone_with_restore_secret(stored):
    key = secret_key_for(DEPARTED)
    reference = {"kind": "secrets_backend", "secret_key": key}
    before = load_federation_token(reference)
    assert stored.prune(keep_users=sorted(set(USERS) - {DEPARTED})) == [key]
    secrets = stored.emulator.client("secretsmanager")
    deleted_on = secrets.describe_secret(SecretId=stored.name_of(DEPARTED))["DeletedDate"]
    assert abs(deleted_on - (datetime.now(UTC) + timedelta(days=7))) < timedelta(hours=1)
    with pytest.raises(TokenReadError, match="no Variable"):
        load_federation_token(reference)

    secrets.restore_secret(SecretId=stored.name_of(DEPARTED))
    assert load_federation_token(reference) == before


def test_an_agent_hired_again_within_the_recovery_window_is_stored_again(stored, log_messages):
    key = secret_key_for(DEPARTED)
    assert stored.prune(keep_users=sorted(set(USERS) - {DEPARTED})) == [key]
    secrets = stored.emulator.client("secretsmanager")
    versions = secrets.list_secret_version_ids(SecretId=stored.name_of(DEPARTED))["Versions"]

    stored.refresh(stored.instance, [DEPARTED])  # AWS refuses a write to it until it is restored

    described = secrets.describe_secret(SecretId=stored.name_of(DEPARTED))
    assert "DeletedDate" not in described
    after = secrets.list_secret_version_ids(SecretId=stored.name_of(DEPARTED))["Versions"]
    assert len(after) == len(versions) + 1
    token = load_federation_token({"kind": "secrets_backend", "secret_key": key})
    assert token.is_valid()
    assert f"Restored secret {stored.name_of(DEPARTED)!r}, which was scheduled for deletion" in "\n".join(
        log_messages()
    )


@pytest.mark.parametrize(("window", "days"), [(30, 30), (None, None)])
def test_the_recovery_window_reaches_delete_secret(stored, window, days):
    stored.prune(keep_users=sorted(set(USERS) - {DEPARTED}), recovery_window_in_days=window)
    secrets = stored.emulator.client("secretsmanager")
    if days is None:
        with pytest.raises(secrets.exceptions.ResourceNotFoundException):
            secrets.describe_secret(SecretId=stored.name_of(DEPARTED))
        return
    deleted_on = secrets.describe_secret(SecretId=stored.name_of(DEPARTED))["DeletedDate"]
    assert abs(deleted_on - (datetime.now(UTC) + timedelta(days=days))) < timedelta(hours=1)


def test_more_than_the_fraction_is_refused_and_nothing_deleted(stored):
    before = stored.names()
    with pytest.raises(TokenPruneError) as raised:
        stored.prune(keep_users=USERS[:3])
    message = str(raised.value)
    assert (
        f"Refusing to delete 2 of the 5 stored tokens of instance {stored.instance!r} (40%), more than "
        "max_prune_fraction=0.2 allows. Nothing was deleted." in message
    )
    assert raised.value.not_deleted == [secret_key_for(user) for user in USERS[3:]]
    assert stored.names() == before
    assert stored.sent == {"ListSecrets": 1}


def test_a_dry_run_deletes_nothing_and_says_what_would_go(stored, log_messages):
    before = stored.names()
    would = stored.prune(keep_users=USERS[:3], dry_run=True)
    assert would == sorted(secret_key_for(user) for user in USERS[3:])
    assert stored.names() == before
    assert stored.sent == {"ListSecrets": 1}
    logs = log_messages()
    assert f"Dry run: would delete the token of {USERS[3]} (Variable {secret_key_for(USERS[3])!r})." in logs
    assert (
        "A real run would refuse this prune: 2 of 5 stored tokens is more than max_prune_fraction=0.2."
        in logs
    )


def test_a_larger_fraction_allowed_for_one_run(stored):
    assert len(stored.prune(keep_users=USERS[:3], max_prune_fraction=0.4)) == 2
    assert stored.names() == {stored.name_of(user) for user in USERS[:3]}


def test_untagged_secrets_from_before_the_tag_are_left_with_a_warning(stored, log_messages):
    secrets = stored.emulator.client("secretsmanager")
    secrets.create_secret(Name=stored.name_of(BY_HAND), SecretString="{}", Description=DESCRIPTION)
    assert stored.prune(keep_users=USERS) == []
    assert stored.name_of(BY_HAND) in stored.names()
    (warning,) = [message for message in log_messages() if "before it tagged secrets" in message]
    assert warning.startswith(
        "1 secret(s) under 'airflow/variables/connect/agents/' were written by this provider"
    )
    assert f"tag each with {INSTANCE_TAG}=<its instance ID>" in warning


@pytest.mark.parametrize(
    ("backend", "stored", "departed", "operations"),
    [
        (SM_BACKEND, 250, 25, {"ListSecrets": 3, "DeleteSecret": 25}),
        (SSM_BACKEND, 245, 24, {"GetParametersByPath": 25, "DeleteParameters": 3}),
    ],
    ids=["secrets_manager", "ssm"],
)
def test_requests_grow_with_pages_and_deletions_not_with_values_read(
    connect_emulator, emu_connection, monkeypatch, backend, stored, departed, operations
):
    site = Site(connect_emulator, monkeypatch, backend)
    users = [f"agent.{n:03d}@example.com" for n in range(stored)]
    for user in users:  # what the write path leaves, without a Connect round trip per agent
        token = FederationToken.from_dict(success_body(user=user), instance_id=site.instance)
        text = serialize(token, user)
        if site.secrets_manager:
            site.emulator.client("secretsmanager").create_secret(
                Name=site.name_of(user),
                SecretString=text,
                Description=DESCRIPTION,
                Tags=[{"Key": INSTANCE_TAG, "Value": site.instance}],
            )
        else:
            site.emulator.client("ssm").put_parameter(
                Name=site.name_of(user), Value=text, Type="SecureString"
            )
    deleted = site.prune(keep_users=users[departed:])
    assert deleted == sorted(secret_key_for(user) for user in users[:departed])
    assert site.sent == operations
    assert len(site.names()) == stored - departed


class TestRefusedBeforeAnyRequest:
    @pytest.fixture(autouse=True)
    def _site(self, stored):
        self.site = stored

    def execute(self, **params):
        params = {
            "instance": self.site.instance,
            "keep": '["agent.one@example.com"]',
            "key": "connect/agents/{user}",
            **params,
        }
        with DAG("prune_bad", schedule=None, start_date=datetime(2026, 1, 1)):
            op = PruneFederationTokensOperator(
                task_id="prune",
                instance_id="{{ params.instance }}",
                keep_users="{{ params.keep }}",
                secret_key="{{ params.key }}",
                params=params,
            )
        op.render_template_fields({"params": params})
        self.site.emulator.counters.reset()
        try:
            return op.execute({})
        finally:
            self.requests = self.site.emulator.counters.requests()

    def test_rendered_values_that_work(self):
        keep = '["agent+two@example.com", "agent.four@example.com", "agent.one@example.com", "agent_five@example.com"]'
        assert self.execute(keep=keep) == [secret_key_for(DEPARTED)]
        assert self.requests == 2  # one listing, one deletion

    @pytest.mark.parametrize(
        ("params", "error", "message"),
        [
            (
                {"keep": "agent.one@example.com"},
                InvalidInputError,
                "keep_users must be a list of Connect usernames (or a JSON list string), got str 'agent.one@example.com'",
            ),
            (
                {"keep": "['agent.one@example.com']"},
                InvalidInputError,
                "is not a valid JSON list. Pass the list itself",
            ),
            (
                {"keep": '["agent.one@example.com", 7]'},
                InvalidInputError,
                "got list ['agent.one@example.com', 7]",
            ),
            ({"keep": '{"a": 1}'}, InvalidInputError, "got str '{\"a\": 1}'"),
            ({"keep": "[]"}, InvalidInputError, "keep_users is empty"),
            ({"keep": None}, InvalidInputError, "keep_users is 'None' after template rendering"),
            (
                {"key": "connect/agents"},
                InvalidDestinationError,
                "secret_key 'connect/agents' has no '{user}'",
            ),
            (
                {"key": "connect agents/{user}"},
                InvalidDestinationError,
                "'airflow/variables/connect agents/agent-1' cannot be stored in Secrets Manager",
            ),
            ({"key": None}, InvalidInputError, "secret_key is 'None' after template rendering"),
            ({"instance": "x" * 101}, InvalidInputError, "has 101 characters"),
            ({"instance": None}, InvalidInputError, "instance_id is 'None' after template rendering"),
        ],
    )
    def test_bad_rendered_values(self, params, error, message):
        before = self.site.names()
        with pytest.raises(error) as raised:
            self.execute(**params)
        assert message in str(raised.value)
        assert self.requests == 0
        assert self.site.names() == before


def test_an_empty_keep_users_list_is_refused(stored):
    with pytest.raises(
        InvalidInputError, match="keep_users is empty: the prune would delete every stored token"
    ):
        stored.prune(keep_users=[])
    assert stored.emulator.counters.requests() == 0


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("recovery_window_in_days", 6, "recovery_window_in_days must be a whole number of days from 7 to 30"),
        ("recovery_window_in_days", 31, "got 31"),
        ("recovery_window_in_days", 7.5, "got 7.5"),
        ("recovery_window_in_days", "7", "got '7'"),
        ("recovery_window_in_days", True, "got True"),
        ("max_prune_fraction", 0, "max_prune_fraction must be a number above 0 and at most 1"),
        ("max_prune_fraction", 1.5, "got 1.5"),
        ("max_prune_fraction", -0.1, "got -0.1"),
        ("max_prune_fraction", math.nan, "got nan"),
        ("max_prune_fraction", True, "got True"),
        ("max_prune_fraction", "0.2", "got '0.2'"),
        ("dry_run", "yes", "dry_run must be True or False, got 'yes'"),
    ],
)
def test_arguments_that_need_no_rendering_are_checked_when_the_dag_is_parsed(argument, value, message):
    with pytest.raises(InvalidInputError) as raised:
        PruneFederationTokensOperator(
            task_id="prune", instance_id="{{ params.i }}", keep_users="{{ params.k }}", **{argument: value}
        )
    assert message in str(raised.value)


def test_the_bounds_are_accepted():
    op = PruneFederationTokensOperator(
        task_id="prune",
        instance_id="i",
        keep_users=["a1"],
        recovery_window_in_days=None,
        max_prune_fraction=1,
    )
    assert (op.recovery_window_in_days, op.max_prune_fraction, op.is_dry_run) == (None, 1.0, False)
    assert set(PruneFederationTokensOperator.template_fields) == {"instance_id", "keep_users", "secret_key"}


# ListConnectUsersOperator


@pytest.fixture
def directory(connect_emulator, emu_connection):
    instance = connect_emulator.create_instance("directory")["id"]
    connect_emulator.create_user(
        instance, "agent.one@example.com", routing_profile_id="rp-sales", tags={"team": "sales"}
    )
    connect_emulator.create_user(
        instance, "agent+two@example.com", routing_profile_id="rp-sales", tags={"team": "sales"}
    )
    connect_emulator.create_user(
        instance, "agent.three@example.com", routing_profile_id="rp-sales", tags={"team": "support"}
    )
    connect_emulator.create_user(instance, "supervisor@example.com", routing_profile_id="rp-support")
    connect_emulator.counters.reset()
    return connect_emulator, instance


def list_users(instance: str, **criteria) -> ListConnectUsersOperator:
    params = criteria.pop("params", {})
    with DAG("roster_list", schedule=None, start_date=datetime(2026, 1, 1)):
        op = ListConnectUsersOperator(
            task_id="agents", instance_id=instance, aws_conn_id="emu", params=params, **criteria
        )
    op.render_template_fields({"params": op.params})
    return op


def test_every_user_without_criteria(directory, log_messages):
    emulator, instance = directory
    users = list_users(instance).execute({})
    assert users == [
        "agent+two@example.com",
        "agent.one@example.com",
        "agent.three@example.com",
        "supervisor@example.com",
    ]
    assert f"4 Connect user(s) of instance {instance} match (criteria: none: every user)." in log_messages()
    assert emulator.counters.operation("connect", "SearchUsers") == 1


def test_rendered_criteria_are_the_hooks(directory, log_messages):
    _, instance = directory
    op = list_users(
        instance,
        routing_profile_ids='["{{ params.profile }}"]',
        tags='{"team": "{{ params.team }}"}',
        username_prefix="{{ params.prefix }}",
        params={"profile": "rp-sales", "team": "sales", "prefix": "agent"},
    )
    assert op.execute({}) == ["agent+two@example.com", "agent.one@example.com"]
    assert (
        f"2 Connect user(s) of instance {instance} match (criteria: routing_profile_ids, tags, username_prefix)."
        in log_messages()
    )


def test_native_lists_are_passed_as_they_are(directory):
    _, instance = directory
    assert list_users(instance, routing_profile_ids=["rp-support"]).execute({}) == ["supervisor@example.com"]


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"routing_profile_ids": "[oops"}, "routing_profile_ids '[oops' is not valid JSON"),
        (
            {"routing_profile_ids": "rp-sales"},
            "routing_profile_ids must be a list of IDs, got the string 'rp-sales'",
        ),
        ({"security_profile_ids": "[]"}, "security_profile_ids is an empty list"),
        ({"tags": '{"team": 1}'}, "tags['team'] is 1, not a string"),
        ({"tags": "team=sales"}, "tags must be a dict of tag key to value"),
        (
            {"username_prefix": "{{ params.prefix }}", "params": {"prefix": " "}},
            "username_prefix ' ' is empty or whitespace",
        ),
        (
            {"hierarchy_group_ids": "{{ params.none }}", "params": {"none": None}},
            "hierarchy_group_ids is 'None' after template rendering",
        ),
    ],
)
def test_bad_criteria_are_refused_before_any_request(directory, criteria, message):
    emulator, instance = directory
    with pytest.raises(InvalidInputError) as raised:
        list_users(instance, **criteria).execute({})
    assert message in str(raised.value)
    assert emulator.counters.requests() == 0


def test_list_template_fields():
    assert set(ListConnectUsersOperator.template_fields) == {
        "aws_conn_id",
        "region_name",
        "verify",
        "instance_id",
        "routing_profile_ids",
        "security_profile_ids",
        "hierarchy_group_ids",
        "tags",
        "username_prefix",
    }


def test_the_roster_module_imports_no_hook_boto3_or_store_code_when_a_dag_is_parsed():
    probe = (
        "import sys, airflow.sdk; import airflow_connect_fed.operators.roster; "
        "print(sorted(m for m in sys.modules if m.startswith(('boto3', 'botocore', 'airflow_connect_fed.hooks', "
        "'airflow_connect_fed.destinations', 'airflow.providers.amazon.aws'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_prune_counts_the_tokens_it_deleted(stored, monkeypatch):
    stats = recording_stats(monkeypatch)
    stored.prune(keep_users=USERS[:3], dry_run=True)
    assert stats.calls == []  # a dry run deletes nothing
    stored.prune(keep_users=USERS[:3], max_prune_fraction=0.4)
    assert stats.calls == [
        (
            "incr",
            "connect_federation.tokens_pruned",
            2,
            {"instance_id": stored.instance, "operator": "PruneFederationTokensOperator"},
        )
    ]


@pytest.mark.skipif(
    amazon_team_separator() is None,
    reason="the installed apache-airflow-providers-amazon reads no team-scoped Variables (no TEAM_SEP)",
)
def test_a_teams_prune_deletes_its_teams_tokens_only(sm_site, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
    team_a, team_b = ({"dag_run": SimpleNamespace(team_name=team)} for team in ("team_a", "team_b"))
    sm_site.refresh(sm_site.instance, USERS, team_a)
    sm_site.refresh(sm_site.instance, USERS, team_b)
    kept = [user for user in USERS if user != DEPARTED]
    assert sm_site.prune(team_a, keep_users=kept) == [secret_key_for(DEPARTED)]
    assert sm_site.sent == {"ListSecrets": 1, "DeleteSecret": 1}
    assert sm_site.names() == {f"airflow/variables/team_a--{secret_key_for(user)}" for user in kept} | {
        f"airflow/variables/team_b--{secret_key_for(user)}" for user in USERS
    }
