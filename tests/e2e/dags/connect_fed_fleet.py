"""The fleet DAG of tests/e2e/test_celery.py: many agents in chunks, one mapped bulk task per chunk.

The agents are the Variable ``connect_fleet_agents`` (a JSON list; the test sets it as
``AIRFLOW_VAR_CONNECT_FLEET_AGENTS``). Each chunk task can run on any Celery worker; every
GetFederationToken attempt of every chunk takes a permit from the deployment's shared quota
(``[connect_federation] shared_quota_conn_id``, rate and burst from the same section: the
operator is given none of its own).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_connect_fed.fan_out import agent_chunks
from airflow_connect_fed.operators.federation_token import GetFederationTokensOperator

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
CHUNK_SIZE = int(os.environ.get("CONNECT_FLEET_CHUNK_SIZE", "50"))


@task
def fleet_chunks() -> list[list[str]]:
    """The fleet's agents in lists of CHUNK_SIZE: one bulk task each, spread over the workers."""
    from airflow.sdk import Variable

    agents = Variable.get("connect_fleet_agents", deserialize_json=True)
    return agent_chunks(agents, chunk_size=CHUNK_SIZE)


with DAG(
    dag_id="connect_fed_fleet",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["amazon-connect", "e2e"],
):
    GetFederationTokensOperator.partial(
        task_id="refresh_agent_tokens",
        instance_id=INSTANCE_ID,
        role_arn=ROLE_ARN,
        destination="secrets_backend",
        secret_key="connect/agents/{user}",
    ).expand(connect_users=fleet_chunks())
