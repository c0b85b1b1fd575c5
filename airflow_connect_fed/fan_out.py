"""Splitting a long agent list into chunks that run as parallel mapped tasks on many workers.

Airflow's secret masker costs O(N^2) for N agents in one task (it recompiles one regex of
every secret for each token added, in the task and again in its supervisor), so a large
contact centre's agents are spread over tasks of ``DEFAULT_CHUNK_SIZE``::

    @task
    def chunks(agents: list[str]) -> list[list[str]]:
        return agent_chunks(agents)

    GetFederationTokensOperator.partial(task_id="refresh", ...).expand(connect_users=chunks(agents))

With a shared quota (``[connect_federation] shared_quota_conn_id``) every chunk paces
against the one account-and-region quota, wherever it runs.
"""

from __future__ import annotations

from airflow_connect_fed.exceptions import InvalidInputError

#: Agents per task: where one task's masking stays within a few seconds (docs/performance.md,
#: "Secret masking with many agents").
DEFAULT_CHUNK_SIZE = 100


def agent_chunks(connect_users: list[str], chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[list[str]]:
    """``connect_users`` in order, in lists of at most ``chunk_size`` (the last may be shorter).

    Each chunk is one ``connect_users`` value for ``GetFederationTokensOperator.partial(...).expand``;
    the usernames themselves are checked there, once rendered.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}.")
    if isinstance(connect_users, (str, bytes)) or not isinstance(connect_users, (list, tuple)):
        raise InvalidInputError(
            f"connect_users must be a list of Connect usernames, got {type(connect_users).__name__} "
            f"{connect_users!r}."
        )
    users = list(connect_users)
    return [users[start : start + chunk_size] for start in range(0, len(users), chunk_size)]
