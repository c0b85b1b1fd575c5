"""Multi-team mode end to end: a team's tokens are read by that team's tasks only.

One Airflow deployment with ``[core] multi_team`` on and two teams (``airflow teams create``), each
owning a DAG bundle (``[dag_processor] dag_bundle_config_list`` with ``team_name``) holding
``tests/e2e/dags/connect_fed_teams.py``. The amazon provider's ``SecretsManagerBackend`` on the
emulator is both ``[secrets] backend`` (the api-server's, which Airflow asks with the task's team)
and ``[workers] secrets_backend``.

Team A's DAG stores three agents' tokens (default destination) and a later task reads them back
with ``Variable.get``; team B's task reads none. The api-server, dag-processor and scheduler
(LocalExecutor) run in the background, each task in its own process talking to the Execution API.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from airflow_connect_fed import secret_key_for
from airflow_connect_fed.destinations.teams import amazon_team_separator
from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import SECRETS_MANAGER_BACKEND
from tests.e2e.components import ScheduledAirflow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(420),
    pytest.mark.skipif(
        amazon_team_separator() is None,
        reason="the installed apache-airflow-providers-amazon reads no team-scoped Variables (no TEAM_SEP)",
    ),
]

DAG_FILE = Path(__file__).parent / "dags" / "connect_fed_teams.py"
TEAMS = ("team_a", "team_b")
AGENTS = ["agent-1", "agent--2", "agent-3"]
PREFIX = "airflow/variables"
#: Team A stores the tokens and reads them back in a later task; team B's task reads at the same time.
DAG_RUNS = ("connect_fed_team_a_get", "connect_fed_team_b_read")
RUNS_DEADLINE = 180.0


def _wait_for_runs(airflow: ScheduledAirflow) -> None:
    """Until each DAG of DAG_RUNS has one finished run."""
    deadline = time.monotonic() + RUNS_DEADLINE
    while time.monotonic() < deadline:
        airflow.check_running()
        runs = {dag_id: airflow.dag_runs(dag_id, live=True) for dag_id in DAG_RUNS}
        if all(len(r) == 1 and r[0][2] in ("success", "failed") for r in runs.values()):
            return
        time.sleep(1)
    raise AssertionError(f"within {RUNS_DEADLINE:.0f} s the runs did not finish: {runs}\n{airflow.tails()}")


def task_log(airflow: ScheduledAirflow, dag_id: str, task_id: str) -> str:
    (log,) = (airflow.home / "logs" / f"dag_id={dag_id}").glob(f"run_id=*/task_id={task_id}/attempt=*.log")
    return log.read_text()


def read_lines(log: str) -> dict[str, str]:
    """What ``read_tokens`` printed: each Variable key and ``missing`` or ``token of <user>``."""
    return dict(re.findall(r"Variable (connect/agents/\S+): (missing|token of \S+?)[\"\s]", log))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Team A's DAG run that stores the tokens and reads them back, and team B's run that reads them."""
    root = tmp_path_factory.mktemp("teams")
    bundles = []
    for team in TEAMS:
        folder = root / "bundles" / team
        folder.mkdir(parents=True)
        shutil.copy(DAG_FILE, folder / DAG_FILE.name)
        bundles.append(
            {
                "name": f"{team}_dags",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(folder)},
                "team_name": team,
            }
        )
    with ConnectEmulator() as emulator:
        emulator.reset()
        instance = emulator.create_instance("teams")
        role_arn = emulator.create_federation_role()
        for user in AGENTS:
            emulator.create_user(instance["id"], user)
        credentials = emulator.create_iam_user_credentials("airflow-worker")
        backend = emulator.secrets_backend_env(credentials, SECRETS_MANAGER_BACKEND)
        airflow = ScheduledAirflow(
            emulator,
            root / "home",
            root / "bundles",
            output_dir=root / "output",
            credentials=credentials,
            extra_env={
                "AIRFLOW__CORE__MULTI_TEAM": "True",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
                "AIRFLOW__WORKERS__SECRETS_BACKEND": backend["AIRFLOW__SECRETS__BACKEND"],
                "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS": backend["AIRFLOW__SECRETS__BACKEND_KWARGS"],
                "CONNECT_FED_TEAMS": ",".join(TEAMS),
                "CONNECT_INSTANCE_ID": instance["id"],
                "CONNECT_FEDERATION_ROLE_ARN": role_arn,
            },
        )
        airflow.migrate()
        for team in TEAMS:
            airflow.airflow("teams", "create", team)
        began = time.monotonic()
        try:
            airflow.start("api-server", "api-server", "--port", str(airflow.api_port), "--workers", "1")
            airflow.start("dag-processor", "dag-processor")
            airflow.wait_for_api_server()
            airflow.start("scheduler", "scheduler", "--skip-serve-logs")
            for dag_id in DAG_RUNS:
                airflow.wait_for_dag(dag_id)
            for dag_id in DAG_RUNS:
                airflow.airflow("dags", "trigger", dag_id)
            _wait_for_runs(airflow)
            print(f"\nteams e2e: components started and both runs done in {time.monotonic() - began:.0f} s")
        finally:
            airflow.stop_all()
        airflow.output = airflow.tails()
        sm = emulator.client("secretsmanager", **credentials)
        airflow.secrets = {
            secret["Name"]: FederationToken.from_dict(
                json.loads(sm.get_secret_value(SecretId=secret["Name"])["SecretString"])
            )
            for secret in sm.list_secrets()["SecretList"]
        }
        yield airflow


