"""SearchUsers: criteria and filters as predicates, page tokens, and the operation over HTTP with boto3."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import Client

from amazon_connect_emulator.authentication_profiles import AuthenticationProfiles
from amazon_connect_emulator.connect_api import ConnectApi
from amazon_connect_emulator.counters import FederationCounters
from amazon_connect_emulator.directory import ConnectUser, UserDirectory
from amazon_connect_emulator.faults import FaultInjector
from amazon_connect_emulator.quota import Quota
from amazon_connect_emulator.sign_in import SignIns
from amazon_connect_emulator.user_search import PageTokens, search_predicate

if TYPE_CHECKING:
    from conftest import ErrorOf

    from amazon_connect_emulator import ConnectEmulator

ARN = "arn:aws:connect:us-east-1:123456789012:instance/i-1/agent"


def user(username: str, **settings: Any) -> ConnectUser:
    return ConnectUser(f"id-{username}", f"{ARN}/id-{username}", username, "us-east-1", settings)


ALICE = user(
    "alice.doe@example.com",
    IdentityInfo={"FirstName": "Alice", "LastName": "Doe", "Email": "alice.doe@example.com"},
    RoutingProfileId="rp-sales",
    SecurityProfileIds=["sp-agent", "sp-supervisor"],
    HierarchyGroupId="hg-east",
    Tags={"team": "blue", "site": "paris"},
)
BOB = user(
    "bob.smith@example.com",
    IdentityInfo={"FirstName": "Bob", "LastName": "Smith"},
    RoutingProfileId="rp-support",
    SecurityProfileIds=["sp-agent"],
    HierarchyGroupId="hg-west",
    Tags={"team": "red"},
)
CAROL = user("carol@example.org", RoutingProfileId="rp-sales", SecurityProfileIds=["sp-admin"])
EVERYONE = [ALICE, BOB, CAROL]


def matching(criteria: object = None, search_filter: object = None) -> list[str]:
    matches = search_predicate(criteria, search_filter)
    return [u.username.split("@")[0] for u in EVERYONE if matches(u)]


def string(field: str, value: str, comparison: str = "EXACT") -> dict[str, Any]:
    return {"StringCondition": {"FieldName": field, "Value": value, "ComparisonType": comparison}}


def tag(key: str, value: str) -> dict[str, str]:
    return {"TagKey": key, "TagValue": value}


# Criteria and filters as predicates


def test_no_criteria_match_everyone() -> None:
    assert matching() == ["alice.doe", "bob.smith", "carol"]
    assert matching({}, {}) == ["alice.doe", "bob.smith", "carol"]


@pytest.mark.parametrize(
    ("field", "value", "comparison", "expected"),
    [
        ("Username", "alice.doe@example.com", "EXACT", ["alice.doe"]),
        ("Username", "alice.doe", "EXACT", []),
        ("Username", "bob.", "STARTS_WITH", ["bob.smith"]),
        ("Username", "example.com", "STARTS_WITH", []),
        ("Username", "@example.", "CONTAINS", ["alice.doe", "bob.smith", "carol"]),
        ("Username", "Alice", "CONTAINS", []),  # case-sensitive
        ("FirstName", "Bob", "EXACT", ["bob.smith"]),
        ("FirstName", "Al", "STARTS_WITH", ["alice.doe"]),
        ("LastName", "mit", "CONTAINS", ["bob.smith"]),
        ("RoutingProfileId", "rp-sales", "EXACT", ["alice.doe", "carol"]),
        ("RoutingProfileId", "rp-s", "STARTS_WITH", ["alice.doe", "bob.smith", "carol"]),
        ("SecurityProfileId", "sp-supervisor", "EXACT", ["alice.doe"]),  # any of the user's profiles
        ("SecurityProfileId", "agent", "CONTAINS", ["alice.doe", "bob.smith"]),
        ("ResourceId", "id-carol@example.org", "EXACT", ["carol"]),
        ("resourceId", "id-bob", "STARTS_WITH", ["bob.smith"]),  # field names in any case
        ("USERNAME", "carol@example.org", "EXACT", ["carol"]),
    ],
)
def test_string_conditions(field: str, value: str, comparison: str, expected: list[str]) -> None:
    assert matching(string(field, value, comparison)) == expected


@pytest.mark.parametrize("match_type", ["EXACT", "WITH_CHILD_GROUPS", None])
def test_hierarchy_group_condition_matches_the_group_itself(match_type: str | None) -> None:
    condition = {"Value": "hg-east"}
    if match_type:
        condition["HierarchyGroupMatchType"] = match_type
    assert matching({"HierarchyGroupCondition": condition}) == ["alice.doe"]


def test_and_or_conditions_nest() -> None:
    sales_or_support = {
        "OrConditions": [string("RoutingProfileId", "rp-sales"), string("RoutingProfileId", "rp-support")]
    }
    assert matching(sales_or_support) == ["alice.doe", "bob.smith", "carol"]
    nested = {"AndConditions": [sales_or_support, string("SecurityProfileId", "sp-agent")]}
    assert matching(nested) == ["alice.doe", "bob.smith"]
    deeper = {
        "OrConditions": [
            {"AndConditions": [nested, string("LastName", "Smith")]},
            {"HierarchyGroupCondition": {"Value": "hg-east", "HierarchyGroupMatchType": "EXACT"}},
        ]
    }
    assert matching(deeper) == ["alice.doe", "bob.smith"]
    assert matching({"AndConditions": []}) == ["alice.doe", "bob.smith", "carol"]
    assert matching({"OrConditions": []}) == []
    # Conditions side by side in one object must all match.
    assert matching(
        {**string("RoutingProfileId", "rp-sales"), "AndConditions": [string("FirstName", "Alice")]}
    ) == ["alice.doe"]


def test_tag_filters() -> None:
    assert matching(search_filter={"TagFilter": {"TagCondition": tag("team", "blue")}}) == ["alice.doe"]
    assert matching(search_filter={"TagFilter": {"TagCondition": {"TagKey": "team"}}}) == [
        "alice.doe",
        "bob.smith",
    ]
    assert matching(
        search_filter={"TagFilter": {"AndConditions": [tag("team", "blue"), tag("site", "paris")]}}
    ) == ["alice.doe"]
    assert (
        matching(search_filter={"TagFilter": {"AndConditions": [tag("team", "red"), tag("site", "paris")]}})
        == []
    )
    or_of_ands = {"OrConditions": [[tag("team", "red")], [tag("team", "blue"), tag("site", "lyon")]]}
    assert matching(search_filter={"TagFilter": or_of_ands}) == ["bob.smith"]
    # Criteria and filter together: both must match.
    assert matching(
        string("SecurityProfileId", "sp-agent"), {"TagFilter": {"TagCondition": tag("team", "red")}}
    ) == ["bob.smith"]


@pytest.mark.parametrize(
    ("criteria", "search_filter", "message"),
    [
        (
            string("Email", "x"),
            None,
            "SearchCriteria.StringCondition.FieldName 'Email' is not a field SearchUsers searches; use one of "
            "Username, FirstName, LastName, RoutingProfileId, SecurityProfileId, ResourceId",
        ),
        (
            {"AndConditions": [{}, string("Username", "x", "ENDS_WITH")]},
            None,
            "SearchCriteria.AndConditions[1].StringCondition.ComparisonType must be one of STARTS_WITH, CONTAINS, "
            "EXACT, got 'ENDS_WITH'",
        ),
        (
            {"OrConditions": [{"StringCondition": {"FieldName": "Username", "ComparisonType": "EXACT"}}]},
            None,
            "SearchCriteria.OrConditions[0].StringCondition.Value must be a string, got None",
        ),
        ({"OrConditions": "x"}, None, "SearchCriteria.OrConditions must be a list, got 'x'"),
        (
            {"Username": "x"},
            None,
            "SearchCriteria has no field 'Username'; its fields are OrConditions, AndConditions, StringCondition, "
            "HierarchyGroupCondition",
        ),
        (
            {"HierarchyGroupCondition": {"Value": "hg", "HierarchyGroupMatchType": "CHILDREN"}},
            None,
            "SearchCriteria.HierarchyGroupCondition.HierarchyGroupMatchType must be one of EXACT, "
            "WITH_CHILD_GROUPS, got 'CHILDREN'",
        ),
        (
            {"ListCondition": {}},
            None,
            "ListCondition is not modelled by the emulator; use OrConditions or AndConditions or StringCondition "
            "or HierarchyGroupCondition",
        ),
        (
            None,
            {"UserAttributeFilter": {}},
            "SearchFilter.UserAttributeFilter is not modelled by the emulator; use TagFilter",
        ),
        (
            None,
            {"TagFilter": {"OrConditions": [tag("team", "red")]}},
            "SearchFilter.TagFilter.OrConditions[0] must be a list, got {'TagKey': 'team', 'TagValue': 'red'}",
        ),
        (
            None,
            {"TagFilter": {"TagCondition": {"TagValue": "red"}}},
            "SearchFilter.TagFilter.TagCondition.TagKey must be a non-empty string, got None",
        ),
        (["x"], None, "SearchCriteria must be an object, got ['x']"),
    ],
)
def test_bad_criteria_name_the_field(criteria: object, search_filter: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        search_predicate(criteria, search_filter)


def test_page_tokens_serve_their_own_search_only() -> None:
    pages = PageTokens()
    search = pages.search_id(("123456789012", "us-east-1", "i-1"), {"a": 1}, None)
    assert search == pages.search_id(("123456789012", "us-east-1", "i-1"), {"a": 1}, None)
    other = pages.search_id(("123456789012", "us-east-1", "i-1"), {"a": 2}, None)
    token = pages.issue(search, 41)
    assert pages.after(token, search) == 41
    assert pages.after(None, search) == -1
    for bad in (token + "0", "abc", token.replace(".", ".x", 1), 41):
        with pytest.raises(ValueError, match="was not issued by SearchUsers for this search"):
            pages.after(bad, search)
    with pytest.raises(ValueError, match="was not issued by SearchUsers for this search"):
        pages.after(token, other)
    with pytest.raises(ValueError, match="was not issued"):
        PageTokens().after(token, search)  # another emulator's key


# Over HTTP with boto3


@pytest.fixture
def roster(connect_emulator: ConnectEmulator) -> tuple[str, Any]:
    """(instance id, connect client) with Alice, Bob and Carol as above; the operations' quota out of the way."""
    connect_emulator.set_api_quota(1000.0, 1000)
    instance_id = connect_emulator.create_instance("roster")["id"]
    connect_emulator.create_users(
        instance_id,
        [
            {
                "Username": "alice.doe@example.com",
                "IdentityInfo": {"FirstName": "Alice", "LastName": "Doe"},
                "RoutingProfileId": "rp-sales",
                "SecurityProfileIds": ["sp-agent", "sp-supervisor"],
                "HierarchyGroupId": "hg-east",
                "Tags": {"team": "blue", "site": "paris"},
            },
            {
                "Username": "bob.smith@example.com",
                "IdentityInfo": {"FirstName": "Bob", "LastName": "Smith"},
                "RoutingProfileId": "rp-support",
                "SecurityProfileIds": ["sp-agent"],
                "HierarchyGroupId": "hg-west",
                "Tags": {"team": "red"},
            },
            "carol@example.org",
        ],
    )
    return instance_id, connect_emulator.client("connect")


