"""A task's team and the checks its Variable names need (multi-team mode); no AWS call is involved."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from airflow_connect_fed.destinations.teams import (
    amazon_team_separator,
    check_key,
    multi_team,
    task_team,
    variable_team,
)
from airflow_connect_fed.exceptions import InvalidDestinationError

SEPARATOR = "--"  # the amazon backends' TEAM_SEP


@pytest.fixture
def teams_on(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")


@pytest.fixture(autouse=True)
def teams_off(monkeypatch):
    monkeypatch.delenv("AIRFLOW__CORE__MULTI_TEAM", raising=False)


@pytest.mark.parametrize(
    ("context", "team"),
    [
        ({"dag_run": SimpleNamespace(team_name="team_a")}, "team_a"),
        ({"dag_run": SimpleNamespace(team_name=None)}, None),
        ({"dag_run": SimpleNamespace()}, None),  # a DAG run of Airflow < 3.2
        ({}, None),
    ],
)
def test_the_task_team_is_its_dag_runs(context, team):
    assert task_team(context) == team


def test_multi_team_mode_is_airflows_option(monkeypatch):
    assert multi_team() is False
    monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")
    assert multi_team() is True


def test_the_separator_is_the_installed_amazon_backends():
    from airflow.providers.amazon.aws.secrets import secrets_manager, systems_manager

    assert amazon_team_separator() == getattr(secrets_manager, "TEAM_SEP", None)
    assert getattr(systems_manager, "TEAM_SEP", None) == amazon_team_separator()


class TestVariableTeam:
    def test_without_multi_team_mode_no_team(self):
        assert variable_team("team_a", SEPARATOR) is None

    @pytest.mark.usefixtures("teams_on")
    def test_the_tasks_team_in_multi_team_mode(self):
        assert variable_team("team_a", SEPARATOR) == "team_a"
        assert variable_team("Team-1_x", SEPARATOR) == "Team-1_x"
        assert variable_team("a--b", SEPARATOR) == "a--b"  # a key never holds '--', so no other reading
        assert variable_team(None, SEPARATOR) is None

    @pytest.mark.usefixtures("teams_on")
    def test_an_amazon_provider_without_team_names_keeps_the_global_name_and_says_so_once(self, caplog):
        with caplog.at_level(logging.WARNING, logger="airflow_connect_fed.destinations.teams"):
            assert variable_team("team_w", None) is None
            assert variable_team("team_w", None) is None
        assert [record.getMessage() for record in caplog.records] == [
            "This task belongs to team 'team_w', but the installed apache-airflow-providers-amazon reads no "
            "team-scoped Variables: the tokens go under the global names, which every team's tasks read. Upgrade "
            "the amazon provider to one whose secrets backends read <prefix>/<team>--<key>."
        ]

    @pytest.mark.usefixtures("teams_on")
    @pytest.mark.parametrize("team", ["ab", "t" * 51, "team a", "team/a", "tëam", "team.a", "", 7])
    def test_a_team_name_airflow_refuses(self, team):
        with pytest.raises(InvalidDestinationError) as raised:
            variable_team(team, SEPARATOR)
        assert str(raised.value) == (
            f"The task's team {team!r} is not a team name Airflow accepts (3 to 50 letters, digits, '_' and '-', "
            "as `airflow teams create` checks), so no team-scoped Variable can be named for it. Associate the "
            "DAG bundle with a team made by `airflow teams create`."
        )

    @pytest.mark.usefixtures("teams_on")
    def test_a_team_ending_with_a_dash_would_share_names_with_another(self):
        with pytest.raises(InvalidDestinationError) as raised:
            variable_team("ops-", SEPARATOR)
        assert str(raised.value) == (
            "The task's team 'ops-' ends with '-': its Variable 'KEY' would be stored as 'ops---KEY', which the "
            "backend also reads for team 'ops' and the Variable '-KEY'. Rename the team without the trailing "
            "'-', or pass a SecretsManagerDestination or SsmParameterDestination with the name to write."
        )


class TestCheckKey:
    def test_without_multi_team_mode_any_key(self):
        check_key("a--b", None, SEPARATOR)
        check_key("-a", None, SEPARATOR)

    @pytest.mark.usefixtures("teams_on")
    def test_an_amazon_provider_without_team_names_refuses_nothing(self):
        check_key("a--b", "team_a", None)

    @pytest.mark.usefixtures("teams_on")
    @pytest.mark.parametrize("team", [None, "team_a"])
    def test_a_key_holding_the_separator_is_refused_in_multi_team_mode(self, team):
        with pytest.raises(InvalidDestinationError) as raised:
            check_key("connect--agent-1", team, SEPARATOR)
        assert str(raised.value) == (
            "secret_key 'connect--agent-1' holds '--': in multi-team mode the amazon secrets backends refuse "
            "such a Variable name (it separates a team's name from the key), so no task would read the token. "
            "Use a single '-' or '/'."
        )

    @pytest.mark.usefixtures("teams_on")
    def test_a_teams_key_starting_with_a_dash_would_be_another_teams_name(self):
        check_key("-agent", None, SEPARATOR)  # the global name is no team's
        with pytest.raises(InvalidDestinationError) as raised:
            check_key("-agent", "team_a", SEPARATOR)
        assert str(raised.value) == (
            "secret_key '-agent' starts with '-': team 'team_a''s name for it, 'team_a---agent', is also team "
            "'team_a-''s name for 'agent'. Start the key with another character."
        )
