"""IndexedSecretsStore answers every lookup as moto's scanning SecretsStore does, from its index;
installed on each backend before a Secrets Manager request, also after moto re-creates it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsStore, secretsmanager_backends

from amazon_connect_emulator.secrets_store import IndexedSecretsStore, indexed_backend

if TYPE_CHECKING:
    from amazon_connect_emulator import ConnectEmulator

ACCOUNT = "123456789012"
NAME = "connect/agents/agent.one@example.com"


def secret(name: str, region: str = "us-east-1") -> FakeSecret:
    return FakeSecret(
        account_id=ACCOUNT, region_name=region, secret_id=name, secret_version={}, version_id="v1"
    )


def both(*entries: tuple[str, Any]) -> tuple[SecretsStore, IndexedSecretsStore]:
    plain = SecretsStore()
    for key, value in entries:
        plain[key] = value
    return plain, IndexedSecretsStore(entries)


def lookups(store: SecretsStore, key: str) -> tuple[Any, ...]:
    found = store.get(key)
    return (key in store, found.arn if found is not None else None)


@pytest.fixture
def stored() -> list[tuple[str, Any]]:
    """Two secrets and a replica (keyed by its ARN) of a third secret of another region."""
    one, two, source = (
        secret(NAME),
        secret("connect/agents/agent.two@example.com"),
        secret("shared", "eu-west-2"),
    )
    replica = ReplicaSecret(source, "us-east-1")
    return [(one.name, one), (two.name, two), (replica.arn, replica)]


def identifiers(entries: list[tuple[str, Any]]) -> list[str]:
    """Each secret's name, full ARN and partial ARN (without moto's random suffix), and unknown ones."""
    names = [i for _, s in entries for i in (s.name, s.arn, s.arn.rsplit("-", 1)[0])]
    return [*names, "missing", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-abcdef"]


def test_lookups_answer_as_moto_does(stored: list[tuple[str, Any]]) -> None:
    plain, indexed = both(*stored)
    for key in identifiers(stored):
        assert lookups(indexed, key) == lookups(plain, key), key
        if key in plain:
            assert indexed[key] is plain[key]
        else:
            with pytest.raises(KeyError):
                indexed[key]


def test_pop_answers_as_moto_does_and_forgets(stored: list[tuple[str, Any]]) -> None:
    for key in identifiers(stored):
        plain, indexed = both(*stored)
        assert indexed.pop(key) is plain.pop(key), key
        for other in identifiers(stored):
            assert lookups(indexed, other) == lookups(plain, other), (key, other)


def test_replacing_and_deleting_keep_the_index(stored: list[tuple[str, Any]]) -> None:
    plain, indexed = both(*stored)
    again = secret(NAME)
    for store in (plain, indexed):
        store[NAME] = again
        del store["connect/agents/agent.two@example.com"]
    for key in [*identifiers(stored), again.arn]:
        assert lookups(indexed, key) == lookups(plain, key), key
    indexed.clear()
    assert NAME not in indexed
    assert again.arn not in indexed


def test_a_name_two_secrets_share_finds_the_first_stored_as_moto_does() -> None:
    source = secret(NAME, "eu-west-2")
    replica = ReplicaSecret(source, "us-east-1")
    own = secret(NAME)
    plain, indexed = both((replica.arn, replica), (NAME, own))
    assert indexed.get(NAME) is plain.get(NAME) is replica
    del plain[replica.arn], indexed[replica.arn]
    assert indexed.get(NAME) is plain.get(NAME) is own


@pytest.mark.integration
def test_installed_before_requests_and_again_after_a_reset(connect_emulator: ConnectEmulator) -> None:
    secrets = connect_emulator.client("secretsmanager")
    secrets.create_secret(Name=NAME, SecretString="v0")
    backend = secretsmanager_backends[ACCOUNT][connect_emulator.region]
    assert isinstance(backend.secrets, IndexedSecretsStore)
    connect_emulator.reset()  # moto re-creates its backends
    assert not isinstance(
        secretsmanager_backends[ACCOUNT][connect_emulator.region].secrets, IndexedSecretsStore
    )
    secrets.create_secret(Name=NAME, SecretString="v1")
    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == "v1"
    assert isinstance(secretsmanager_backends[ACCOUNT][connect_emulator.region].secrets, IndexedSecretsStore)


def test_installing_keeps_what_moto_stored(stored: list[tuple[str, Any]]) -> None:
    backend = secretsmanager_backends["111122223333"]["eu-west-1"]
    backend.secrets = SecretsStore()
    for key, value in stored:
        backend.secrets[key] = value
    assert indexed_backend("111122223333", "eu-west-1") is backend
    assert isinstance(backend.secrets, IndexedSecretsStore)
    assert dict(backend.secrets) == dict(stored)
    with pytest.raises(KeyError):
        indexed_backend("111122223333", "mars-1")
