"""The stored text and the XCom reference every destination shares."""

from __future__ import annotations

import json

import pytest

from airflow_connect_fed.destinations.base import deserialize, serialize, token_reference
from airflow_connect_fed.exceptions import InvalidFederationTokenError
from tests.destinations.conftest import no_token_in, token
from tests.masker import redact


def test_stored_text_round_trips_with_who_asked():
    text = serialize(token(), "agent-1", "arn:aws:iam::123456789012:role/R")
    stored, connect_user, principal = deserialize(text, "secret 'k'")
    assert stored == token()
    assert (connect_user, principal) == ("agent-1", "arn:aws:iam::123456789012:role/R")
    assert redact(stored.access_token) == "***"  # masked as soon as it is read


@pytest.mark.parametrize(("text", "message"), [("{oops", "is not JSON"), ("[1]", "is not a JSON object")])
def test_unreadable_text_names_the_place_not_the_content(text, message):
    with pytest.raises(
        InvalidFederationTokenError, match=f"The value stored at secret 'k' {message}"
    ) as raised:
        deserialize(text, "secret 'k'")
    assert text not in str(raised.value)


def test_a_reference_says_where_and_until_when_never_the_token():
    reference = token_reference("secrets_manager", {"secret_id": "k", "version_id": "v1"}, token())
    assert reference["kind"] == "secrets_manager"
    assert (reference["secret_id"], reference["version_id"]) == ("k", "v1")
    assert reference["access_token_expiration"] == token().access_token_expiration.isoformat()
    assert no_token_in(reference)
    json.dumps(reference)
