"""User criteria: the SearchUsers request each combination becomes, and bad input refused with the
parameter and the value named. Pure: no AWS."""

from __future__ import annotations

import pytest

from airflow_connect_fed._client.roster import UserCriteria
from airflow_connect_fed.exceptions import InvalidInputError


def routing(value: str) -> dict:
    return {"StringCondition": {"FieldName": "RoutingProfileId", "Value": value, "ComparisonType": "EXACT"}}


def security(value: str) -> dict:
    return {"StringCondition": {"FieldName": "SecurityProfileId", "Value": value, "ComparisonType": "EXACT"}}


def group(value: str) -> dict:
    return {"HierarchyGroupCondition": {"Value": value, "HierarchyGroupMatchType": "EXACT"}}


def prefix(value: str) -> dict:
    return {"StringCondition": {"FieldName": "Username", "Value": value, "ComparisonType": "STARTS_WITH"}}


def parameters(**criteria) -> dict:
    return UserCriteria.parse(**criteria).search_parameters()


class TestRequest:
    def test_no_criteria_no_search_criteria_or_filter(self):
        assert parameters() == {}
        assert UserCriteria().search_parameters() == {}

    @pytest.mark.parametrize(
        ("criteria", "condition"),
        [
            ({"routing_profile_ids": ["rp-1"]}, routing("rp-1")),
            ({"security_profile_ids": ("sp-1",)}, security("sp-1")),
            ({"hierarchy_group_ids": ["hg-1"]}, group("hg-1")),
            ({"username_prefix": "agent."}, prefix("agent.")),
        ],
    )
    def test_one_criterion_of_one_value_is_the_leaf_itself(self, criteria, condition):
        assert parameters(**criteria) == {"SearchCriteria": condition}

    def test_a_list_is_an_or_of_its_values(self):
        assert parameters(routing_profile_ids=["rp-1", "rp-2"]) == {
            "SearchCriteria": {"OrConditions": [routing("rp-1"), routing("rp-2")]}
        }

    def test_a_value_given_twice_is_asked_once(self):
        assert parameters(hierarchy_group_ids=["hg-1", "hg-2", "hg-1"]) == {
            "SearchCriteria": {"OrConditions": [group("hg-1"), group("hg-2")]}
        }

    def test_criteria_combine_under_and(self):
        assert parameters(
            routing_profile_ids=["rp-1", "rp-2"],
            security_profile_ids=["sp-1"],
            hierarchy_group_ids=["hg-1", "hg-2"],
            username_prefix="agent.",
        ) == {
            "SearchCriteria": {
                "AndConditions": [
                    {"OrConditions": [routing("rp-1"), routing("rp-2")]},
                    security("sp-1"),
                    {"OrConditions": [group("hg-1"), group("hg-2")]},
                    prefix("agent."),
                ]
            }
        }

    def test_one_tag_is_a_tag_condition(self):
        assert parameters(tags={"team": "billing"}) == {
            "SearchFilter": {"TagFilter": {"TagCondition": {"TagKey": "team", "TagValue": "billing"}}}
        }

    def test_several_tags_must_all_match(self):
        assert parameters(tags={"team": "billing", "site": ""}) == {
            "SearchFilter": {
                "TagFilter": {
                    "AndConditions": [
                        {"TagKey": "team", "TagValue": "billing"},
                        {"TagKey": "site", "TagValue": ""},
                    ]
                }
            }
        }

    def test_tags_go_with_the_other_criteria(self):
        assert parameters(security_profile_ids=["sp-1"], tags={"team": "billing"}) == {
            "SearchCriteria": security("sp-1"),
            "SearchFilter": {"TagFilter": {"TagCondition": {"TagKey": "team", "TagValue": "billing"}}},
        }


class TestRefused:
    @pytest.mark.parametrize("name", ["routing_profile_ids", "security_profile_ids", "hierarchy_group_ids"])
    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (
                "rp-1",
                r"{name} must be a list of IDs, got the string 'rp-1': pass a list, e.g. {name}=\['rp-1'\]\.",
            ),
            ({"rp-1"}, r"{name} must be a list of IDs, got set \{{'rp-1'\}}\."),
            (7, r"{name} must be a list of IDs, got int 7\."),
            (
                [],
                r"{name} is an empty list, which no user matches\. Pass at least one ID, or leave {name} out",
            ),
            (["rp-1", ""], r"{name} holds '', which is not an ID: each must be a non-empty string\. "),
            (["  "], r"{name} holds '  ', which is not an ID"),
            (["rp-1", 3], r"{name} holds 3, which is not an ID.* Got {name}=\['rp-1', 3\]\."),
            ([None], r"{name} holds None, which is not an ID"),
        ],
    )
    def test_bad_id_lists(self, name, value, message):
        with pytest.raises(InvalidInputError, match=message.format(name=name)):
            UserCriteria.parse(**{name: value})

    @pytest.mark.parametrize(
        ("tags", "message"),
        [
            (
                ["team", "billing"],
                r"tags must be a dict of tag key to value, .*got list \['team', 'billing'\]\.",
            ),
            ("team=billing", r"tags must be a dict .*got str 'team=billing'\."),
            ({}, r"tags is an empty dict\. Pass at least one key and value, or leave tags out"),
            (
                {"": "billing"},
                r"tags has the key '': a tag key must be a non-empty string\. Got tags=\{'': 'billing'\}",
            ),
            ({1: "billing"}, r"tags has the key 1: a tag key must be a non-empty string"),
            (
                {"level": 3},
                r"tags\['level'\] is 3, not a string: Connect's tag values are strings, so pass e\.g\. '3'\.",
            ),
            ({"team": None}, r"tags\['team'\] is None, not a string"),
        ],
    )
    def test_bad_tags(self, tags, message):
        with pytest.raises(InvalidInputError, match=message):
            UserCriteria.parse(tags=tags)

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", r"username_prefix '' is empty or whitespace\. Pass the beginning of the usernames"),
            ("   ", r"username_prefix '   ' is empty or whitespace"),
            (["agent."], r"username_prefix must be a string, .*got list \['agent\.'\]\."),
        ],
    )
    def test_bad_username_prefix(self, value, message):
        with pytest.raises(InvalidInputError, match=message):
            UserCriteria.parse(username_prefix=value)
