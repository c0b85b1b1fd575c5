"""SecretsBackendDestination: where the running task's Airflow secrets backend reads, against moto."""

from __future__ import annotations

import json
import re
from unittest import mock

import boto3
import pytest
from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
from airflow.providers.amazon.aws.secrets.systems_manager import SystemsManagerParameterStoreBackend

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import SecretsBackendDestination
from airflow_connect_fed.destinations.secrets_backend import PER_KEY_KWARGS_SINCE, task_backend
from airflow_connect_fed.destinations.teams import amazon_team_separator
from airflow_connect_fed.exceptions import InvalidDestinationError, TokenReadError
from tests.destinations.conftest import SM_BACKEND, SSM_BACKEND, no_token_in, token
from tests.federation_answers import ACCESS_TOKEN

SUBCLASS = f"{__name__}.CachingSecretsManagerBackend"
OPTIONS = {
    "workers": ("AIRFLOW__WORKERS__SECRETS_BACKEND", "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS"),
    "secrets": ("AIRFLOW__SECRETS__BACKEND", "AIRFLOW__SECRETS__BACKEND_KWARGS"),
}


class CachingSecretsManagerBackend(SecretsManagerBackend):
    """A subclass as deployments write them (caching, a role), keeping the parent's naming."""


@pytest.fixture(autouse=True)
def unconfigured(monkeypatch):
    """Neither [workers] secrets_backend nor [secrets] backend, unless a test configures one."""
    for backend, kwargs in OPTIONS.values():
        monkeypatch.delenv(backend, raising=False)
        monkeypatch.delenv(kwargs, raising=False)


def configure(monkeypatch, section: str, backend: str, **kwargs) -> None:
    backend_var, kwargs_var = OPTIONS[section]
    monkeypatch.setenv(backend_var, backend)
    monkeypatch.setenv(kwargs_var, json.dumps({"region_name": "us-east-1", **kwargs}))


def secret_names() -> list[str]:
    return [
        s["Name"]
        for s in boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"]
    ]


def parameter_names() -> list[str]:
    return [
        p["Name"] for p in boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]
    ]


