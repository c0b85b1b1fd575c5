"""The one rule that writes a Connect username into a Variable name, legal on both amazon stores."""

from __future__ import annotations

import itertools
import random
import re
import string

import pytest

from airflow_connect_fed import secret_key_for
from airflow_connect_fed.destinations import SecretsManagerDestination, SsmParameterDestination
from airflow_connect_fed.exceptions import InvalidConnectUserError, InvalidDestinationError
from airflow_connect_fed.secret_key import DEFAULT_SECRET_KEY, connect_user_of_key, user_key

STS_CHARACTERS = string.ascii_letters + string.digits + "+=,.@_-"


def read_back(key: str) -> str:
    """The username a key segment came from: every ``_`` starts a two-digit hex code."""
    return re.sub(r"_([0-9A-F]{2})", lambda code: chr(int(code.group(1), 16)), key)


@pytest.mark.parametrize(
    ("user", "key"),
    [
        ("agent-1", "connect/agents/agent-1"),
        ("agent.one@example.com", "connect/agents/agent.one_40example.com"),
        ("agent+two@example.com", "connect/agents/agent_2Btwo_40example.com"),
        ("agent_3", "connect/agents/agent_5F3"),
        ("a=b,c", "connect/agents/a_3Db_2Cc"),
        ("Agent.One", "connect/agents/Agent.One"),
        ("agent-4", "connect/agents/agent-4"),
        ("agent--5", "connect/agents/agent_2D_2D5"),
        ("a-b-c", "connect/agents/a-b-c"),
        ("a---b", "connect/agents/a_2D_2D_2Db"),
        ("-agent", "connect/agents/_2Dagent"),
        ("agent-", "connect/agents/agent_2D"),
        ("--", "connect/agents/_2D_2D"),
        ("a_2Db", "connect/agents/a_5F2Db"),
    ],
)
def test_examples_of_the_documented_rule(user, key):
    assert secret_key_for(user) == key
    assert read_back(user_key(user)) == user
    assert connect_user_of_key(key) == user


def test_a_template_of_ones_own():
    assert (
        secret_key_for("agent.one@example.com", "teams/{user}/connect")
        == "teams/agent.one_40example.com/connect"
    )
    assert DEFAULT_SECRET_KEY == "connect/agents/{user}"


def test_every_valid_username_is_a_legal_distinct_name_on_both_stores():
    rng = random.Random(17)  # noqa: S311 - reproducible test data
    users = {"".join(rng.choices(STS_CHARACTERS, k=rng.randint(2, 64))) for _ in range(5000)}
    users |= {"".join(pair) for pair in itertools.pairwise(STS_CHARACTERS)}
    users |= {"_5F", "__", "_40", "5F", "a_", "a@", "a_40"}  # would collide under a naive escape
    keys = {user: secret_key_for(user) for user in users}
    assert len(set(keys.values())) == len(users)
    for user, key in keys.items():
        assert read_back(key.removeprefix("connect/agents/")) == user
        assert connect_user_of_key(key) == user
        assert SecretsManagerDestination(f"airflow/variables/{key}").name.endswith(key)
        assert SsmParameterDestination(f"/airflow/variables/{key}").name.endswith(key)


