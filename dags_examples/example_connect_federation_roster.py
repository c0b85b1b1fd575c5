"""Keep the tokens of a routing profile's agents current, as Connect lists them: list, refresh, prune.

Every 6 hours:

1. ``list_agents`` asks Connect (``SearchUsers``) for the users of one routing profile: hires appear,
   departures and agents moved to another profile drop out, with no DAG edit;
2. the list is split into chunks, one mapped bulk task each (``agent_chunks``), which store each
   agent's token under ``AGENT_VARIABLE``; an agent deleted in Connect between the listing and its
   refresh is reported as departed, not a failed task (``skip_departed_users=True``);
3. ``prune_tokens`` deletes the stored tokens of this instance's users no longer listed, under the
   same ``AGENT_VARIABLE``, with Secrets Manager's 7-day recovery window, and refuses to delete more
   than a fifth of them in one run.

The key holds the profile's name, so the prune only ever sees this profile's tokens: an agent who
moves to another profile gets that profile's key and loses this one.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_connect_fed.fan_out import DEFAULT_CHUNK_SIZE, agent_chunks
from airflow_connect_fed.operators.federation_token import GetFederationTokensOperator
from airflow_connect_fed.operators.roster import ListConnectUsersOperator, PruneFederationTokensOperator

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
ROUTING_PROFILE_ID = os.environ.get("CONNECT_ROUTING_PROFILE_ID", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
AGENT_VARIABLE = "connect/sales/{user}"  # each agent's Variable, {user} filled in
AGENTS_PER_TASK = int(os.environ.get("CONNECT_AGENTS_PER_TASK", DEFAULT_CHUNK_SIZE))


@task
def chunks(agents: list[str]) -> list[list[str]]:
    """The agents in lists of AGENTS_PER_TASK: one bulk task each, spread over the workers."""
    return agent_chunks(agents, chunk_size=AGENTS_PER_TASK)


with DAG(
    dag_id="example_connect_federation_roster",
    schedule=timedelta(minutes=25),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["example", "amazon-connect"],
):
    # [START howto_operator_list_connect_users]
    agents = ListConnectUsersOperator(
        task_id="list_agents",
        instance_id=INSTANCE_ID,
        routing_profile_ids=[ROUTING_PROFILE_ID],
    )
    # [END howto_operator_list_connect_users]
    # [START howto_operator_refresh_listed_agents]
    refresh = GetFederationTokensOperator.partial(
        task_id="refresh_agent_tokens",
        instance_id=INSTANCE_ID,
        role_arn=ROLE_ARN,
        secret_key=AGENT_VARIABLE,
        reuse_if_valid_for=timedelta(minutes=30),  # rotates every other run (60-minute access tokens)
        skip_departed_users=True,
    ).expand(connect_users=chunks(agents.output))
    # [END howto_operator_refresh_listed_agents]
    # [START howto_operator_prune_federation_tokens]
    prune = PruneFederationTokensOperator(
        task_id="prune_tokens",
        instance_id=INSTANCE_ID,
        keep_users=agents.output,
        secret_key=AGENT_VARIABLE,
        recovery_window_in_days=7,
        max_prune_fraction=0.2,
    )
    # [END howto_operator_prune_federation_tokens]
    refresh >> prune