class TestWhereTheTaskReads:
    def test_only_the_workers_backend_set(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND, variables_prefix="workers/variables")
        reference = SecretsBackendDestination("connect/agents/agent-1").write(token())
        assert reference["secret_id"] == "workers/variables/connect/agents/agent-1"
        assert secret_names() == ["workers/variables/connect/agents/agent-1"]
        assert load_federation_token(reference) == token()
        assert no_token_in(reference)

    def test_workers_backend_wins_over_the_servers(self, monkeypatch):
        configure(monkeypatch, "secrets", SSM_BACKEND)
        configure(monkeypatch, "workers", SM_BACKEND, variables_prefix="workers/variables")
        reference = SecretsBackendDestination("connect/agents/agent-1").write(token())
        assert reference["kind"] == "secrets_backend"
        assert reference["secret_id"] == "workers/variables/connect/agents/agent-1"
        assert parameter_names() == []
        assert load_federation_token(reference) == token()

    def test_the_workers_kwargs_go_with_the_workers_backend(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND, variables_prefix="servers")
        configure(monkeypatch, "workers", SSM_BACKEND, variables_prefix="/workers")
        configured = task_backend()
        assert isinstance(configured.backend, SystemsManagerParameterStoreBackend)
        assert configured.backend.variables_prefix == "/workers"
        assert (configured.backend_option, configured.kwargs_option) == (
            "[workers] secrets_backend",
            "[workers] secrets_backend_kwargs",
        )

    def test_falls_back_to_the_servers_backend_and_its_kwargs(self, monkeypatch):
        configure(monkeypatch, "secrets", SSM_BACKEND, variables_prefix="/servers")
        monkeypatch.setenv(OPTIONS["workers"][1], json.dumps({"variables_prefix": "/ignored"}))
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert reference["parameter_name"] == "/servers/connect/agent-1"
        assert task_backend().kwargs_option == "[secrets] backend_kwargs"

    def test_a_subclass_of_an_amazon_backend(self, monkeypatch):
        configure(monkeypatch, "workers", SUBCLASS)
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert isinstance(task_backend().backend, CachingSecretsManagerBackend)
        assert reference["secret_id"] == "airflow/variables/connect/agent-1"
        assert load_federation_token(reference) == token()

    @pytest.mark.parametrize("section", ["workers", "secrets"])
    def test_the_same_backend_airflow_builds_for_a_task(self, monkeypatch, section):
        # Airflow's own resolution for a task process is the oracle: class, prefix and separator.
        from airflow.configuration import get_custom_secret_backend

        configure(monkeypatch, section, SUBCLASS, variables_prefix="teams/connect", sep=".")
        ours, airflows = task_backend().backend, get_custom_secret_backend(worker_mode=True)
        assert type(ours) is type(airflows) is CachingSecretsManagerBackend
        assert (ours.variables_prefix, ours.sep) == (airflows.variables_prefix, airflows.sep)

    @pytest.mark.parametrize("section", ["workers", "secrets"])
    def test_per_key_kwargs_as_the_running_airflow_reads_them(self, monkeypatch, section):
        from importlib.metadata import version

        from airflow.configuration import get_custom_secret_backend

        configure(monkeypatch, section, SM_BACKEND, variables_prefix="from/json")
        option = "SECRETS_BACKEND_KWARG" if section == "workers" else "BACKEND_KWARG"
        monkeypatch.setenv(f"AIRFLOW__{section.upper()}__{option}__VARIABLES_PREFIX", "from/env")
        sdk = tuple(int(part) for part in version("apache-airflow-task-sdk").split(".")[:2])
        reads_per_key = sdk >= PER_KEY_KWARGS_SINCE
        expected = "from/env" if reads_per_key else "from/json"
        assert get_custom_secret_backend(worker_mode=True).variables_prefix == expected
        reference = SecretsBackendDestination("agent-1").write(token())
        assert reference["secret_id"] == f"{expected}/agent-1"

    def test_secrets_manager_prefix_and_separator(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND, variables_prefix="teams/connect", sep=".")
        reference = SecretsBackendDestination("agent-1").write(token())
        assert reference["secret_id"] == "teams/connect.agent-1"
        backend_value = SecretsBackendDestination("agent-1").backend().get_variable("agent-1")
        assert json.loads(backend_value)["Credentials"]["AccessToken"] == ACCESS_TOKEN

    def test_empty_prefix_means_the_bare_key(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND, variables_prefix="")
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert reference["secret_id"] == "connect/agent-1"
        assert json.loads(
            SecretsBackendDestination("connect/agent-1").backend().get_variable("connect/agent-1")
        )

    def test_ssm_backend(self, monkeypatch):
        configure(monkeypatch, "secrets", SSM_BACKEND)
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert reference["parameter_name"] == "/airflow/variables/connect/agent-1"
        assert load_federation_token(reference) == token()

    def test_describes_the_variable_and_where_it_is(self, monkeypatch):
        configure(monkeypatch, "workers", SSM_BACKEND)
        destination = SecretsBackendDestination("connect/agent-1")
        reference = destination.write(token())
        assert destination.describe(reference) == (
            "Variable 'connect/agent-1': parameter '/airflow/variables/connect/agent-1' (version 1)"
        )


class TestNothingAtParseTime:
    def test_making_one_reads_no_configuration(self, monkeypatch):
        from airflow.providers.common.compat.sdk import conf

        configure(monkeypatch, "workers", SM_BACKEND)
        with mock.patch.object(conf, "get", side_effect=AssertionError("read at parse time")) as get:
            destination = SecretsBackendDestination("connect/agent-1")
        assert get.call_count == 0
        assert destination.secret_key == "connect/agent-1"

    def test_a_broken_configuration_surfaces_at_check_not_at_construction(self, monkeypatch):
        monkeypatch.setenv(OPTIONS["workers"][0], "no.such.Backend")
        destination = SecretsBackendDestination("connect/agent-1")
        with pytest.raises(
            InvalidDestinationError, match=r"\[workers\] secrets_backend is 'no.such.Backend'"
        ):
            destination.check()


