"""One quota per Connect operation for every worker of a deployment: a token bucket in Redis.

Amazon Connect's quotas (GetFederationToken's about 2 requests/s, burst 5; SearchUsers' 2/s, burst 5)
are per operation, account and region, shared by every process that calls. :class:`SharedQuota`
keeps the bucket of one operation, account and region in a Redis hash and changes it with one Lua script, so every take, every back-off after a 429 and
every recovery is atomic across hosts. It behaves as :class:`~airflow_connect_fed._client.pacing.TokenBucket`
does in one process: a 429 seen by any process empties the bucket and slows the rate by 10%
(down to half), each unthrottled answer gives back 5%.

``limits``, ``pyrate-limiter`` and ``throttled-py`` were evaluated: each offers a rate with a
burst over Redis, none a rate that every client slows after a 429 and recovers together, so
the bucket is one script through redis-py (see the "Many workers, one quota" how-to).

While Redis answers, the bucket also records the processes recently active on it (a sorted set of
process ids by last take, in the same script). If Redis stops answering mid-run (errors, a refused
connection, a hang: every command has a socket timeout), each process logs one warning, counts
``quota_fallback`` and paces in-process at its share of the quota: the configured rate and burst
divided by the processes last seen, so together they stay within the account's quota. It asks
Redis again every few seconds, from one thread, and takes its permits from the shared bucket again
once Redis answers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_connect_fed import metrics
from airflow_connect_fed._client.pacing import validate_pacing
from airflow_connect_fed._client.token_bucket import GET_FEDERATION_TOKEN, OperationQuota, Permit, TokenBucket
from airflow_connect_fed.exceptions import InvalidInputError, SharedQuotaError

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

#: Seconds a process stays counted among the bucket's users after its last script call.
ACTIVE_WINDOW = 30
#: Seconds a Redis command may take (connect, send, answer) before the process falls back.
SOCKET_TIMEOUT = 1.0
#: Seconds between two tries of a Redis that stopped answering.
RETRY_INTERVAL = 3.0

#: KEYS[1]: the bucket's hash; KEYS[2]: its processes, a sorted set of ids by last call. ARGV:
#: configured rate, burst, operation (take, drain, recover), the calling process's id, the window; for
#: a recover, the answered take's permit (tokens held before it, and when, on Redis's clock), whose
#: flight's refill AWS's full bucket could not keep is taken back, as TokenBucket.recover does.
#: A take always takes: below one token it reserves the next one (the count goes negative, one
#: reservation per waiting caller) and returns the seconds until that token is there ("0": now),
#: so a caller sleeps once instead of asking again. The answer also holds the processes counted and
#: the take's permit.
_SCRIPT = """
local rate_max = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local op = ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'rate')
local rate = math.min(tonumber(state[3]) or rate_max, rate_max)
local updated = tonumber(state[2]) or now
local tokens = math.min(burst, (tonumber(state[1]) or burst) + math.max(0, now - updated) * rate)
local wait = 0
local held = tokens
if op == 'take' then
  tokens = tokens - 1
  if tokens < 0 then wait = -tokens / rate end
elseif op == 'drain' then
  tokens = math.min(tokens, 0)
  rate = math.max(rate * 0.9, rate_max / 2)
else
  rate = math.min(rate_max, rate + rate_max / 20)
  if ARGV[6] then
    local overflow = tonumber(ARGV[6]) + (now - tonumber(ARGV[7])) * rate - burst
    tokens = tokens - math.min(1, math.max(0, overflow))
  end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now), 'rate', tostring(rate))
