"""Authentication profiles: the model's ranges, update checks, and List/Describe/UpdateAuthenticationProfile
over HTTP with boto3, with the token lifetimes they give GetFederationToken."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from amazon_connect_emulator.authentication_profiles import (
    AuthenticationProfiles,
    minutes_range,
    profile_changes,
)

if TYPE_CHECKING:
    from conftest import Agent, ErrorOf, Federate

    from amazon_connect_emulator import ConnectEmulator

#: Sends each call once and lets values botocore would refuse reach the emulator.
UNCHECKED = Config(parameter_validation=False, retries={"total_max_attempts": 1})


# The model's ranges and the update's checks


def test_ranges_are_the_models() -> None:
    assert minutes_range("PeriodicSessionDuration") == (10, 60)
    assert minutes_range("MaxSessionDuration") == (360, 720)
    assert minutes_range("SessionInactivityDuration") == (15, 720)


def test_profile_changes_maps_every_member_the_update_may_set() -> None:
    changes = profile_changes(
        {
            "Name": "Agents",
            "Description": "VPN only",
            "AllowedIps": ["10.0.0.0/16", "2001:db8::/32"],
            "BlockedIps": ["10.0.5.7"],
            "PeriodicSessionDuration": 10,
            "SessionInactivityDuration": 720,
            "SessionInactivityHandlingEnabled": True,
            "MaxSessionDuration": 360,  # not a member of the update: ignored, as AWS ignores it
            "Description2": "ignored",
        }
    )
    assert changes == {
        "name": "Agents",
        "description": "VPN only",
        "allowed_ips": ("10.0.0.0/16", "2001:db8::/32"),
        "blocked_ips": ("10.0.5.7",),
        "periodic_session_duration": 10,
        "session_inactivity_duration": 720,
        "session_inactivity_handling_enabled": True,
    }
    assert profile_changes({"Name": None}) == {}


BAD_UPDATES = [
    ({"PeriodicSessionDuration": 9}, "PeriodicSessionDuration must be a whole number of minutes from 10 to 60, got 9"),
    ({"PeriodicSessionDuration": 61}, "PeriodicSessionDuration must be a whole number of minutes from 10 to 60, got 61"),
    ({"SessionInactivityDuration": 14}, "SessionInactivityDuration must be a whole number of minutes from 15 to 720, got 14"),
    ({"SessionInactivityDuration": 721}, "SessionInactivityDuration must be a whole number of minutes from 15 to 720, got 721"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        *BAD_UPDATES,
        ({"PeriodicSessionDuration": 30.0}, "PeriodicSessionDuration must be a whole number of minutes from 10 to 60, got 30.0"),
        ({"PeriodicSessionDuration": True}, "PeriodicSessionDuration must be a whole number of minutes from 10 to 60, got True"),
        ({"Name": ""}, "Name must be a string of 1 to 128 characters, got ''"),
        ({"Name": "n" * 129}, "Name must be a string of 1 to 128 characters, got 'nnn"),
        ({"Description": "d" * 251}, "Description must be a string of 1 to 250 characters, got 'ddd"),
        ({"AllowedIps": "10.0.0.0/16"}, "AllowedIps must be a list of IP address ranges (CIDR), got '10.0.0.0/16'"),
        (
            {"BlockedIps": ["10.0.0.0/8", "10.0.0.0/33"]},
            "BlockedIps[1] must be an IP address range in CIDR notation (2 to 50 characters, e.g. 10.0.0.0/16), "
            "got '10.0.0.0/33'",
        ),
        ({"AllowedIps": [7]}, "AllowedIps[0] must be an IP address range in CIDR notation"),
        ({"SessionInactivityHandlingEnabled": "yes"}, "SessionInactivityHandlingEnabled must be true or false, got 'yes'"),
    ],
)  # fmt: skip
def test_profile_changes_refuses_bad_values_naming_them(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        profile_changes(body)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"periodic_session_duration": 9}, "periodic_session_duration must be a whole number of minutes from 10 to 60, got 9"),
        ({"periodic_session_duration": 61}, "periodic_session_duration must be a whole number of minutes from 10 to 60, got 61"),
        ({"max_session_duration": 359}, "max_session_duration must be a whole number of minutes from 360 to 720, got 359"),
        ({"max_session_duration": 721}, "max_session_duration must be a whole number of minutes from 360 to 720, got 721"),
    ],
)  # fmt: skip
def test_defaults_are_checked(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        AuthenticationProfiles(**options)


# Over HTTP


def profile_id(emulator: ConnectEmulator, instance_id: str) -> str:
    listed = emulator.client("connect").list_authentication_profiles(InstanceId=instance_id)
    return str(listed["AuthenticationProfileSummaryList"][0]["Id"])


def lifetimes(token: dict[str, Any]) -> tuple[float, float]:
    """Minutes from now until the access token, then the refresh token, expire."""
    now = time.time()
    credentials = token["Credentials"]
    return (
        (credentials["AccessTokenExpiration"].timestamp() - now) / 60,
        (credentials["RefreshTokenExpiration"].timestamp() - now) / 60,
    )


@pytest.mark.integration
def test_each_instance_has_one_default_profile(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    instance = agent.instance
    connect = connect_emulator.client("connect")

    listed = connect.list_authentication_profiles(InstanceId=instance["id"])
    [summary] = listed["AuthenticationProfileSummaryList"]
    assert "NextToken" not in listed
    described = connect.describe_authentication_profile(
        InstanceId=instance["id"], AuthenticationProfileId=summary["Id"]
    )["AuthenticationProfile"]

    arn = f"{instance['arn']}/authentication-profile/{summary['Id']}"
    created = connect.describe_instance(InstanceId=instance["id"])["Instance"]["CreatedTime"]
    assert summary == {
        "Id": summary["Id"],
        "Arn": arn,
        "Name": "Default Authentication Profile",
        "IsDefault": True,
        "LastModifiedTime": described["CreatedTime"],
        "LastModifiedRegion": "us-east-1",
    }
    assert described == {
        "Id": summary["Id"],
        "Arn": arn,
        "Name": "Default Authentication Profile",
        "AllowedIps": [],
        "BlockedIps": [],
        "IsDefault": True,
        "CreatedTime": described["CreatedTime"],
        "LastModifiedTime": described["CreatedTime"],
        "LastModifiedRegion": "us-east-1",
        "PeriodicSessionDuration": 60,
        "MaxSessionDuration": 720,
        "SessionInactivityHandlingEnabled": False,
    }
    assert abs((described["CreatedTime"] - created).total_seconds()) < 0.01
    # Another instance has its own profile; the agent's session (not the root) sees the same one.
    other = connect_emulator.create_instance("another")
    assert profile_id(connect_emulator, other["id"]) != summary["Id"]
    as_agent = connect_emulator.client("connect", **agent.credentials)
    assert as_agent.list_authentication_profiles(InstanceId=instance["id"])[
        "AuthenticationProfileSummaryList"
    ] == [summary]
    assert connect_emulator.counters.operation("connect", "ListAuthenticationProfiles") == 3
    assert connect_emulator.counters.operation("connect", "DescribeAuthenticationProfile") == 1


@pytest.mark.integration
def test_update_sets_what_the_model_lets_it(connect_emulator: ConnectEmulator) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)  # many calls: the quota is tested below
    instance_id = connect_emulator.create_instance("updates")["id"]
    connect = connect_emulator.client("connect")
    profile = profile_id(connect_emulator, instance_id)
    before = connect.describe_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile)

    answer = connect.update_authentication_profile(
        InstanceId=instance_id,
        AuthenticationProfileId=profile,
        Name="Agents on the VPN",
        Description="Signs agents out after 15 idle minutes",
        AllowedIps=["10.0.0.0/16"],
        BlockedIps=["10.0.9.0/24", "2001:db8::/32"],
        PeriodicSessionDuration=10,
        SessionInactivityDuration=15,
        SessionInactivityHandlingEnabled=True,
    )

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    after = connect.describe_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile)
    changed = {
        "Name": "Agents on the VPN",
        "Description": "Signs agents out after 15 idle minutes",
        "AllowedIps": ["10.0.0.0/16"],
        "BlockedIps": ["10.0.9.0/24", "2001:db8::/32"],
        "PeriodicSessionDuration": 10,
        "SessionInactivityDuration": 15,
        "SessionInactivityHandlingEnabled": True,
    }
    old, new = before["AuthenticationProfile"], after["AuthenticationProfile"]
    assert {key: value for key, value in new.items() if key != "LastModifiedTime"} == {
        **{key: value for key, value in old.items() if key != "LastModifiedTime"},
        **changed,
    }
    assert new["MaxSessionDuration"] == 720  # the update cannot set it
    assert new["LastModifiedTime"] > old["LastModifiedTime"]
    [summary] = connect.list_authentication_profiles(InstanceId=instance_id)[
        "AuthenticationProfileSummaryList"
    ]
    assert (summary["Name"], summary["LastModifiedTime"]) == ("Agents on the VPN", new["LastModifiedTime"])
    # A later update changes only what it names.
    connect.update_authentication_profile(
        InstanceId=instance_id, AuthenticationProfileId=profile, Name="Renamed"
    )
    last = connect.describe_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile)
    assert last["AuthenticationProfile"]["Name"] == "Renamed"
    assert last["AuthenticationProfile"]["PeriodicSessionDuration"] == 10
    assert connect_emulator.counters.operation("connect", "UpdateAuthenticationProfile") == 2


@pytest.mark.integration
@pytest.mark.parametrize(("body", "message"), BAD_UPDATES)
def test_out_of_range_values_are_400_naming_the_field_and_value(
    connect_emulator: ConnectEmulator, error_of: ErrorOf, body: dict[str, int], message: str
) -> None:
    instance_id = connect_emulator.create_instance("ranges")["id"]
    profile = profile_id(connect_emulator, instance_id)
    unchecked = connect_emulator.client("connect", config=UNCHECKED)

    with pytest.raises(ClientError) as raised:
        unchecked.update_authentication_profile(
            InstanceId=instance_id, AuthenticationProfileId=profile, **body
        )

    assert error_of(raised.value) == (400, "InvalidParameterException", message)
    described = connect_emulator.client("connect").describe_authentication_profile(
        InstanceId=instance_id, AuthenticationProfileId=profile
    )["AuthenticationProfile"]
    assert described["PeriodicSessionDuration"] == 60
    assert "SessionInactivityDuration" not in described


@pytest.mark.integration
def test_botocore_refuses_values_under_the_minimum_itself(connect_emulator: ConnectEmulator) -> None:
    """botocore checks a member's minimum, not its maximum: 61 reaches the emulator (above), 9 does not."""
    instance_id = connect_emulator.create_instance("botocore-min")["id"]
    profile = profile_id(connect_emulator, instance_id)
    connect_emulator.counters.reset()
    with pytest.raises(ParamValidationError, match="PeriodicSessionDuration"):
        connect_emulator.client("connect").update_authentication_profile(
            InstanceId=instance_id, AuthenticationProfileId=profile, PeriodicSessionDuration=9
        )
    assert connect_emulator.counters.operation("connect", "UpdateAuthenticationProfile") == 0