class TestBadConfiguration:
    def test_nothing_configured_names_both_options(self):
        with pytest.raises(InvalidDestinationError) as raised:
            SecretsBackendDestination("k").check()
        message = str(raised.value)
        assert "neither [workers] secrets_backend nor [secrets] backend is set" in message
        assert SM_BACKEND in message
        assert SSM_BACKEND in message
        assert "destination='xcom'" in message

    @pytest.mark.parametrize(
        ("section", "option"), [("workers", "[workers] secrets_backend"), ("secrets", "[secrets] backend")]
    )
    def test_a_backend_that_is_not_an_amazon_one(self, monkeypatch, section, option):
        other = "airflow.secrets.local_filesystem.LocalFilesystemBackend"
        configure(monkeypatch, section, other)
        with pytest.raises(InvalidDestinationError) as raised:
            SecretsBackendDestination("k").write(token())
        message = str(raised.value)
        assert (
            f"{option} is {other!r}, which is neither {SM_BACKEND} nor {SSM_BACKEND} nor a subclass"
            in message
        )
        assert secret_names() == []
        assert parameter_names() == []

    def test_a_backend_that_cannot_be_imported(self, monkeypatch):
        configure(monkeypatch, "secrets", "airflow.providers.hashicorp.secrets.vault.NoSuchBackend")
        with pytest.raises(InvalidDestinationError, match=r"cannot be imported .*Fix the class path"):
            SecretsBackendDestination("k").check()

    @pytest.mark.parametrize("section", ["workers", "secrets"])
    def test_variables_disabled_names_the_kwargs_option(self, monkeypatch, section):
        configure(monkeypatch, section, SM_BACKEND, variables_prefix=None)
        option = "[workers] secrets_backend_kwargs" if section == "workers" else "[secrets] backend_kwargs"
        with pytest.raises(InvalidDestinationError, match=rf"variables_prefix=None.*in {re.escape(option)}"):
            SecretsBackendDestination("k").write(token())

    @pytest.mark.parametrize("section", ["workers", "secrets"])
    def test_kwargs_that_are_not_json_are_named_without_their_content(self, monkeypatch, section):
        backend_var, kwargs_var = OPTIONS[section]
        monkeypatch.setenv(backend_var, SM_BACKEND)
        monkeypatch.setenv(kwargs_var, '{"aws_secret_access_key": "s3cr3t-value",')
        with pytest.raises(InvalidDestinationError, match="_kwargs is not valid JSON") as raised:
            SecretsBackendDestination("connect/agent-1").check()
        assert "s3cr3t-value" not in str(raised.value)
        assert f"[{section}]" in str(raised.value)

    def test_kwargs_that_are_not_an_object(self, monkeypatch):
        monkeypatch.setenv(OPTIONS["workers"][0], SM_BACKEND)
        monkeypatch.setenv(OPTIONS["workers"][1], '["s3cr3t-value"]')
        with pytest.raises(InvalidDestinationError, match="JSON but not an object") as raised:
            SecretsBackendDestination("connect/agent-1").check()
        assert "s3cr3t-value" not in str(raised.value)

    def test_lookup_pattern_must_match(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND, variables_lookup_pattern="^connect/")
        with pytest.raises(
            InvalidDestinationError, match="does not match the backend's variables_lookup_pattern"
        ):
            SecretsBackendDestination("other/agent").write(token())

    def test_key_the_backend_cannot_store(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND)
        with pytest.raises(InvalidDestinationError, match="cannot be stored in Secrets Manager"):
            SecretsBackendDestination("agent #1").check()
        assert secret_names() == []

    def test_a_prefix_that_makes_the_name_too_long(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND, variables_prefix="p" * 500)
        with pytest.raises(
            InvalidDestinationError, match=r"cannot be stored in Secrets Manager: use 1 to 512"
        ):
            SecretsBackendDestination("connect/agents/agent-1").check()
        assert secret_names() == []

    def test_ssm_name_is_checked_with_the_backends_prefix(self, monkeypatch):
        # 14 levels of key under the backend's 2-level prefix: 16 in all, one more than SSM allows.
        configure(monkeypatch, "secrets", SSM_BACKEND)
        with pytest.raises(InvalidDestinationError, match=r"'/airflow/variables/k(/k){13}' has 16 levels"):
            SecretsBackendDestination("/".join(["k"] * 14)).check()

    @pytest.mark.parametrize("key", [None, "", " ", "None"])
    def test_needs_a_key(self, key):
        with pytest.raises(InvalidDestinationError, match="needs secret_key"):
            SecretsBackendDestination(key)

    def test_missing_variable(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND)
        with pytest.raises(TokenReadError, match="no Variable 'absent'"):
            load_federation_token({"kind": "secrets_backend", "secret_key": "absent"})


