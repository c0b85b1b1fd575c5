"""load_federation_token: a token, a reference or the JSON text of either, read through the destinations' registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import DESTINATIONS
from airflow_connect_fed.exceptions import InvalidFederationTokenError
from airflow_connect_fed.token import FederationToken
from tests.federation_answers import ACCESS_TOKEN, INSTANCE_ID, REFRESH_TOKEN, success_body
from tests.masker import redact
from tests.operators.test_federation_token import answered, xcom_operator


class TestLoadFederationToken:
    def test_from_json_text(self):
        import json

        op = xcom_operator()
        with answered(op):
            value = op.execute({})
        assert load_federation_token(json.dumps(value)).access_token == ACCESS_TOKEN

    @pytest.mark.parametrize(
        ("value", "message"),
        [("not json", "not JSON"), (42, "got int"), ({}, "neither a federation token nor a reference")],
    )
    def test_bad_values(self, value, message):
        with pytest.raises(InvalidFederationTokenError, match=message):
            load_federation_token(value)


def test_a_token_dict_is_the_token_and_its_tokens_are_masked():
    token = FederationToken.from_dict(success_body())
    loaded = load_federation_token(token.to_dict())
    assert loaded == token
    assert redact(f"{loaded.access_token} {loaded.refresh_token}") == "*** ***"


def test_a_raw_api_response_reads_its_instance_from_the_user_arn():
    assert load_federation_token(success_body()).instance_id == INSTANCE_ID


class _Recorder:
    """A destination kind that returns the token it was given for any reference."""

    references: list[dict[str, Any]] = []
    token = FederationToken.from_dict(success_body(user="agent-9"))

    @classmethod
    def read(cls, reference: dict[str, Any]) -> FederationToken:
        cls.references.append(dict(reference))
        return cls.token


@pytest.mark.parametrize("as_text", [False, True], ids=["mapping", "json"])
def test_a_reference_is_read_by_the_destination_of_its_kind(monkeypatch, as_text):
    monkeypatch.setitem(DESTINATIONS, "recorder", _Recorder)
    monkeypatch.setattr(_Recorder, "references", [])
    reference = {"kind": "recorder", "name": "connect/agent-9", "version": "v1"}
    assert load_federation_token(json.dumps(reference) if as_text else reference) is _Recorder.token
    assert _Recorder.references == [reference]


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"kind": "vault", "name": "connect/agent-1"}, "kind='vault'"),
        ('{"kind": "vault"}', "kind='vault'"),
        ({"AccessToken": ACCESS_TOKEN}, "kind=None"),  # a token's fields without its Credentials
    ],
)
def test_an_unknown_kind_is_named(value, named):
    with pytest.raises(
        InvalidFederationTokenError, match="neither a federation token nor a reference"
    ) as raised:
        load_federation_token(value)
    assert named in str(raised.value)
    assert ACCESS_TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "named"), [([1, 2], "got list"), ("[1, 2]", "got list"), ("42", "got int")]
)
def test_a_value_that_is_no_mapping_names_its_type(value, named):
    with pytest.raises(InvalidFederationTokenError, match=f"a mapping\\), {named}\\.$"):
        load_federation_token(value)


def test_a_bare_token_is_refused_without_being_shown():
    with pytest.raises(InvalidFederationTokenError, match="string but not JSON") as raised:
        load_federation_token(REFRESH_TOKEN)
    assert REFRESH_TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None  # the JSONDecodeError, which holds the text, is not chained
    assert raised.value.__suppress_context__


def test_a_value_with_credentials_is_read_as_a_token():
    with pytest.raises(InvalidFederationTokenError, match=r"missing Credentials\.AccessToken"):
        load_federation_token({"Credentials": {}, "kind": "secrets_manager"})