def random_usernames(count: int, seed: int) -> set[str]:
    """``count`` random valid usernames, heavy in ``-`` (every run, run, edge) and in ``_`` codes."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    alphabet = STS_CHARACTERS + "-" * 20 + "_" * 5 + "2D"
    return {"".join(rng.choices(alphabet, k=rng.randint(2, 64))) for _ in range(count)}


def test_no_valid_username_writes_a_double_dash_and_none_shares_a_key():
    users = random_usernames(20_000, seed=26)
    users |= {"".join(chars) for chars in itertools.product("-a_2D", repeat=4)}  # every short mix
    users |= {"a--b", "a-b", "a_2Db", "a_2D_2Db", "a-_2Db", "a_2D-b"}
    keys = {user: user_key(user) for user in users}
    assert [key for key in keys.values() if "--" in key] == []
    assert [key for key in keys.values() if key.startswith("-") or key.endswith("-")] == []
    assert len(set(keys.values())) == len(users)
    for user, key in keys.items():
        assert connect_user_of_key(f"connect/agents/{key}") == user


@pytest.mark.parametrize("template", ["agent-{user}", "{user}-agent", "-{user}-", "a/{user}-{user}"])
def test_a_dash_next_to_the_user_field_never_makes_a_double_dash(template):
    for user in ("-a", "a-", "--", "a-b", "a--b"):
        key = secret_key_for(user, template)
        assert "--" not in key, (user, key)
        assert connect_user_of_key(key, template) == user


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("connect/agents/a--b", "the key an earlier release gave 'a--b'"),
        ("connect/agents/-agent", "the key an earlier release gave '-agent'"),
        ("connect/agents/agent-", "the key an earlier release gave 'agent-'"),
        ("connect/agents/a_2Db", "a code of a '-' the rule keeps"),
        ("connect/agents/a-_2Db", "half of a double dash coded"),
    ],
)
def test_a_key_with_a_dash_the_rule_would_have_coded_reads_back_as_none(key, why):
    assert connect_user_of_key(key) is None, why


@pytest.mark.parametrize("template", ["connect--agents/{user}", "connect/{user}--x", "--{user}"])
def test_a_template_holding_a_double_dash_is_refused_with_what_to_do(template):
    for call in (lambda: secret_key_for("agent-1", template), lambda: connect_user_of_key("x", template)):
        with pytest.raises(InvalidDestinationError) as raised:
            call()
        assert str(raised.value) == (
            f"secret_key {template!r} holds '--', which the amazon secrets backends refuse in a Variable name "
            "in multi-team mode (it separates a team's name from the key), so no task would read these tokens "
            "there. Use a single '-' or '/', e.g. 'connect/agents/{user}'."
        )


def test_the_longest_username_stays_within_both_stores():
    user = "@" * 64
    key = secret_key_for(user)
    assert len(key) == len("connect/agents/") + 3 * 64
    SecretsManagerDestination(f"airflow/variables/{key}")
    SsmParameterDestination(f"/airflow/variables/{key}")


@pytest.mark.parametrize("user", ["a", "x" * 65, "agent one", "agent#1", "agent-1\n", "ägent", None, 7])
def test_a_username_sts_refuses_is_named(user):
    with pytest.raises(InvalidConnectUserError, match="cannot be an STS role session name") as raised:
        secret_key_for(user)
    assert repr(user) in str(raised.value)


@pytest.mark.parametrize("template", ["connect/agents", "", None])
def test_a_template_without_the_user_field(template):
    with pytest.raises(InvalidDestinationError, match=r"has no '\{user\}'") as raised:
        secret_key_for("agent-1", template)
    assert repr(template) in str(raised.value)


@pytest.mark.parametrize(
    ("template", "key", "user"),
    [
        ("teams/{user}/connect", "teams/agent.one_40example.com/connect", "agent.one@example.com"),
        ("{user}", "agent_5F3", "agent_3"),
        ("connect/{user}.x", "connect/a.x.x", "a.x"),
        ("a/{user}/b/{user}", "a/agent-1/b/agent-1", "agent-1"),
    ],
)
def test_the_user_is_read_back_from_a_key_of_any_template(template, key, user):
    assert connect_user_of_key(key, template) == user
    assert secret_key_for(user, template) == key


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("connect/other/agent-1", "another prefix"),
        ("connect/agents/", "no user"),
        ("connect/agents/a", "a 1-character username"),
        ("connect/agents/" + "a" * 65, "a 65-character username"),
        ("connect/agents/agent_2b", "a lower-case code"),
        ("connect/agents/agent_41", "a code of a kept character ('A')"),
        ("connect/agents/agent_2F1", "a code of a character no username has ('/')"),
        ("connect/agents/agent_", "an unfinished code"),
        ("connect/agents/agent 1", "a character the rule never writes"),
        ("connect/agents/team/agent-1", "a deeper name"),
        ("Connect/agents/agent-1", "the prefix in another case"),
    ],
)
def test_a_key_the_rule_could_not_have_produced_reads_back_as_none(key, why):
    assert connect_user_of_key(key) is None, why


def test_a_repeated_user_field_must_repeat_the_same_user():
    assert connect_user_of_key("a/agent-1/b/agent-2", "a/{user}/b/{user}") is None


def test_reading_back_needs_the_user_field():
    with pytest.raises(InvalidDestinationError, match=r"has no '\{user\}'"):
        connect_user_of_key("connect/agents/agent-1", "connect/agents")
