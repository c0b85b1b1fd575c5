from __future__ import annotations

import pytest

from airflow_connect_fed.exceptions import InvalidInputError
from airflow_connect_fed.fan_out import DEFAULT_CHUNK_SIZE, agent_chunks


def test_chunks_keep_order_and_size():
    users = [f"agent-{i:03d}" for i in range(250)]
    chunks = agent_chunks(users)
    assert [len(chunk) for chunk in chunks] == [DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, 50]
    assert [user for chunk in chunks for user in chunk] == users


def test_chunk_size_and_empty_list():
    assert agent_chunks(["a1", "a2", "a3"], chunk_size=2) == [["a1", "a2"], ["a3"]]
    assert agent_chunks([]) == []


@pytest.mark.parametrize(
    ("users", "size", "message"),
    [
        ("a1,a2", 2, "connect_users must be a list of Connect usernames, got str 'a1,a2'"),
        (["a1"], 0, "chunk_size must be a whole number >= 1, got 0"),
        (["a1"], True, "got True"),
    ],
)
def test_bad_values(users, size, message):
    with pytest.raises(InvalidInputError, match=message):
        agent_chunks(users, chunk_size=size)
