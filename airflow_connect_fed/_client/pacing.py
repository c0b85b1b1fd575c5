"""Client-side pacing to Connect's quotas, each its own per operation, account and region.

GetFederationToken's (about 2 requests/s, burst 5) is paced with ``[connect_federation] requests_per_second``
and ``burst``; SearchUsers' (2/s, burst 5) with ``search_users_requests_per_second`` and ``search_users_burst``.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_connect_fed._client.token_bucket import (
    DEFAULT_BURST,
    DEFAULT_REQUESTS_PER_SECOND,
    GET_FEDERATION_TOKEN,
    SEARCH_USERS,
    OperationQuota,
    TokenBucket,
    validate,
)
from airflow_connect_fed.exceptions import InvalidInputError

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_REQUESTS_PER_SECOND",
    "GET_FEDERATION_TOKEN",
    "SEARCH_USERS",
    "OperationQuota",
    "configured_pacing",
    "process_bucket",
    "validate_pacing",
]

_buckets: dict[tuple[str, str, str, float, int], TokenBucket] = {}
_buckets_lock = threading.Lock()


def validate_pacing(
    requests_per_second: object, burst: object, quota: OperationQuota = GET_FEDERATION_TOKEN
) -> None:
    """Refuse a rate that is not a finite number > 0 or a burst that is not a whole number >= 1."""
    try:
        validate(requests_per_second, burst, quota)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def configured_pacing(
    requests_per_second: float | None, burst: int | None, quota: OperationQuota = GET_FEDERATION_TOKEN
) -> tuple[float, int]:
    """The given rate and burst, else ``[connect_federation]``'s options for ``quota``, else its defaults; checked."""
    if requests_per_second is None:
        requests_per_second = _configured(quota, quota.rate_option, float, quota.requests_per_second)
    if burst is None:
        burst = _configured(quota, "burst", int, quota.burst)
    validate_pacing(requests_per_second, burst, quota)
    return requests_per_second, burst


def configured_shared_quota_conn_id(conn_id: str | None) -> str | None:
    """``shared_quota_conn_id`` if given, else ``[connect_federation] shared_quota_conn_id`` (``None``: unset)."""
    from airflow.providers.common.compat.sdk import conf

    if conn_id is not None:
        return conn_id
    return conf.get("connect_federation", "shared_quota_conn_id", fallback="") or None


def process_bucket(
    quota: OperationQuota, account: str, region: str, requests_per_second: float, burst: int
) -> TokenBucket:
    """This process's bucket for ``quota``'s operation in ``account`` and ``region`` at this rate and burst.

    Every call of the process with the same settings shares it, so calls one after another, or in
    threads, keep to the quota together instead of each starting with a full burst.
    """
    key = (quota.operation, account, region, float(requests_per_second), burst)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = TokenBucket(requests_per_second, burst)
        return bucket


def _configured(quota: OperationQuota, name: str, kind: type, default: float) -> Any:
    from airflow.providers.common.compat.sdk import conf

    option = quota.option_prefix + name
    text = conf.get("connect_federation", option, fallback="") or ""
    if not text:
        return kind(default)
    try:
        return kind(text)
    except ValueError:
        raise InvalidInputError(
            f"[connect_federation] {option} is {text!r}, not {'a whole number' if kind is int else 'a number'}; "
            f"{quota.operation}'s quota is about {quota.requests_per_second:g} requests/s, burst {quota.burst}."
        ) from None