@pytest.mark.integration
def test_unknown_instance_and_profile_are_404(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)  # many calls: the quota is tested below
    instance_id = connect_emulator.create_instance("known")["id"]
    other_id = connect_emulator.create_instance("other")["id"]
    connect = connect_emulator.client("connect", config=UNCHECKED)
    no_instance = "Instance nowhere not found in account 123456789012, region us-east-1"
    calls = {
        "list": lambda instance, profile: connect.list_authentication_profiles(InstanceId=instance),
        "describe": lambda instance, profile: connect.describe_authentication_profile(
            InstanceId=instance, AuthenticationProfileId=profile
        ),
        "update": lambda instance, profile: connect.update_authentication_profile(
            InstanceId=instance, AuthenticationProfileId=profile, Name="x"
        ),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as raised:
            call("nowhere", profile_id(connect_emulator, instance_id))
        assert error_of(raised.value) == (404, "ResourceNotFoundException", no_instance), name
    for name in ("describe", "update"):
        for profile in ("nope", profile_id(connect_emulator, other_id)):  # unknown, and another instance's
            with pytest.raises(ClientError) as raised:
                calls[name](instance_id, profile)
            message = f"Authentication profile {profile} not found in instance {instance_id}"
            assert error_of(raised.value) == (404, "ResourceNotFoundException", message), name
        with pytest.raises(ClientError) as raised:
            calls[name](instance_id, "p" * 101)
        assert error_of(raised.value) == (
            400,
            "InvalidParameterException",
            "AuthenticationProfileId must be 1 to 100 characters, got 101 characters starting 'pppppppppppppppppppp'",
        ), name


@pytest.mark.integration
def test_list_is_paginated(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)  # many calls: the quota is tested below
    instance_id = connect_emulator.create_instance("pages")["id"]
    connect = connect_emulator.client("connect")
    profile = profile_id(connect_emulator, instance_id)
    connect_emulator.counters.reset()

    pages = list(
        connect.get_paginator("list_authentication_profiles").paginate(
            InstanceId=instance_id, PaginationConfig={"PageSize": 1}
        )
    )

    assert [[p["Id"] for p in page["AuthenticationProfileSummaryList"]] for page in pages] == [[profile]]
    assert connect_emulator.counters.operation("connect", "ListAuthenticationProfiles") == 1
    past_the_end = connect.list_authentication_profiles(InstanceId=instance_id, NextToken="1")
    assert past_the_end["AuthenticationProfileSummaryList"] == []
    unchecked = connect_emulator.client("connect", config=UNCHECKED)
    for options, message in [
        ({"MaxResults": 0}, "maxResults must be 1 to 1000, got '0'"),
        ({"MaxResults": 1001}, "maxResults must be 1 to 1000, got '1001'"),
        ({"NextToken": "abc"}, "nextToken 'abc' was not issued by ListAuthenticationProfiles"),
    ]:
        with pytest.raises(ClientError) as raised:
            unchecked.list_authentication_profiles(InstanceId=instance_id, **options)
        assert error_of(raised.value) == (400, "InvalidParameterException", message)


@pytest.mark.integration
def test_the_operations_have_their_own_quota(connect_emulator: ConnectEmulator, error_of: ErrorOf) -> None:
    instance_id = connect_emulator.create_instance("paced")["id"]
    profile = profile_id(connect_emulator, instance_id)
    connect_emulator.set_api_quota(0.01, 2)
    connect_emulator.counters.reset()
    connect = connect_emulator.client("connect", config=UNCHECKED)

    for _ in range(2):
        connect.describe_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile)
    with pytest.raises(ClientError) as raised:
        connect.describe_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile)

    assert error_of(raised.value) == (
        429,
        "ThrottlingException",
        "Rate exceeded: DescribeAuthenticationProfile allows 0.01 requests/s (burst 2) per account and region; "
        "slow down and retry",
    )
    # List and Update have buckets of their own.
    connect.list_authentication_profiles(InstanceId=instance_id)
    connect.update_authentication_profile(InstanceId=instance_id, AuthenticationProfileId=profile, Name="x")
    counters = connect_emulator.counters
    assert counters.operation("connect", "DescribeAuthenticationProfile") == 3
    assert counters.throttled_operation("DescribeAuthenticationProfile") == 1
    assert counters.operation("connect", "ListAuthenticationProfiles") == 1
    assert counters.operation("connect", "UpdateAuthenticationProfile") == 1
    assert counters.throttled_operation("UpdateAuthenticationProfile") == 0


