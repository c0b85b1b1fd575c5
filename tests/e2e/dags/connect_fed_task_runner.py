"""DAGs run by tests/e2e/test_task_runner.py under a real supervisor and task process.

Settings come from the environment the test gives the Airflow commands.
"""

from __future__ import annotations

import http.client
import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import SsmParameterDestination
from airflow_connect_fed.operators.federation_token import (
    GetFederationTokenOperator,
    GetFederationTokensOperator,
)

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
AGENT = os.environ.get("CONNECT_AGENT", "agent-debug")
BULK_AGENTS = [f"bulk-{i:02d}" for i in range(int(os.environ.get("CONNECT_BULK_AGENTS", "40")))]

if os.environ.get("CONNECT_HTTP_DEBUG"):
    http.client.HTTPConnection.debuglevel = 1  # prints every request, headers included, on stdout


@task
def use(reference: dict) -> str:
    token = load_federation_token(reference)
    print("access token as printed:", token.access_token)  # the log must show *** here
    return token.user_arn


with DAG("connect_fed_debug", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    secrets_backend = GetFederationTokenOperator(
        task_id="secrets_backend",
        instance_id=INSTANCE_ID,
        connect_user=AGENT,
        role_arn=ROLE_ARN,
        secret_key=f"connect/agents/{AGENT}",
        reuse_if_valid_for=timedelta(minutes=30),
    )
    ssm = GetFederationTokenOperator(
        task_id="ssm",
        instance_id=INSTANCE_ID,
        connect_user=AGENT,
        role_arn=ROLE_ARN,
        destination=SsmParameterDestination(f"/connect/agents/{AGENT}"),
        reuse_if_valid_for=timedelta(minutes=30),
    )
    use.override(task_id="use_secrets_backend")(secrets_backend.output)
    use.override(task_id="use_ssm")(ssm.output)


with DAG("connect_fed_returns_token", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    reference = GetFederationTokenOperator(
        task_id="store",
        instance_id=INSTANCE_ID,
        connect_user=AGENT,
        role_arn=ROLE_ARN,
        secret_key=f"connect/agents/{AGENT}",
        reuse_if_valid_for=timedelta(minutes=30),
    )

    @task
    def return_the_token(value: dict):
        return load_federation_token(value)

    return_the_token(reference.output)


with DAG("connect_fed_bulk", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    GetFederationTokensOperator(
        task_id="bulk",
        instance_id=INSTANCE_ID,
        connect_users=BULK_AGENTS,
        role_arn=ROLE_ARN,
        secret_key="connect/agents/{user}",
        reuse_if_valid_for=timedelta(minutes=30),
        requests_per_second=float(os.environ.get("CONNECT_BULK_RATE", "4")),
        burst=1,
    )