class StrictSecretsManagerBackend(SecretsManagerBackend):
    """A subclass whose constructor takes only what it names."""

    def __init__(self, variables_prefix: str = "airflow/variables") -> None:
        super().__init__(variables_prefix=variables_prefix, region_name="us-east-1")


def test_kwargs_a_subclass_refuses_are_named(monkeypatch):
    monkeypatch.setenv(OPTIONS["workers"][0], f"{__name__}.StrictSecretsManagerBackend")
    monkeypatch.setenv(OPTIONS["workers"][1], json.dumps({"role_arn": "arn:aws:iam::123456789012:role/x"}))
    with pytest.raises(
        InvalidDestinationError, match=r"refused the options of \[workers\] secrets_backend_kwargs"
    ):
        SecretsBackendDestination("k").check()
    assert secret_names() == []


TEAM_KEY = "connect/agents/agent-1"
teams_in_the_amazon_provider = pytest.mark.skipif(
    amazon_team_separator() is None,
    reason="the installed apache-airflow-providers-amazon reads no team-scoped Variables (no TEAM_SEP)",
)


def count_requests(client) -> list[str]:
    """The operations ``client`` sends from now on."""
    sent: list[str] = []
    client.meta.events.register("before-call.*.*", lambda model, **_: sent.append(model.name))
    return sent