def usernames(response: dict[str, Any]) -> list[str]:
    return [found["Username"] for found in response["Users"]]


@pytest.mark.integration
def test_search_users_over_http(roster: tuple[str, Any]) -> None:
    instance_id, connect = roster
    everyone = connect.search_users(InstanceId=instance_id)
    assert usernames(everyone) == ["alice.doe@example.com", "bob.smith@example.com", "carol@example.org"]
    assert everyone["ApproximateTotalCount"] == 3
    assert "NextToken" not in everyone
    alice = everyone["Users"][0]
    assert alice["Arn"] == f"{alice['Arn'].split('/agent/')[0]}/agent/{alice['Id']}"
    assert {name: alice[name] for name in alice if name not in ("Arn", "Id")} == {
        "Username": "alice.doe@example.com",
        "IdentityInfo": {"FirstName": "Alice", "LastName": "Doe"},
        "RoutingProfileId": "rp-sales",
        "SecurityProfileIds": ["sp-agent", "sp-supervisor"],
        "HierarchyGroupId": "hg-east",
        "Tags": {"team": "blue", "site": "paris"},
        "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
    }
    carol = everyone["Users"][2]  # created with a username only: the instance defaults
    assert (carol["RoutingProfileId"], carol["SecurityProfileIds"]) == (
        "emulator-basic-routing",
        ["emulator-agent"],
    )
    assert "Tags" not in carol

    criteria = {
        "AndConditions": [
            {
                "OrConditions": [
                    string("RoutingProfileId", "rp-sales"),
                    string("RoutingProfileId", "rp-support"),
                ]
            },
            string("SecurityProfileId", "sp-agent"),
            string("Username", "@example.com", "CONTAINS"),
        ]
    }
    tag_filter = {"TagFilter": {"OrConditions": [[tag("team", "red")], [tag("site", "paris")]]}}
    found = connect.search_users(InstanceId=instance_id, SearchCriteria=criteria, SearchFilter=tag_filter)
    assert usernames(found) == ["alice.doe@example.com", "bob.smith@example.com"]
    assert found["ApproximateTotalCount"] == 2
    by_hierarchy = connect.search_users(
        InstanceId=instance_id,
        SearchCriteria={
            "HierarchyGroupCondition": {"Value": "hg-west", "HierarchyGroupMatchType": "WITH_CHILD_GROUPS"}
        },
    )
    assert usernames(by_hierarchy) == ["bob.smith@example.com"]


