"""Tokens reach Airflow's masker through its public mask_secret, once each; a failure is not swallowed."""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from airflow_connect_fed import masking
from tests.federation_answers import success_body
from tests.masker import redact


def fresh() -> str:
    return "secret-" + secrets.token_urlsafe(16)


def test_values_are_masked_by_airflows_masker():
    first, second = fresh(), fresh()
    masking.mask_secrets([first, second])
    assert redact(f"a {first} b {second}") == "a *** b ***"


def test_one_mask_secret_call_with_only_the_new_values(monkeypatch):
    calls = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", calls.append)
    known, new = fresh(), fresh()
    masking.mask_secrets([known])
    masking.mask_secrets([known, new, new])
    masking.mask_secrets([known, new])
    assert calls == [[known], [new]]


def test_threads_call_mask_secret_one_at_a_time_and_register_a_shared_value_once(monkeypatch):
    """The bulk fetch's threads register tokens at once: Airflow's masker sees one call at a time."""
    inside, most_inside, calls = [], [0], []
    guard = threading.Lock()

    def slow_mask_secret(values):
        with guard:
            inside.append(values)
            most_inside[0] = max(most_inside[0], len(inside))
            calls.append(values)
        time.sleep(0.02)  # a recompile of the masker's regex, long enough for the others to arrive
        with guard:
            inside.remove(values)

    monkeypatch.setattr("airflow.sdk.log.mask_secret", slow_mask_secret)
    shared, start = fresh(), threading.Barrier(12)

    def register() -> None:
        start.wait()
        masking.mask_secrets([shared, fresh()])

    threads = [threading.Thread(target=register) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 12
    assert most_inside[0] == 1
    assert sum(shared in values for values in calls) == 1


def test_a_failure_to_register_propagates_and_is_tried_again(monkeypatch):
    value = fresh()

    def broken(_):
        raise RuntimeError("the supervisor is gone")

    monkeypatch.setattr("airflow.sdk.log.mask_secret", broken)
    with pytest.raises(RuntimeError, match="the supervisor is gone"):
        masking.mask_secrets([value])
    calls = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", calls.append)
    masking.mask_secrets([value])
    assert calls == [[value]]


def test_a_failure_to_register_fails_the_operator_before_the_token_is_stored(monkeypatch):
    from botocore.stub import Stubber
    from moto import mock_aws

    from airflow_connect_fed.destinations import TokenDestination
    from airflow_connect_fed.operators.federation_token import GetFederationTokenOperator

    class Recorder(TokenDestination):
        kind = "recorder"
        texts: list[str] = []

        def write(self, token, connect_user=None, principal=None):
            self.texts.append(token.user_arn)
            return {"kind": self.kind}

        @classmethod
        def read(cls, reference):
            raise NotImplementedError

    def broken(_):
        raise RuntimeError("cannot tell the supervisor")

    monkeypatch.setattr("airflow.sdk.log.mask_secret", broken)
    body = success_body()
    body["Credentials"].update(AccessToken=fresh(), RefreshToken=fresh())  # never registered before
    op = GetFederationTokenOperator(
        task_id="t", instance_id="i-1", destination=Recorder(), aws_conn_id=None, region_name="us-east-1"
    )
    # Stubber on the hook's own Connect client; moto answers the GetCallerIdentity naming the requester.
    with mock_aws(), Stubber(op.hook.conn) as stub:
        stub.add_response("get_federation_token", body, {"InstanceId": "i-1"})
        with pytest.raises(RuntimeError, match="cannot tell the supervisor"):
            op.execute({})
        stub.assert_no_pending_responses()
    assert Recorder.texts == []


def test_redact_replaces_what_this_process_registered():
    value = fresh()
    masking.mask_secrets([value, "abc"])
    assert masking.redact(f"x {value} abc") == "x *** abc"  # shorter than 5: never masked, as in Airflow