# The token's two lifetimes


@pytest.mark.integration
def test_token_lifetimes_follow_the_profile(
    connect_emulator: ConnectEmulator, agent: Agent, federate: Federate
) -> None:
    instance_id = agent.instance["id"]
    profile = profile_id(connect_emulator, instance_id)

    access, refresh = lifetimes(federate(connect_emulator, instance_id, agent.credentials))
    assert (round(access, 1), round(refresh, 1)) == (60.0, 720.0)

    connect_emulator.client("connect").update_authentication_profile(
        InstanceId=instance_id, AuthenticationProfileId=profile, PeriodicSessionDuration=10
    )
    access, refresh = lifetimes(federate(connect_emulator, instance_id, agent.credentials))
    assert (round(access, 1), round(refresh, 1)) == (10.0, 720.0)

    connect_emulator.set_session_durations(instance_id, max_session_duration=360)
    access, refresh = lifetimes(federate(connect_emulator, instance_id, agent.credentials))
    assert (round(access, 1), round(refresh, 1)) == (10.0, 360.0)
    described = connect_emulator.client("connect").describe_authentication_profile(
        InstanceId=instance_id, AuthenticationProfileId=profile
    )["AuthenticationProfile"]
    assert (described["PeriodicSessionDuration"], described["MaxSessionDuration"]) == (10, 360)
