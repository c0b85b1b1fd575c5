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
    sends, answers = _observe_search_users()
    started = time.perf_counter()
    result = operator.execute({})
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "first_send": (sends[0] - started) if sends else None,
        "last_answer": (answers[-1] - started) if answers else None,
        "count": len(result),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _observe_search_users() -> tuple[list[float], list[float]]:
    """When each SearchUsers request is sent and answered: a wrapper around botocore's event emitter that
    only records the time and calls the original (see the README's "Instrumentation")."""
    import botocore.hooks

    sends: list[float] = []
    answers: list[float] = []
    emit = botocore.hooks.HierarchicalEmitter.emit

    def observed(self: Any, event_name: str, **kwargs: Any) -> Any:
        if event_name == "before-send.connect.SearchUsers":
            sends.append(time.perf_counter())
        elif event_name == "after-call.connect.SearchUsers":
            answers.append(time.perf_counter())
        return emit(self, event_name, **kwargs)

    botocore.hooks.HierarchicalEmitter.emit = observed  # type: ignore[method-assign]
    return sends, answers


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
        instance = emulator.create_instance("roster")
        instance_id = instance["id"]
        users = [_username(i) for i in range(USERS)]
        emulator.create_users(
            instance_id, [{"Username": user, "RoutingProfileId": ROUTING_PROFILE} for user in users]
        )
        credentials = emulator.federator_credentials()
        env = {
            **os.environ,
            **emulator.airflow_env(CONN_ID, **credentials),
            **emulator.secrets_backend_env(credentials),
            # The ARN, as the README's DAG gives it: it names the account, so no STS call is needed for it.
            "BENCH_INSTANCE_ID": instance["arn"],
        }

        emulator.counters.reset()
        listing = _run_child("list", env)
        searches = emulator.counters.operation("connect", "SearchUsers")
        throttled = emulator.counters.throttled_operation("SearchUsers")
        pages = math.ceil(USERS / PAGE)
        floor = max(0, pages - LIST_BURST) / LIST_RATE
        paced = listing["last_answer"] - listing["first_send"]
        ratio = paced / floor
        section.add(
            f"Listing {USERS:,} users: time",
            f"{listing['seconds']:.2f} s",
            f"`ListConnectUsersOperator.execute` (one routing profile, all {USERS:,} users in it, the instance "
            "given by ARN) in a fresh interpreter with Secrets Manager as its secrets backend: "
            f"{listing['first_send']:.2f} s to the first SearchUsers request (the connection looked up, "
            f"boto3's Connect client built), then {paced:.2f} s of paged listing; {searches} SearchUsers "
            f"requests ({throttled} throttled) at the emulator's {LIST_RATE:g}/s, burst {LIST_BURST}. An "
            "instance given by ID costs one STS GetCallerIdentity call more (the account of the quota).",
        )
        section.add(
            "Listing time / the quota's floor",
            f"{ratio:.2f}",
            f"the paged listing (first SearchUsers request sent to last answer) against the floor a full bucket "
            f"allows: {pages} pages of {PAGE}, the first {LIST_BURST} at once, then {LIST_RATE:g}/s = "
            f"{floor:.1f} s. Against pages / rate ({pages / LIST_RATE:.1f} s) the whole `execute` is "
            f"{listing['seconds'] / (pages / LIST_RATE):.2f}.",
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
        emulator.set_secretsmanager_write_quota(1e6, 1_000_000)  # setup, not measured: no write pacing
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
