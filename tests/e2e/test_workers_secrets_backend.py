"""The README's first DAG where tasks read Variables through ``[workers] secrets_backend``.

Airflow's api-server runs in the background, and ``airflow dags test --use-executor`` runs the
DAG with the LocalExecutor, each task in its own process under Airflow's supervisor. Two
deployments as Airflow documents them:

- only ``[workers] secrets_backend`` is set (Secrets Manager, prefix ``workers/variables``);
- ``[secrets] backend`` is SSM Parameter Store (the servers') and ``[workers] secrets_backend``
  is Secrets Manager (the tasks').

In both the token must land in the store the tasks read, and a downstream task reads it
with ``load_federation_token`` and with ``Variable.get``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import SECRETS_MANAGER_BACKEND, SSM_BACKEND
from tests.e2e.components import ScheduledAirflow
from tests.test_readme import first_dag

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WORKERS_PREFIX = "workers/variables"
SECRET_ID = f"{WORKERS_PREFIX}/connect/agents/agent-1"
# Appended inside the README DAG's `with DAG(...)` block: a second reader, through Variable.get.
VARIABLE_READER = """
    @task
    def read_with_variable_get():
        from airflow.sdk import Variable

        value = Variable.get("connect/agents/agent-1", deserialize_json=True)
        print("Variable.get found the token of", value["UserArn"])

    token >> read_with_variable_get()
"""


@pytest.fixture(scope="module")
def emulator():
    with ConnectEmulator() as emulator:
        emulator.reset()
        emulator.seed()  # the README's instance, agent-1 and role
        yield emulator


def workers_backend_env(emulator: ConnectEmulator, credentials) -> dict[str, str]:
    """The emulator's Secrets Manager backend as ``[workers] secrets_backend``, prefix ``workers/variables``."""
    env = emulator.secrets_backend_env(credentials, SECRETS_MANAGER_BACKEND)
    kwargs = {**json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"]), "variables_prefix": WORKERS_PREFIX}
    return {
        "AIRFLOW__WORKERS__SECRETS_BACKEND": SECRETS_MANAGER_BACKEND,
        "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS": json.dumps(kwargs),
    }


def run_readme_dag(emulator, tmp_path, servers_backend: str | None) -> ScheduledAirflow:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "readme_dag.py").write_text(first_dag() + VARIABLE_READER)
    credentials = emulator.federator_credentials()
    airflow = ScheduledAirflow(
        emulator,
        tmp_path / "home",
        dags,
        output_dir=tmp_path / "output",
        credentials=credentials,
        secrets_backend=servers_backend,
        extra_env=workers_backend_env(emulator, credentials),
    )
    airflow.migrate()
    try:
        airflow.start("api-server", "api-server", "--port", str(airflow.api_port), "--workers", "1")
        airflow.wait_for_api_server()
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", "connect_agent_token", "--use-executor"],
            env=airflow.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        airflow.stop_all()
    airflow.output = result.stdout + result.stderr
    return airflow


def task_log(airflow: ScheduledAirflow, task_id: str) -> str:
    (log,) = (airflow.home / "logs" / "dag_id=connect_agent_token").glob(
        f"run_id=*/task_id={task_id}/attempt=*.log"
    )
    return log.read_text()


def clear_stores(emulator: ConnectEmulator) -> None:
    sm, ssm = emulator.client("secretsmanager"), emulator.client("ssm")
    for secret in sm.list_secrets()["SecretList"]:
        sm.delete_secret(SecretId=secret["Name"], ForceDeleteWithoutRecovery=True)
    for parameter in ssm.describe_parameters()["Parameters"]:
        ssm.delete_parameter(Name=parameter["Name"])


@pytest.mark.parametrize(
    "servers_backend",
    [None, SSM_BACKEND],
    ids=["only-workers-backend", "servers-ssm-workers-secrets-manager"],
)
def test_the_token_lands_where_the_tasks_read(emulator, tmp_path, servers_backend):
    clear_stores(emulator)
    airflow = run_readme_dag(emulator, tmp_path, servers_backend)
    states = airflow.rows("SELECT task_id, state FROM task_instance WHERE dag_id = 'connect_agent_token'")
    assert sorted(states) == [
        ("get_token", "success"),
        ("read_with_variable_get", "success"),
        ("use", "success"),
    ], airflow.output[-4000:]
    sm, ssm = emulator.client("secretsmanager"), emulator.client("ssm")
    assert [s["Name"] for s in sm.list_secrets()["SecretList"]] == [SECRET_ID]
    assert ssm.describe_parameters()["Parameters"] == []  # nothing where only the servers read
    token = FederationToken.from_dict(json.loads(sm.get_secret_value(SecretId=SECRET_ID)["SecretString"]))
    assert token.is_valid()
    assert f"Stored the token in Variable 'connect/agents/agent-1': secret '{SECRET_ID}'" in task_log(
        airflow, "get_token"
    )
    assert f"{token.user_arn} valid for" in task_log(airflow, "use")  # load_federation_token
    assert f"Variable.get found the token of {token.user_arn}" in task_log(airflow, "read_with_variable_get")
    secrets = [token.access_token, token.refresh_token]
    assert airflow.occurrences(secrets) == dict.fromkeys(secrets, 0)