@pytest.mark.integration
def test_the_paginator_gets_every_page_in_creation_order(connect_emulator: ConnectEmulator) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)
    instance_id = connect_emulator.create_instance("big")["id"]
    names = [f"agent.{i:04d}@example.com" for i in range(1200)]
    connect_emulator.create_users(instance_id, names)
    connect_emulator.counters.reset()

    paginator = connect_emulator.client("connect").get_paginator("search_users")
    pages = list(paginator.paginate(InstanceId=instance_id, PaginationConfig={"PageSize": 500}))

    assert [len(page["Users"]) for page in pages] == [500, 500, 200]
    assert [found["Username"] for page in pages for found in page["Users"]] == names
    assert {page["ApproximateTotalCount"] for page in pages} == {1200}
    assert connect_emulator.counters.operation("connect", "SearchUsers") == 3
    assert "NextToken" not in pages[-1]


@pytest.mark.integration
def test_users_deleted_between_pages_shift_nothing(connect_emulator: ConnectEmulator) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)
    instance_id = connect_emulator.create_instance("churn")["id"]
    connect_emulator.create_users(instance_id, [f"agent.{i}@example.com" for i in range(6)])
    connect = connect_emulator.client("connect")
    first = connect.search_users(InstanceId=instance_id, MaxResults=3)
    connect_emulator.delete_user(instance_id, "agent.0@example.com")
    connect_emulator.delete_user(instance_id, "agent.4@example.com")
    second = connect.search_users(InstanceId=instance_id, MaxResults=3, NextToken=first["NextToken"])
    assert usernames(first) == [f"agent.{i}@example.com" for i in range(3)]
    assert usernames(second) == ["agent.3@example.com", "agent.5@example.com"]
    assert (second["ApproximateTotalCount"], "NextToken" in second) == (4, False)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"MaxResults": 501}, "MaxResults must be 1 to 500, got 501"),
        ({"NextToken": "abc"}, "NextToken 'abc' was not issued by SearchUsers for this search"),
        (
            {"SearchCriteria": string("Email", "x")},
            "SearchCriteria.StringCondition.FieldName 'Email' is not a field SearchUsers searches; use one of "
            "Username, FirstName, LastName, RoutingProfileId, SecurityProfileId, ResourceId",
        ),
    ],
)
def test_search_users_refuses_bad_requests(
    roster: tuple[str, Any], error_of: ErrorOf, request_fields: dict[str, Any], message: str
) -> None:
    instance_id, connect = roster
    with pytest.raises(ClientError) as raised:
        connect.search_users(InstanceId=instance_id, **request_fields)
    assert error_of(raised.value) == (400, "InvalidParameterException", message)


