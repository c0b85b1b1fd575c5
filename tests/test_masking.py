from __future__ import annotations

import re
import secrets
import threading

import pytest

from airflow_connect_fed import masking
from airflow_connect_fed.masking import LiteralReplacer, mask_values
from tests.masker import redact


@pytest.fixture
def masker():
    """This process's Airflow masker, emptied for the test and restored after it."""
    local = masking._local_masker()
    saved = (local.patterns, local.replacer)
    local.patterns, local.replacer = set(), None
    yield local
    local.patterns, local.replacer = saved


def _token() -> str:
    return secrets.token_urlsafe(48)


def test_masked_values_are_redacted_in_strings_and_structures(masker):
    access, refresh = _token(), _token()
    mask_values([access, refresh])

    assert redact(f"access={access} refresh={refresh}") == "access=*** refresh=***"
    assert redact({"nested": [f"Bearer {access}"]}) == {"nested": ["Bearer ***"]}


def test_adding_tokens_compiles_nothing(masker, monkeypatch):
    from airflow.sdk.log import mask_secret

    mask_secret("connection-password-1")
    compiled = masker.replacer
    compiles: list[str] = []
    real_compile = re.compile
    monkeypatch.setattr(
        re, "compile", lambda pattern, *a: compiles.append(pattern) or real_compile(pattern, *a)
    )

    tokens = [_token() for _ in range(100)]
    for pair in zip(tokens[::2], tokens[1::2], strict=True):
        mask_values(pair)

    assert compiles == []
    assert masker.replacer.compiled is compiled
    assert len(masker.replacer.literals) == 100
    line = " ".join(tokens) + " connection-password-1"
    assert redact(line) == " ".join(["***"] * 101)


def test_a_later_mask_secret_folds_the_tokens_into_airflows_regex(masker):
    from airflow.sdk.log import mask_secret

    token = _token()
    mask_values([token])
    mask_secret("another-secret-value")

    assert isinstance(masker.replacer, re.Pattern)
    assert redact(f"{token} another-secret-value") == "*** ***"


def test_overlapping_secrets_are_masked_as_one_span(masker):
    from airflow.sdk.log import mask_secret

    mask_secret("PASSWORD123")
    token = f"abc{_token()}PASSWORD123xyz"
    mask_values([token])

    assert redact(f"<{token}>") == "<***>"
    assert redact("<PASSWORD123>") == "<***>"


def test_repeated_and_adjacent_occurrences_leave_nothing_of_a_token(masker):
    first, second = _token(), _token()
    mask_values([first, second])

    assert redact(f"{first}{second} {first}") == "****** ***"


def test_values_already_registered_are_not_added_twice(masker):
    token = _token()
    mask_values([token, token])
    mask_values([token])

    assert masker.replacer.literals == (token,)


def test_values_shorter_than_the_masking_minimum_are_skipped_as_airflow_does(masker):
    mask_values(["abc", ""])

    assert masker.replacer is None
    assert redact("abc") == "abc"


def test_concurrent_adds_lose_no_token(masker):
    batches = [[_token(), _token()] for _ in range(400)]
    start = threading.Barrier(8)

    def add(share: list[list[str]]) -> None:
        start.wait()
        for batch in share:
            mask_values(batch)

    threads = [threading.Thread(target=add, args=(batches[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    tokens = [token for batch in batches for token in batch]
    assert len(masker.replacer.literals) == 800
    assert redact(" ".join(tokens)) == " ".join(["***"] * 800)


def test_the_supervisor_is_told_in_one_message(masker, monkeypatch):
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import MaskSecret

    sent: list[object] = []

    class Comms:
        def send(self, message: object) -> None:
            sent.append(message)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    access, refresh = _token(), _token()
    mask_values([access, refresh])

    assert sent == [MaskSecret(value=[access, refresh])]


def test_replacer_without_a_compiled_pattern_or_a_match_returns_the_string():
    replacer = LiteralReplacer(None, ("secret-value",))

    assert replacer.sub("***", "nothing here") == "nothing here"
    assert replacer.sub("[x]", "a secret-value b") == "a [x] b"


def test_without_a_usable_masker_values_go_through_mask_secret(monkeypatch):
    added: list[object] = []
    monkeypatch.setattr(masking, "_local_masker", lambda: None)
    monkeypatch.setattr("airflow.sdk.log.mask_secret", added.append)

    mask_values(["token-one-value", "token-two-value"])

    assert added == [["token-one-value", "token-two-value"]]
