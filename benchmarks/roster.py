"""The roster at contact-center scale (issue 24): listing 5,000 agents, pruning 250 of 5,000 tokens.

An in-process emulator holds one instance of 5,000 users, at SearchUsers' default quota (2
requests/s, burst 5). Each measured step runs as a task would, in a fresh interpreter:

- ``ListConnectUsersOperator.execute``: wall time against the quota's floor, SearchUsers requests
  and 429s counted by the emulator, and the child's peak RSS (``ru_maxrss``, the whole process:
  Airflow, boto3 and the list);
- ``PruneFederationTokensOperator.execute`` with Secrets Manager as the task's secrets backend, over
  5,000 stored tokens written by the provider's own destination, 250 of whose users are no longer
  listed: Secrets Manager requests by operation, counted by the emulator, and wall time.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from harness import PYTHON, main

if TYPE_CHECKING:
    from report import Section

USERS = 5000
DEPARTED = 250
PAGE = 500
LIST_RATE, LIST_BURST = 2.0, 5
SECRET_KEY = "connect/agents/{user}"  # noqa: S105 - a Variable name
ROUTING_PROFILE = "bench-routing-profile"
CONN_ID = "aws_default"
_CHILD = "--child"
RATIO_TARGET = 1.2
RSS_TARGET_MIB = 200


def _username(i: int) -> str:
    return f"agent.{i:05d}@example.com"


def child(step: str) -> dict[str, Any]:
    """In a fresh interpreter: run one operator's ``execute`` as its task would, and measure it."""
    import resource

    instance_id = os.environ["BENCH_INSTANCE_ID"]
    if step == "list":
        from airflow_connect_fed.operators.roster import ListConnectUsersOperator

        operator: Any = ListConnectUsersOperator(
            task_id="list_agents", instance_id=instance_id, routing_profile_ids=[ROUTING_PROFILE]
        )
    else:
        from airflow_connect_fed.operators.roster import PruneFederationTokensOperator

        keep = json.loads(os.environ["BENCH_KEEP_USERS"])
        operator = PruneFederationTokensOperator(
            task_id="prune_tokens", instance_id=instance_id, keep_users=keep, secret_key=SECRET_KEY
        )
    started = time.perf_counter()
    result = operator.execute({})
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "count": len(result),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _run_child(step: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, __file__, _CHILD, step], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"roster child {step!r} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _store_tokens(emulator: Any, instance_id: str, users: list[str]) -> None:
    """One token per user in Secrets Manager, written by the provider's destination (instance tag included)."""
    from airflow_connect_fed import secret_key_for
    from airflow_connect_fed.destinations import SecretsManagerDestination
    from airflow_connect_fed.token import FederationToken

    client = emulator.client("secretsmanager", **emulator.federator_credentials())
    expires = datetime.now(UTC) + timedelta(hours=12)

    def store(user: str) -> None:
        token = FederationToken(
            access_token=f"bench-access-{user}",
            access_token_expiration=expires,
            refresh_token=f"bench-refresh-{user}",
            refresh_token_expiration=expires,
            sign_in_url="",
            user_arn=f"arn:aws:connect:us-east-1:123456789012:instance/{instance_id}/agent/{user}",
            user_id=user,
            instance_id=instance_id,
        )
        name = f"airflow/variables/{secret_key_for(user, SECRET_KEY)}"
        SecretsManagerDestination(name, aws_conn_id=None, client=client).write(token, user, "bench")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(store, users))


def _secrets_manager_requests(emulator: Any) -> dict[str, int]:
    return {
        operation: count
        for (service, operation), count in emulator.counters.operations().items()
        if service == "secretsmanager"
    }


def measure(section: Section) -> None:
    from amazon_connect_emulator import ConnectEmulator

    with ConnectEmulator(api_requests_per_second=LIST_RATE, api_burst=LIST_BURST) as emulator:
        instance_id = emulator.create_instance("roster")["id"]
        users = [_username(i) for i in range(USERS)]
        emulator.create_users(
            instance_id, [{"Username": user, "RoutingProfileId": ROUTING_PROFILE} for user in users]
        )
        credentials = emulator.federator_credentials()
        env = {
            **os.environ,
            **emulator.airflow_env(CONN_ID, **credentials),
            **emulator.secrets_backend_env(credentials),
            "BENCH_INSTANCE_ID": instance_id,
        }

        emulator.counters.reset()
        listing = _run_child("list", env)
        searches = emulator.counters.operation("connect", "SearchUsers")
        throttled = emulator.counters.throttled_operation("SearchUsers")
        pages = math.ceil(USERS / PAGE)
        floor = max(0, pages - LIST_BURST) / LIST_RATE
        ratio = listing["seconds"] / floor
        section.add(
            f"Listing {USERS:,} users: time",
            f"{listing['seconds']:.2f} s",
            f"`ListConnectUsersOperator.execute` (one routing profile, all {USERS:,} users in it) in a fresh "
            f"interpreter; {searches} SearchUsers requests ({throttled} throttled) at the emulator's "
            f"{LIST_RATE:g}/s, burst {LIST_BURST}.",
        )
        section.add(
            "Listing time / the quota's floor",
            f"{ratio:.2f}",
            f"the floor is what a full bucket allows: {pages} pages of {PAGE}, the first {LIST_BURST} at once, "
            f"then {LIST_RATE:g}/s = {floor:.1f} s ({pages / LIST_RATE:.1f} s at the rate alone, "
            f"{listing['seconds'] / (pages / LIST_RATE):.2f} of that).",
            f"<= {RATIO_TARGET}",
            ratio <= RATIO_TARGET and listing["count"] == USERS and throttled == 0,
        )
        rss_mib = listing["peak_rss_kib"] / 1024
        section.add(
            "Listing task: peak RSS",
            f"{rss_mib:.0f} MiB",
            "`ru_maxrss` of the listing child: the interpreter with Airflow, the amazon provider, boto3 and "
            f"the {listing['count']:,} usernames.",
            f"< {RSS_TARGET_MIB} MiB",
            rss_mib < RSS_TARGET_MIB,
        )

        started = time.perf_counter()
        _store_tokens(emulator, instance_id, users)
        seeding = time.perf_counter() - started
        keep = users[DEPARTED:]
        emulator.counters.reset()
        prune = _run_child("prune", {**env, "BENCH_KEEP_USERS": json.dumps(keep)})
        requests = _secrets_manager_requests(emulator)
        total = sum(requests.values())
        bound = math.ceil(USERS / 100) + DEPARTED
        section.add(
            f"Prune {DEPARTED} of {USERS:,} stored tokens: requests",
            str(total),
            "Secrets Manager requests during `PruneFederationTokensOperator.execute`, counted by the emulator: "
            + ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
            + f"; {prune['count']} keys deleted. O(stored / page + deletions) = {USERS:,}/100 + {DEPARTED} = {bound}.",
            f"<= {bound}",
            total <= bound and prune["count"] == DEPARTED,
        )
        section.add(
            f"Prune {DEPARTED} of {USERS:,} stored tokens: time",
            f"{prune['seconds']:.1f} s",
            "wall time of `execute` in a fresh interpreter, against the in-process emulator (moto's Secrets "
            f"Manager holding {USERS:,} secrets; writing them took {seeding:.0f} s).",
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD:
        print(json.dumps(child(sys.argv[2])))
    else:
        main(measure, "Roster at contact-center scale (issue 24)")
