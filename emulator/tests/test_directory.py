"""Connect users per instance: ``UserDirectory``, ``ConnectUser``, and Create/Describe/ListUsers over HTTP."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from amazon_connect_emulator.directory import ConnectUser, DuplicateUsername, UserDirectory, new_user

if TYPE_CHECKING:
    from conftest import Agent, ErrorOf, Federate, FederationError

    from amazon_connect_emulator import ConnectEmulator

INSTANCE = ("123456789012", "us-east-1", "instance-a")
INSTANCE_ARN = "arn:aws:connect:us-east-1:123456789012:instance/instance-a"


# UserDirectory and ConnectUser


def test_add_stores_the_user_under_its_instance() -> None:
    directory = UserDirectory()
    user = directory.add(INSTANCE, INSTANCE_ARN, "Alice", {"RoutingProfileId": "r1"})
    assert user is not None
    assert (user.username, user.region, user.settings) == ("Alice", "us-east-1", {"RoutingProfileId": "r1"})
    assert user.arn == f"{INSTANCE_ARN}/agent/{user.id}"
    assert directory.get(INSTANCE, user.id) == user
    assert directory.find(INSTANCE, "Alice") == user
    assert directory.users(INSTANCE) == [user]


def test_ids_are_unique_and_users_listed_in_creation_order() -> None:
    directory = UserDirectory()
    users = [directory.add(INSTANCE, INSTANCE_ARN, name, {}) for name in ("bob", "Alice", "carol")]
    assert all(user is not None for user in users)
    assert len({user.id for user in users if user is not None}) == 3
    assert [user.username for user in directory.users(INSTANCE)] == ["bob", "Alice", "carol"]


def test_a_username_is_unique_per_instance_only() -> None:
    directory = UserDirectory()
    first = directory.add(INSTANCE, INSTANCE_ARN, "Alice", {})
    assert directory.add(INSTANCE, INSTANCE_ARN, "Alice", {"RoutingProfileId": "other"}) is None
    assert directory.users(INSTANCE) == [first]
    # Another instance id, region or account is another instance.
    for other in [
        ("123456789012", "us-east-1", "instance-b"),
        ("123456789012", "us-west-2", "instance-a"),
        ("111122223333", "us-east-1", "instance-a"),
    ]:
        added = directory.add(
            other, f"arn:aws:connect:{other[1]}:{other[0]}:instance/{other[2]}", "Alice", {}
        )
        assert added is not None
        assert added.region == other[1]
        assert directory.users(other) == [added]
    assert directory.users(INSTANCE) == [first]


def test_usernames_are_case_sensitive() -> None:
    directory = UserDirectory()
    alice = directory.add(INSTANCE, INSTANCE_ARN, "Alice", {})
    lower = directory.add(INSTANCE, INSTANCE_ARN, "alice", {})
    assert lower is not None
    assert lower != alice
    assert directory.find(INSTANCE, "Alice") == alice
    assert directory.find(INSTANCE, "alice") == lower
    assert directory.find(INSTANCE, "ALICE") is None


def test_lookups_of_what_is_not_there_are_none() -> None:
    directory = UserDirectory()
    user = directory.add(INSTANCE, INSTANCE_ARN, "Alice", {})
    assert user is not None
    other = ("123456789012", "us-east-1", "instance-b")
    assert directory.get(INSTANCE, "no-such-id") is None
    assert directory.get(other, user.id) is None  # a user id belongs to its instance
    assert directory.find(other, "Alice") is None
    assert directory.users(other) == []


def test_the_first_federation_binds_the_principal() -> None:
    directory = UserDirectory()
    role = "arn:aws:iam::123456789012:role/ConnectFederation"
    assert directory.bind_principal(INSTANCE, "user-1", role) == role
    assert directory.bind_principal(INSTANCE, "user-1", "arn:aws:iam::123456789012:role/Other") == role
    # Bindings are per user and per instance.
    assert directory.bind_principal(INSTANCE, "user-2", "arn:aws:iam::123456789012:user/bob") == (
        "arn:aws:iam::123456789012:user/bob"
    )
    other = ("123456789012", "us-east-1", "instance-b")
    assert directory.bind_principal(other, "user-1", "arn:aws:iam::123456789012:role/Other") == (
        "arn:aws:iam::123456789012:role/Other"
    )


def test_clear_forgets_users_and_bindings() -> None:
    directory = UserDirectory()
    user = directory.add(INSTANCE, INSTANCE_ARN, "Alice", {})
    assert user is not None
    directory.bind_principal(INSTANCE, user.id, "arn:aws:iam::123456789012:role/First")
    directory.clear()
    assert directory.users(INSTANCE) == []
    assert directory.get(INSTANCE, user.id) is None
    assert directory.bind_principal(INSTANCE, user.id, "arn:aws:iam::123456789012:role/Second") == (
        "arn:aws:iam::123456789012:role/Second"
    )
    assert directory.add(INSTANCE, INSTANCE_ARN, "Alice", {}) is not None


def test_concurrent_adds_of_one_username_create_one_user() -> None:
    directory = UserDirectory()
    start = threading.Barrier(8, timeout=30)

    def add(_: int) -> ConnectUser | None:
        start.wait()
        return directory.add(INSTANCE, INSTANCE_ARN, "Alice", {})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(8)))
    created = [user for user in results if user is not None]
    assert len(created) == 1
    assert directory.users(INSTANCE) == created


def test_add_many_is_all_or_nothing_and_may_report_existing_users() -> None:
    directory = UserDirectory()
    alice = directory.add(INSTANCE, INSTANCE_ARN, "alice@example.com", {})
    with pytest.raises(
        DuplicateUsername, match=r"^A user named 'alice@example\.com' already exists in instance instance-a$"
    ):
        directory.add_many(INSTANCE, INSTANCE_ARN, [("bob@example.com", {}), ("alice@example.com", {})])
    with pytest.raises(ValueError, match=r"^Username 'bob@example\.com' is given more than once"):
        directory.add_many(INSTANCE, INSTANCE_ARN, [("bob@example.com", {}), ("bob@example.com", {})])
    assert directory.users(INSTANCE) == [alice]
    added = directory.add_many(
        INSTANCE, INSTANCE_ARN, [("bob@example.com", {}), ("alice@example.com", {})], existing_ok=True
    )
    assert [(user.username, created) for user, created in added] == [
        ("bob@example.com", True),
        ("alice@example.com", False),
    ]
    assert added[1][0] == alice


def test_update_and_remove() -> None:
    directory = UserDirectory()
    alice = directory.add(
        INSTANCE, INSTANCE_ARN, "alice@example.com", {"RoutingProfileId": "r1", "Tags": {"a": "b"}}
    )
    bob = directory.add(INSTANCE, INSTANCE_ARN, "bob@example.com", {})
    assert alice is not None
    assert bob is not None
    updated = directory.update(INSTANCE, alice.id, RoutingProfileId="r2", Tags=None)
    assert updated is not None
    assert (updated.id, updated.settings) == (alice.id, {"RoutingProfileId": "r2"})
    assert updated.last_modified_time >= alice.last_modified_time
    assert [user.username for user in directory.users(INSTANCE)] == ["alice@example.com", "bob@example.com"]
    assert directory.update(INSTANCE, "nobody", RoutingProfileId="r2") is None

    directory.bind_principal(INSTANCE, alice.id, "arn:aws:iam::123456789012:role/First")
    assert directory.remove(INSTANCE, alice.id) == updated
    assert directory.remove(INSTANCE, alice.id) is None
    assert (directory.get(INSTANCE, alice.id), directory.find(INSTANCE, "alice@example.com")) == (None, None)
    assert directory.bind_principal(INSTANCE, alice.id, "arn:aws:iam::123456789012:role/Second") == (
        "arn:aws:iam::123456789012:role/Second"
    )
    again = directory.add(INSTANCE, INSTANCE_ARN, "alice@example.com", {})
    assert again is not None
    assert [user.username for user in directory.users(INSTANCE)] == ["bob@example.com", "alice@example.com"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"Username": "a@example.com", "HierarchyGroupId": ""}, "HierarchyGroupId must be a non-empty string, got ''"),
        ({"Username": "a@example.com", "IdentityInfo": "Alice"}, "IdentityInfo must be an object, got 'Alice'"),
        ({"Username": "a@example.com", "Tags": {}}, "Tags must be an object of 1 to 50 non-empty string keys"),
        ({"Username": "a@example.com", "SecurityProfileIds": ["p"] * 11}, "SecurityProfileIds must be a list of 1 to 10"),
    ],
)  # fmt: skip
def test_new_user_checks_the_create_user_fields(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        new_user(entry)


def test_new_user_fills_in_the_instance_defaults() -> None:
    assert new_user("alice@example.com") == (
        "alice@example.com",
        {
            "RoutingProfileId": "emulator-basic-routing",
            "SecurityProfileIds": ["emulator-agent"],
            "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
        },
    )
    username, settings = new_user({"Username": "b@example.com", "RoutingProfileId": "r", "Password": "x"})
    assert (username, settings["RoutingProfileId"], "Password" in settings) == ("b@example.com", "r", False)


def test_connect_user_summary_and_description_shapes() -> None:
    user = ConnectUser(
        id="user-1",
        arn=f"{INSTANCE_ARN}/agent/user-1",
        username="Alice",
        region="eu-west-2",
        settings={"RoutingProfileId": "r1", "Tags": {"team": "blue"}},
        last_modified_time=1700000000.5,
    )
    summary = {
        "Id": "user-1",
        "Arn": f"{INSTANCE_ARN}/agent/user-1",
        "Username": "Alice",
        "LastModifiedTime": 1700000000.5,
        "LastModifiedRegion": "eu-west-2",
    }
    assert user.summary() == summary
    assert user.description() == {**summary, "RoutingProfileId": "r1", "Tags": {"team": "blue"}}
    assert ConnectUser("u", "arn", "name", "us-east-1").settings == {}


# Over HTTP


@pytest.mark.integration
def test_create_describe_and_list_users(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("users")
    alice = connect_emulator.create_user(instance["id"], "Alice")
    bob = connect_emulator.create_user(instance["id"], "bob")
    connect = connect_emulator.client("connect")

    described = connect.describe_user(InstanceId=instance["id"], UserId=alice["id"])["User"]
    assert described["Id"] == alice["id"]
    assert described["Arn"] == f"{instance['arn']}/agent/{alice['id']}" == alice["arn"]
    assert described["Username"] == "Alice"
    assert described["SecurityProfileIds"] == ["emulator-agent"]
    assert described["PhoneConfig"] == {"PhoneType": "SOFT_PHONE"}
    assert described["LastModifiedRegion"] == "us-east-1"
    assert abs(described["LastModifiedTime"].timestamp() - time.time()) < 60

    summaries = connect.list_users(InstanceId=instance["id"])["UserSummaryList"]
    assert [(s["Id"], s["Username"]) for s in summaries] == [(alice["id"], "Alice"), (bob["id"], "bob")]

    first_page = connect.list_users(InstanceId=instance["id"], MaxResults=1)
    second_page = connect.list_users(
        InstanceId=instance["id"], MaxResults=1, NextToken=first_page["NextToken"]
    )
    assert [s["Username"] for s in first_page["UserSummaryList"] + second_page["UserSummaryList"]] == [
        "Alice",
        "bob",
    ]
    assert "NextToken" not in second_page


@pytest.mark.integration
def test_users_are_kept_per_instance(connect_emulator: ConnectEmulator) -> None:
    first = connect_emulator.create_instance("first")
    second = connect_emulator.create_instance("second")
    connect_emulator.create_user(first["id"], "Alice")
    connect_emulator.create_user(second["id"], "Alice")  # the same username in another instance is fine
    connect = connect_emulator.client("connect")
    assert len(connect.list_users(InstanceId=first["id"])["UserSummaryList"]) == 1
    assert len(connect.list_users(InstanceId=second["id"])["UserSummaryList"]) == 1


@pytest.mark.integration
def test_create_user_in_unknown_instance_is_404(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").create_user(
            InstanceId="no-such-instance", Username="Alice", SecurityProfileIds=["p"], RoutingProfileId="r"
        )
    status, code, message = error_of(raised.value)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "no-such-instance" in message


@pytest.mark.integration
def test_duplicate_username_is_409(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    instance = connect_emulator.create_instance("dupes")
    connect_emulator.create_user(instance["id"], "Alice")
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").create_user(
            InstanceId=instance["id"], Username="Alice", SecurityProfileIds=["p"], RoutingProfileId="r"
        )
    status, code, message = error_of(raised.value)
    assert (status, code) == (409, "DuplicateResourceException")
    assert message == f"A user named 'Alice' already exists in instance {instance['id']}"


@pytest.mark.integration
def test_describe_unknown_user_is_404(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    instance = connect_emulator.create_instance("nobody")
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").describe_user(InstanceId=instance["id"], UserId="missing-user")
    status, code, message = error_of(raised.value)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "missing-user" in message


@pytest.mark.integration
def test_delete_user_then_federating_as_that_user_is_user_not_found(
    connect_emulator: ConnectEmulator,
    agent: Agent,
    federate: Federate,
    federation_error: FederationError,
    error_of: ErrorOf,
) -> None:
    federate(connect_emulator, agent.instance["id"], agent.credentials)  # bound to the role
    connect = connect_emulator.client("connect")
    connect.delete_user(InstanceId=agent.instance["id"], UserId=agent.user["id"])

    status, code, message = error_of(
        federation_error(connect_emulator, agent.instance["id"], agent.credentials)
    )
    assert (status, code) == (404, "UserNotFoundException")
    assert "No user named 'Alice'" in message
    for call in (connect.describe_user, connect.delete_user):
        with pytest.raises(ClientError) as raised:
            call(InstanceId=agent.instance["id"], UserId=agent.user["id"])
        assert error_of(raised.value) == (
            404,
            "ResourceNotFoundException",
            f"User {agent.user['id']} not found in instance {agent.instance['id']}",
        )
    assert connect.search_users(InstanceId=agent.instance["id"])["Users"] == []

    # Created again, the user is new: another id, and free to federate through another role.
    again = connect_emulator.create_user(agent.instance["id"], "Alice")
    assert again["id"] != agent.user["id"]
    other = connect_emulator.credentials_for(
        "Alice", connect_emulator.create_federation_role("OtherFederation")
    )
    assert federate(connect_emulator, agent.instance["id"], other)["UserId"] == again["id"]


@pytest.mark.integration
def test_update_user_routing_profile_then_search_by_it(
    connect_emulator: ConnectEmulator, error_of: ErrorOf
) -> None:
    instance_id = connect_emulator.create_instance("profiles")["id"]
    alice = connect_emulator.create_user(instance_id, "alice@example.com", routing_profile_id="rp-sales")
    connect_emulator.create_user(instance_id, "bob@example.com", routing_profile_id="rp-sales")
    connect = connect_emulator.client("connect")
    before = connect.describe_user(InstanceId=instance_id, UserId=alice["id"])["User"]["LastModifiedTime"]

    connect.update_user_routing_profile(
        InstanceId=instance_id, UserId=alice["id"], RoutingProfileId="rp-support"
    )

    criteria = {
        "StringCondition": {"FieldName": "RoutingProfileId", "Value": "rp-support", "ComparisonType": "EXACT"}
    }
    found = connect.search_users(InstanceId=instance_id, SearchCriteria=criteria)["Users"]
    assert [(u["Username"], u["RoutingProfileId"]) for u in found] == [("alice@example.com", "rp-support")]
    described = connect.describe_user(InstanceId=instance_id, UserId=alice["id"])["User"]
    assert described["LastModifiedTime"] >= before
    with pytest.raises(ClientError) as raised:
        connect.update_user_routing_profile(
            InstanceId=instance_id, UserId="nobody", RoutingProfileId="rp-support"
        )
    assert error_of(raised.value)[:2] == (404, "ResourceNotFoundException")


@pytest.mark.integration
def test_tags_of_a_user(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    instance = connect_emulator.create_instance("tags")
    alice = connect_emulator.create_user(instance["id"], "alice@example.com", tags={"team": "blue"})
    connect = connect_emulator.client("connect")

    connect.tag_resource(resourceArn=alice["arn"], tags={"site": "paris", "team": "red"})
    assert connect.list_tags_for_resource(resourceArn=alice["arn"])["tags"] == {
        "team": "red",
        "site": "paris",
    }
    connect.untag_resource(resourceArn=alice["arn"], tagKeys=["team", "absent"])
    assert connect.list_tags_for_resource(resourceArn=alice["arn"])["tags"] == {"site": "paris"}
    described = connect.describe_user(InstanceId=instance["id"], UserId=alice["id"])["User"]
    assert described["Tags"] == {"site": "paris"}
    connect.untag_resource(resourceArn=alice["arn"], tagKeys=["site"])
    assert connect.list_tags_for_resource(resourceArn=alice["arn"])["tags"] == {}
    assert "Tags" not in connect.search_users(InstanceId=instance["id"])["Users"][0]

    unknown = alice["arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as raised:
        connect.tag_resource(resourceArn=unknown, tags={"a": "b"})
    assert error_of(raised.value) == (404, "ResourceNotFoundException", f"Resource {unknown} not found")
    # An instance's tags are still moto's.
    connect.tag_resource(resourceArn=instance["arn"], tags={"env": "test"})
    assert connect.list_tags_for_resource(resourceArn=instance["arn"])["tags"] == {"env": "test"}
    connect.untag_resource(resourceArn=instance["arn"], tagKeys=["env"])
    assert connect.list_tags_for_resource(resourceArn=instance["arn"])["tags"] == {}
