"""One client signing each thread's requests with the role session that thread bound."""

from __future__ import annotations

import threading

import pytest

from airflow_connect_fed._client.session_credentials import SessionCredentials


def keys(n: int) -> dict[str, str]:
    return {"AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": f"secret-{n}", "SessionToken": f"token-{n}"}


def test_each_thread_sees_its_own_session():
    credentials = SessionCredentials()
    seen: dict[int, tuple[str, str, str]] = {}
    ready = threading.Barrier(4)

    def worker(n: int) -> None:
        credentials.use(keys(n))
        ready.wait()  # every thread has bound its own before any reads
        frozen = credentials.get_frozen_credentials()
        seen[n] = (frozen.access_key, frozen.secret_key, frozen.token)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {n: (f"ASIA{n:016d}", f"secret-{n}", f"token-{n}") for n in range(4)}


def test_unbound_thread_is_an_error_not_another_identity():
    with pytest.raises(RuntimeError, match="No role session is bound to this thread"):
        SessionCredentials().get_frozen_credentials()


def test_the_provider_hands_out_these_credentials():
    credentials = SessionCredentials()
    assert credentials.provider().load() is credentials
