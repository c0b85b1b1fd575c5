"""The stores' own write quotas, which the bulk path paces its token writes to.

Secrets Manager takes ``PutSecretValue`` (with ``UpdateSecret`` and the replication calls) at a
combined 50 requests/s per account and region, not adjustable; Parameter Store's ``PutParameter``
has its throughput quota (standard by default, higher throughput an account setting). Above ~50
agents/s the store, not Connect, is the binding quota, so every write request of the bulk operator
(botocore's retries included) takes a permit from its store's bucket, as every GetFederationToken
attempt does from Connect's: in-process, or deployment-wide through the Redis connection of
``[connect_federation] shared_quota_conn_id`` under its own key. A throttled answer empties the
bucket and slows it; others recover it.

The rate and burst are ``[connect_federation] secretsmanager_writes_per_second`` /
``secretsmanager_writes_burst`` and ``ssm_writes_per_second`` / ``ssm_writes_burst`` (defaults: AWS's
documented quotas). The writes count against the federation role's account (the one the bulk
operator is given) and the store client's region.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from airflow_connect_fed._client.pacing import (
    configured_pacing,
    configured_shared_quota_conn_id,
    process_bucket,
)
from airflow_connect_fed.destinations.write_retry import THROTTLING_CODES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from airflow_connect_fed._client.shared_quota import SharedQuota
    from airflow_connect_fed._client.token_bucket import OperationQuota, TokenBucket
    from airflow_connect_fed.destinations.base import TokenDestination


def configured_write_pacing(quota: OperationQuota) -> tuple[float, int]:
    """``[connect_federation] <prefix>per_second`` and ``<prefix>burst`` of a store's ``quota``, else its
    defaults; checked."""
    return configured_pacing(None, None, quota)


@contextmanager
def paced_writes(
    destinations: Iterable[TokenDestination], account: str, shared_quota_conn_id: str | None = None
) -> Iterator[None]:
    """While in the block, every write request of the AWS stores among ``destinations`` waits for a
    permit of its store's quota in ``account`` and the store's region."""
    buckets: dict[tuple[str, str], TokenBucket | SharedQuota] = {}
    clients: set[int] = set()
    with ExitStack() as stack:
        for destination in destinations:
            store = destination.aws_store()
            if store is None or id(store.client) in clients:
                continue
            client = store.client
            clients.add(id(client))
            region = str(client.meta.region_name)
            key = (store.write_quota.operation, region)
            if key not in buckets:
                buckets[key] = _bucket(store.write_quota, account, region, shared_quota_conn_id)
            stack.enter_context(_paced(client, store.write_operations, buckets[key]))
        yield


def _bucket(
    quota: OperationQuota, account: str, region: str, shared_quota_conn_id: str | None
) -> TokenBucket | SharedQuota:
    rate, burst = configured_write_pacing(quota)
    conn_id = configured_shared_quota_conn_id(shared_quota_conn_id)
    if conn_id is None:
        return process_bucket(quota, account, region, rate, burst)
    from airflow_connect_fed._client.shared_quota import SharedQuota, redis_client

    return SharedQuota(redis_client(conn_id), conn_id, account, region, rate, burst, quota=quota)


@contextmanager
def _paced(client: Any, operations: Iterable[str], bucket: TokenBucket | SharedQuota) -> Iterator[None]:
    """Each attempt of ``client`` at ``operations`` takes a permit; a throttled answer drains the bucket,
    another recovers it."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    permits = threading.local()  # an attempt is sent and answered on one thread
    tag = f"connect-fed-store-quota-{id(bucket)}"

    def on_send(**_: Any) -> None:
        permits.current = bucket.acquire()

    def on_answer(response: Any = None, **_: Any) -> None:
        permit, permits.current = getattr(permits, "current", None), None
        if response is None:
            return
        if response[1].get("Error", {}).get("Code") in THROTTLING_CODES:
            bucket.drain()
        else:
            bucket.recover(permit)

    names = [(f"before-send.{service}.{op}", f"needs-retry.{service}.{op}") for op in operations]
    for send, retry in names:
        events.register_first(send, on_send, unique_id=f"{tag}-send-{send}")
        events.register(retry, on_answer, unique_id=f"{tag}-answer-{retry}")
    try:
        yield
    finally:
        for send, retry in names:
            events.unregister(send, unique_id=f"{tag}-send-{send}")
            events.unregister(retry, unique_id=f"{tag}-answer-{retry}")
