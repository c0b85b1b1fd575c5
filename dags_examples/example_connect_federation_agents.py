"""Refresh the tokens of many agents every 6 hours; each agent's task then loads its own token.

The agent list comes from the Variable ``connect_agents`` (a JSON list) or,
without it, from ``connect_agents.json`` beside this file. One bulk task paces
all calls to the GetFederationToken quota (about 2 requests/s per account and
region) and writes one secret per agent; a mapped task per agent follows.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, task

from airflow_connect_fed.operators.federation_token import (
    GetFederationTokenOperator,
    GetFederationTokensOperator,
)

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
AGENTS_FILE = Path(__file__).with_name("connect_agents.json")


@task
def list_agents() -> list[str]:
    """The agents to refresh: the Variable ``connect_agents``, else the file beside this DAG."""
    from airflow.sdk import Variable

    return Variable.get("connect_agents", default=json.loads(AGENTS_FILE.read_text()), deserialize_json=True)


# [START howto_use_agent_token]
@task
def check_agent_session(agent: str) -> dict:
    """Each agent's own task reads its own token through the secrets backend."""
    from airflow.sdk import Variable

    from airflow_connect_fed.token import FederationToken

    token = FederationToken.from_dict(Variable.get(f"connect/agents/{agent}", deserialize_json=True))
    token.mask()
    return {
        "agent": agent,
        "user_arn": token.user_arn,
        "valid_for_s": int(token.expires_in().total_seconds()),
    }


# [END howto_use_agent_token]

with DAG(
    dag_id="example_connect_federation_agents",
    schedule=timedelta(hours=6),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
):
    agents = list_agents()
    # [START howto_operator_get_federation_tokens]
    refresh = GetFederationTokensOperator(
        task_id="refresh_agent_tokens",
        instance_id=INSTANCE_ID,
        connect_users=agents,
        role_arn=ROLE_ARN,
        destination="secrets_backend",
        secret_key="connect/agents/{user}",
        reuse_if_valid_for=timedelta(hours=7),
        requests_per_second=2.0,
        burst=5,
    )
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
        secret_key="connect/agents/{{ task.connect_user }}",
        pool="connect_federation",
        retries=3,
        retry_delay=timedelta(seconds=30),
    ).expand(connect_user=agents)
    # [END howto_operator_get_federation_token_mapped]
    refresh >> check_agent_session.expand(agent=agents)