def test_every_task_succeeded(deployment):
    states = deployment.rows("SELECT dag_id, task_id, state FROM task_instance ORDER BY dag_id, task_id")
    assert states == [
        ("connect_fed_team_a_get", "get_token", "success"),
        ("connect_fed_team_a_get", "get_tokens", "success"),
        ("connect_fed_team_a_get", "read_tokens", "success"),
        ("connect_fed_team_b_read", "read_tokens", "success"),
    ], deployment.output[-4000:]
    teams = deployment.rows(
        "SELECT dag_id, bundle_name FROM dag WHERE dag_id LIKE 'connect_fed_team_%' ORDER BY dag_id"
    )
    assert {bundle for _, bundle in teams} == {"team_a_dags", "team_b_dags"}


def test_team_a_tokens_are_stored_under_team_a_names_only(deployment):
    keys = [secret_key_for(user) for user in AGENTS]
    assert keys[1] == "connect/agents/agent_2D_2D2"  # the username's '--' is not written
    assert sorted(deployment.secrets) == sorted(f"{PREFIX}/team_a--{key}" for key in keys)
    assert all(name.count("--") == 1 for name in deployment.secrets)
    assert {token.is_valid() for token in deployment.secrets.values()} == {True}
    log = task_log(deployment, "connect_fed_team_a_get", "get_token")
    assert (
        f"Stored the token in Variable 'connect/agents/agent-3' of team 'team_a': secret '{PREFIX}/team_a--connect/agents/agent-3'"
        in log
    )


def test_team_a_tasks_read_them_and_team_b_tasks_do_not(deployment):
    keys = [secret_key_for(user) for user in AGENTS]
    found = {key: f"token of {user}" for key, user in zip(keys, AGENTS, strict=True)}
    assert read_lines(task_log(deployment, "connect_fed_team_a_get", "read_tokens")) == found
    assert read_lines(task_log(deployment, "connect_fed_team_b_read", "read_tokens")) == dict.fromkeys(
        keys, "missing"
    )


def test_no_token_in_any_file_of_the_deployment(deployment):
    secrets = [t for token in deployment.secrets.values() for t in (token.access_token, token.refresh_token)]
    assert deployment.occurrences(secrets) == dict.fromkeys(secrets, 0)
