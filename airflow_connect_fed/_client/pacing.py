"""Client-side pacing to the GetFederationToken quota (about 2 requests/s, burst 5, per account and region)."""

from __future__ import annotations

from typing import Any

from airflow_connect_fed._client.token_bucket import DEFAULT_BURST, DEFAULT_REQUESTS_PER_SECOND, validate
from airflow_connect_fed.exceptions import InvalidInputError

__all__ = ["DEFAULT_BURST", "DEFAULT_REQUESTS_PER_SECOND", "configured_pacing", "validate_pacing"]


def validate_pacing(requests_per_second: object, burst: object) -> None:
    """Refuse a rate that is not a finite number > 0 or a burst that is not a whole number >= 1."""
    try:
        validate(requests_per_second, burst)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def configured_pacing(requests_per_second: float | None, burst: int | None) -> tuple[float, int]:
    """The given rate and burst, else ``[connect_federation]``'s, else the quota's; checked."""
    if requests_per_second is None:
        requests_per_second = _configured("requests_per_second", float, DEFAULT_REQUESTS_PER_SECOND)
    if burst is None:
        burst = _configured("burst", int, DEFAULT_BURST)
    validate_pacing(requests_per_second, burst)
    return requests_per_second, burst


def configured_shared_quota_conn_id(conn_id: str | None) -> str | None:
    """``shared_quota_conn_id`` if given, else ``[connect_federation] shared_quota_conn_id`` (``None``: unset)."""
    from airflow.providers.common.compat.sdk import conf

    if conn_id is not None:
        return conn_id
    return conf.get("connect_federation", "shared_quota_conn_id", fallback="") or None


def _configured(option: str, kind: type, default: float) -> Any:
    from airflow.providers.common.compat.sdk import conf

    text = conf.get("connect_federation", option, fallback="") or ""
    if not text:
        return kind(default)
    try:
        return kind(text)
    except ValueError:
        raise InvalidInputError(
            f"[connect_federation] {option} is {text!r}, not a {kind.__name__}; "
            f"GetFederationToken's quota is about {DEFAULT_REQUESTS_PER_SECOND:g} requests/s, burst {DEFAULT_BURST}."
        ) from None