@teams_in_the_amazon_provider
class TestTeams:
    """Multi-team mode: a team's token goes where the amazon backend reads that team's Variable."""

    @pytest.fixture(autouse=True)
    def multi_team(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")

    @pytest.mark.parametrize(
        ("backend", "kwargs", "field", "name"),
        [
            (SM_BACKEND, {}, "secret_id", "airflow/variables/team_a--connect/agents/agent-1"),
            (
                SM_BACKEND,
                {"variables_prefix": "connect", "sep": "."},
                "secret_id",
                "connect.team_a--connect/agents/agent-1",
            ),
            (SSM_BACKEND, {}, "parameter_name", "/airflow/variables/team_a--connect/agents/agent-1"),
            (SSM_BACKEND, {"variables_prefix": ""}, "parameter_name", "/team_a--connect/agents/agent-1"),
        ],
    )
    def test_only_the_team_reads_it_through_the_backend(self, monkeypatch, backend, kwargs, field, name):
        configure(monkeypatch, "secrets", backend, **kwargs)
        reference = SecretsBackendDestination(TEAM_KEY, team_name="team_a").write(token())
        assert (reference[field], reference["team_name"], reference["secret_key"]) == (
            name,
            "team_a",
            TEAM_KEY,
        )
        assert secret_names() + parameter_names() == [name]
        # The backend's own lookup is the oracle: the team reads it, another team and a teamless task do not.
        backend_object = task_backend().backend
        assert (
            json.loads(backend_object.get_variable(TEAM_KEY, team_name="team_a"))["UserArn"]
            == token().user_arn
        )
        assert backend_object.get_variable(TEAM_KEY, team_name="team_b") is None
        assert backend_object.get_variable(TEAM_KEY) is None
        assert load_federation_token(reference) == token()
        assert no_token_in(reference)

    def test_reuse_reads_the_teams_name_only(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND)
        written = SecretsBackendDestination(TEAM_KEY, team_name="team_a").write(token(), "agent-1")
        stored = SecretsBackendDestination(TEAM_KEY, team_name="team_a").current()
        assert stored is not None
        assert (stored.token, stored.connect_user, stored.reference) == (token(), "agent-1", written)
        assert SecretsBackendDestination(TEAM_KEY, team_name="team_b").current() is None
        assert SecretsBackendDestination(TEAM_KEY).current() is None

    def test_the_servers_backend_not_the_workers(self, monkeypatch):
        # A task process asks [workers] secrets_backend without its team; the API server asks
        # [secrets] backend with it: the team's token goes to the latter.
        configure(monkeypatch, "secrets", SM_BACKEND, variables_prefix="servers/variables")
        configure(monkeypatch, "workers", SSM_BACKEND, variables_prefix="/workers/variables")
        destination = SecretsBackendDestination(TEAM_KEY, team_name="team_a")
        reference = destination.write(token())
        assert secret_names() == ["servers/variables/team_a--connect/agents/agent-1"]
        assert parameter_names() == []
        assert task_backend().backend.get_variable(TEAM_KEY) is None  # the worker's own lookup misses
        assert destination.describe(reference) == (
            "Variable 'connect/agents/agent-1' of team 'team_a': secret "
            "'servers/variables/team_a--connect/agents/agent-1' (version "
            f"{reference['version_id']})"
        )

    def test_without_a_team_the_global_name(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND)
        reference = SecretsBackendDestination(TEAM_KEY).write(token())
        assert reference["secret_id"] == "airflow/variables/connect/agents/agent-1"
        assert "team_name" not in reference

    def test_the_servers_backend_unset(self, monkeypatch):
        configure(monkeypatch, "workers", SM_BACKEND)
        with pytest.raises(InvalidDestinationError) as raised:
            SecretsBackendDestination(TEAM_KEY, team_name="team_a").check()
        assert str(raised.value) == (
            "In multi-team mode a team's tasks read their team's Variables through the API server's [secrets] "
            "backend (a task process asks [workers] secrets_backend without its team), but [secrets] backend is "
            "not set. Set it, with [secrets] backend_kwargs, to the amazon backend on the API server and the "
            "workers, or pass a SecretsManagerDestination/SsmParameterDestination (a name every team's tasks "
            "can read)."
        )

    def test_an_empty_secrets_manager_prefix_reads_no_team_names(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND, variables_prefix="")
        sent = count_requests(task_backend().backend.client)
        with pytest.raises(InvalidDestinationError) as raised:
            SecretsBackendDestination(TEAM_KEY, team_name="team_a").write(token())
        assert str(raised.value) == (
            "The SecretsManagerBackend of [secrets] backend has an empty variables_prefix, and then reads no "
            "team-scoped names: team 'team_a''s token could only go under the global name, which every team's "
            "tasks read. Set variables_prefix in [secrets] backend_kwargs, or pass a SecretsManagerDestination "
            "with the name to write."
        )
        assert (sent, secret_names()) == ([], [])

    @pytest.mark.parametrize(
        ("key", "team", "message"),
        [
            ("connect--agent-1", None, "secret_key 'connect--agent-1' holds '--'"),
            ("connect--agent-1", "team_a", "secret_key 'connect--agent-1' holds '--'"),
            ("-agent-1", "team_a", "secret_key '-agent-1' starts with '-'"),
            (TEAM_KEY, "ops-", "The task's team 'ops-' ends with '-'"),
            (TEAM_KEY, "x", "The task's team 'x' is not a team name Airflow accepts"),
        ],
    )
    def test_bad_names_are_refused_before_any_aws_call(self, monkeypatch, key, team, message):
        configure(monkeypatch, "secrets", SM_BACKEND)
        sent = count_requests(task_backend().backend.client)
        destination = SecretsBackendDestination(key, team_name=team)
        with pytest.raises(InvalidDestinationError, match=re.escape(message)):
            destination.write(token())
        assert (sent, secret_names()) == ([], [])

    def test_a_reference_of_a_team_the_backend_has_nothing_for(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND)
        reference = {"kind": "secrets_backend", "secret_key": TEAM_KEY, "team_name": "team_b"}
        with pytest.raises(TokenReadError) as raised:
            load_federation_token(reference)
        assert str(raised.value) == (
            "The secrets backend has no Variable 'connect/agents/agent-1' for team 'team_b'; was the token written?"
        )


class TestTeamsWithoutTeamNamesInTheAmazonProvider:
    """Airflow < 3.2, multi-team off, or an amazon provider that reads no team-scoped Variables: as before."""

    def test_multi_team_off_ignores_the_team(self, monkeypatch):
        configure(monkeypatch, "secrets", SM_BACKEND)
        reference = SecretsBackendDestination(TEAM_KEY, team_name="team_a").write(token())
        assert reference["secret_id"] == "airflow/variables/connect/agents/agent-1"
        assert "team_name" not in reference

    def test_an_amazon_provider_without_team_names_keeps_the_global_name(self, monkeypatch):
        from airflow.providers.amazon.aws.secrets import secrets_manager

        monkeypatch.delattr(secrets_manager, "TEAM_SEP", raising=False)  # as amazon releases before teams
        monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
        configure(monkeypatch, "workers", SM_BACKEND)
        reference = SecretsBackendDestination(TEAM_KEY, team_name="team_old").write(token())
        assert secret_names() == ["airflow/variables/connect/agents/agent-1"]
        assert "team_name" not in reference
