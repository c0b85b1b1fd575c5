"""Refresh the tokens of many agents every 6 hours; each agent's task then loads its own token.

The agent list comes from the Variable ``connect_agents`` (a JSON list) or,
without it, from ``connect_agents.json`` beside this file. It is split into chunks
(``CONNECT_AGENTS_PER_TASK`` agents, default ``DEFAULT_CHUNK_SIZE``), one mapped bulk
task per chunk, which can run on different workers: each paces its calls to the
GetFederationToken quota (about 2 requests/s per account and region; one quota for
every worker with ``[connect_federation] shared_quota_conn_id``) and writes one
secret per agent; a mapped task per agent follows.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_connect_fed.fan_out import DEFAULT_CHUNK_SIZE, agent_chunks
from airflow_connect_fed.operators.federation_token import (
    GetFederationTokenOperator,
    GetFederationTokensOperator,
)

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
AGENTS_FILE = Path(__file__).with_name("connect_agents.json")
AGENTS_PER_TASK = int(os.environ.get("CONNECT_AGENTS_PER_TASK", DEFAULT_CHUNK_SIZE))


@task
def list_agents() -> list[str]:
    """The agents to refresh: the Variable ``connect_agents``, else the file beside this DAG."""
    from airflow.sdk import Variable

    return Variable.get("connect_agents", default=json.loads(AGENTS_FILE.read_text()), deserialize_json=True)


# [START howto_agent_chunks]
@task
def chunks(agents: list[str]) -> list[list[str]]:
    """The agents in lists of AGENTS_PER_TASK: one bulk task each, spread over the workers."""
    return agent_chunks(agents, chunk_size=AGENTS_PER_TASK)


# [END howto_agent_chunks]


# [START howto_use_agent_token]
@task
def check_agent_session(agent: str) -> dict:
    """Each agent's own task reads its own token through the secrets backend."""
    from airflow.sdk import Variable

    from airflow_connect_fed import secret_key_for
    from airflow_connect_fed.token import FederationToken

    # connect/agents/{user}, the agent's name written by the documented rule (e-mail addresses too).
    token = FederationToken.from_dict(Variable.get(secret_key_for(agent), deserialize_json=True))
    token.mask()
    return {
        "agent": agent,
        "user_arn": token.user_arn,
        "valid_for_s": int(token.expires_in().total_seconds()),
    }


# [END howto_use_agent_token]

with DAG(
    dag_id="example_connect_federation_agents",
    schedule=timedelta(minutes=25),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
):
    agents = list_agents()
    # [START howto_operator_get_federation_tokens]
    refresh = GetFederationTokensOperator.partial(
        task_id="refresh_agent_tokens",
        instance_id=INSTANCE_ID,
        role_arn=ROLE_ARN,
        destination="secrets_backend",
        secret_key="connect/agents/{user}",
        reuse_if_valid_for=timedelta(minutes=30),  # rotates every other run (60-minute access tokens)
    ).expand(connect_users=chunks(agents))
    # [END howto_operator_get_federation_tokens]
    refresh >> check_agent_session.expand(agent=agents)


with DAG(
    dag_id="example_connect_federation_agents_mapped",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
):
    agents = list_agents()
    # [START howto_operator_get_federation_token_mapped]
    # One task per agent. The pool caps concurrent GetFederationToken callers: create it with
    # `airflow pools set connect_federation 2 "GetFederationToken quota"`.
    refresh = GetFederationTokenOperator.partial(
        task_id="refresh_agent_token",
        instance_id=INSTANCE_ID,
        role_arn=ROLE_ARN,
        destination="secrets_backend",
        secret_key="connect/agents/{user}",
        pool="connect_federation",
        retries=3,
        retry_delay=timedelta(seconds=30),
    ).expand(connect_user=agents)
    # [END howto_operator_get_federation_token_mapped]
    refresh >> check_agent_session.expand(agent=agents)