redis.call('EXPIRE', KEYS[1], 3600)
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[5]))
redis.call('EXPIRE', KEYS[2], 3600)
return {tostring(wait), redis.call('ZCARD', KEYS[2]), string.format('%.17g', held), string.format('%.6f', now)}
"""


class SharedQuota:
    """The bucket of ``quota``'s operation (default GetFederationToken) of ``account`` in ``region``,
    shared through Redis.

    :param client: a redis-py client (e.g. ``RedisHook(conn_id).get_conn()``).
    :param conn_id: the Airflow connection it came from, for messages.
    :param quota: the operation whose quota this is; each operation has its own key.
    """

    def __init__(
        self,
        client: Any,
        conn_id: str,
        account: str,
        region: str,
        requests_per_second: float,
        burst: int,
        *,
        quota: OperationQuota = GET_FEDERATION_TOKEN,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        validate_pacing(requests_per_second, burst, quota)
        self.key = _key(quota, account, region)
        self.conn_id = conn_id
        self.operation = quota.operation
        self.rate = float(requests_per_second)
        self.burst = burst
        self._script = client.register_script(_SCRIPT)
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()  # the fall-back's state, shared by the bulk fetch's threads
        self._processes = 1  # processes on the bucket, as Redis last counted them
        self._fallback: TokenBucket | None = None
        self._retry_at = 0.0
        self._probing = False

    @property
    def processes(self) -> int:
        """The processes recently active on the bucket, as Redis last counted them (this one included)."""
        return self._processes

    def acquire(self) -> RedisPermit | Permit:
        """Take one permit: one script call, then one sleep until the permit it reserved is due."""
        taken = self._shared("take")
        if isinstance(taken, TokenBucket):
            return taken.acquire()
        if taken.wait > 0:
            self._sleep(taken.wait)
        return taken.permit

    def drain(self) -> None:
        """Empty the shared bucket and slow every process down (after a 429)."""
        if isinstance(local := self._shared("drain"), TokenBucket):
            local.drain()

    def recover(self, permit: object = None) -> None:
        """Step every process's rate back toward the configured one (after an unthrottled answer).

        With the answered take's ``permit``: take back the refill AWS's bucket could not keep while
        the request was on its way, being full (as :meth:`TokenBucket.recover
        <airflow_connect_fed._client.token_bucket.TokenBucket.recover>` does in one process).
        """
        shared = (permit.held, permit.taken_at) if isinstance(permit, RedisPermit) else ()
        if isinstance(local := self._shared("recover", *shared), TokenBucket):
            local.recover(permit if isinstance(permit, Permit) else None)

    def _shared(self, op: str, *permit: float) -> _Taken | TokenBucket:
        """The script's answer, or the in-process bucket while Redis is lost.

        Lost, one thread at a time asks Redis again, at most every :data:`RETRY_INTERVAL` seconds.
        """
        with self._lock:
            if self._fallback is not None:
                if self._probing or self._clock() < self._retry_at:
                    return self._fallback
                self._probing = True
        try:
            taken = self._run(op, *permit)
        except Exception as error:  # redis-py's errors, whichever the transport raised
            return self._lost(error)
        with self._lock:
            self._processes = max(1, taken.processes)
            if self._fallback is not None:
                log.warning(
                    "The shared %s quota in Redis connection %r answers again; pacing on it again.",
                    self.operation,
                    self.conn_id,
                )
            self._fallback, self._probing = None, False
        return taken

    def _lost(self, error: Exception) -> TokenBucket:
        """The in-process bucket at this process's share of the quota, made once per fall-back; Redis
        is asked again in :data:`RETRY_INTERVAL` seconds."""
        with self._lock:
            self._retry_at = self._clock() + RETRY_INTERVAL
            self._probing = False
            if self._fallback is not None:
                return self._fallback
            share = self._processes
            rate, burst = self.rate / share, max(1, self.burst // share)
            fallback = self._fallback = TokenBucket(rate, burst, sleep=self._sleep, full=False)
        log.warning(
            "The shared %s quota in Redis connection %r stopped answering (%s: %s); pacing in this process "
            "at its share of the quota until Redis answers again: %g requests/s, burst %d (the configured "
            "%g/s, burst %d, divided among the %d process(es) last active on it).",
            self.operation,
            self.conn_id,
            type(error).__name__,
            error,
            rate,
            burst,
            self.rate,
            self.burst,
            share,
        )
        metrics.incr("quota_fallback")
        return fallback

    def _run(self, op: str, *permit: float) -> _Taken:
        wait, processes, held, now = self._script(
            keys=[self.key, self.key + ":processes"],
            args=[self.rate, self.burst, op, _PROCESS_ID + str(os.getpid()), ACTIVE_WINDOW, *permit],
        )
        return _Taken(float(wait), int(processes), RedisPermit(float(held), float(now)))


@dataclass(frozen=True)
class RedisPermit:
    """A permit of the shared bucket: the tokens it held just before, and when, on Redis's clock."""

    held: float
    taken_at: float


@dataclass(frozen=True)
class _Taken:
    """One script answer: the seconds to wait, the processes counted, the permit (a take's)."""

    wait: float
    processes: int
    permit: RedisPermit


#: This host's part of a process id; the pid is added per call (a forked worker has its own).
_PROCESS_ID = socket.gethostname() + ":"


def _key(quota: OperationQuota, account: str, region: str) -> str:
    """The Redis key of an operation's bucket; GetFederationToken's keeps the name it had before
    other operations were paced, so workers of two releases share one bucket during an upgrade."""
    if quota.operation == GET_FEDERATION_TOKEN.operation:
        return f"airflow-connect-fed:quota:{account}:{region}"
    return f"airflow-connect-fed:quota:{quota.operation}:{account}:{region}"


def redis_client(conn_id: object) -> Any:
    """A redis-py client for Airflow ``redis`` connection ``conn_id``, checked to answer."""
    if not isinstance(conn_id, str) or not conn_id.strip():
        raise InvalidInputError(
            f"shared_quota_conn_id must name an Airflow redis connection, got {conn_id!r}."
        )
    from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise SharedQuotaError(
            f"shared_quota_conn_id {conn_id!r} names no Airflow connection. Create a redis connection with "
            "that id (e.g. AIRFLOW_CONN_<ID>='redis://HOST:6379?db=0'), or unset it to pace in this process only."
        ) from None
    if connection.conn_type != "redis":
        raise SharedQuotaError(
            f"shared_quota_conn_id {conn_id!r} is a {connection.conn_type!r} connection; the shared quota "
            "needs a 'redis' one (apache-airflow-providers-redis)."
        )
    try:
        from airflow.providers.redis.hooks.redis import RedisHook
    except ImportError:
        raise SharedQuotaError(
            "The shared quota needs apache-airflow-providers-redis: pip install 'airflow-connect-fed[redis]'."
        ) from None
    client = RedisHook(redis_conn_id=conn_id).get_conn()  # type: ignore[no-untyped-call]
    _fail_fast(client)
    try:
        client.ping()
    except Exception as error:  # redis-py's errors, whichever the transport raised
        raise SharedQuotaError(
            f"Redis connection {conn_id!r} ({connection.host}:{connection.port}) of the shared Connect "
            f"quota does not answer: {type(error).__name__}: {error}. Check its host, port and password, or "
            "unset [connect_federation] shared_quota_conn_id to pace in this process only. Nothing was sent to AWS."
        ) from None
    return client


def _fail_fast(client: Any) -> None:
    """Give every command of ``client`` :data:`SOCKET_TIMEOUT` and no retry of its own: a Redis that
    hangs or is gone costs a permit at most that long before the quota falls back."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pool = getattr(client, "connection_pool", None)  # a RedisCluster has none: its own settings apply
    if pool is None:
        return
    pool.connection_kwargs.update(
        socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT, retry=Retry(NoBackoff(), 0)
    )