@pytest.mark.integration
def test_a_next_token_serves_only_its_own_search(roster: tuple[str, Any], error_of: ErrorOf) -> None:
    instance_id, connect = roster
    token = connect.search_users(InstanceId=instance_id, MaxResults=1)["NextToken"]
    assert usernames(connect.search_users(InstanceId=instance_id, MaxResults=1, NextToken=token)) == [
        "bob.smith@example.com"
    ]
    with pytest.raises(ClientError) as raised:
        connect.search_users(
            InstanceId=instance_id,
            MaxResults=1,
            NextToken=token,
            SearchCriteria=string("Username", "b", "CONTAINS"),
        )
    status, code, message = error_of(raised.value)
    assert (status, code) == (400, "InvalidParameterException")
    assert message.endswith("was not issued by SearchUsers for this search")


@pytest.mark.integration
def test_search_users_of_an_unknown_instance_is_404_with_a_request_id(
    connect_emulator: ConnectEmulator, error_of: ErrorOf
) -> None:
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").search_users(InstanceId="00000000-0000-0000-0000-000000000000")
    assert error_of(raised.value) == (
        404,
        "ResourceNotFoundException",
        "Instance 00000000-0000-0000-0000-000000000000 not found in account 123456789012, region us-east-1",
    )
    assert raised.value.response["ResponseMetadata"]["RequestId"]


def signed(region: str = "us-east-1") -> dict[str, str]:
    scope = f"AKIATESTROOTKEY00000/20240101/{region}/connect/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"InstanceId": "i-1", "MaxResults": 0}, "MaxResults must be 1 to 500, got 0"),
        ({"InstanceId": "i-1", "MaxResults": "10"}, "MaxResults must be 1 to 500, got '10'"),
        ({"MaxResults": 10}, "InstanceId must be an instance id, got None"),
    ],
)
def test_what_botocore_would_not_send_is_refused_too(body: dict[str, Any], message: str) -> None:
    """Requests another client could send: checked before the instance is looked up."""
    api = ConnectApi(
        lambda environ, start_response: [],
        users=UserDirectory(),
        quota=Quota(1000.0, 1000),
        faults=FaultInjector(),
        counters=FederationCounters(),
        root_access_key="AKIATESTROOTKEY00000",
        profiles=AuthenticationProfiles(),
        sign_ins=SignIns(),
    )
    response = Client(api).post("/search-users", json=body, headers=signed())
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException")
    assert response.get_json() == {"Message": message}
