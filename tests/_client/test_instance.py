from __future__ import annotations

import pytest

from airflow_connect_fed._client.instance import InstanceRef
from airflow_connect_fed.exceptions import InvalidInstanceIdError

ID = "11111111-2222-3333-4444-555555555555"


def test_plain_id():
    assert InstanceRef.parse(ID) == InstanceRef(instance_id=ID)
    assert InstanceRef.parse("x" * 100).instance_id == "x" * 100


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_instance_arn(partition):
    ref = InstanceRef.parse(f"arn:{partition}:connect:eu-central-1:123456789012:instance/{ID}")
    assert ref == InstanceRef(
        instance_id=ID, region="eu-central-1", account="123456789012", partition=partition
    )


def test_region_resolution():
    arn = InstanceRef.parse(f"arn:aws:connect:eu-west-2:123456789012:instance/{ID}")
    assert arn.resolve_region(None) == "eu-west-2"
    assert arn.resolve_region("eu-west-2") == "eu-west-2"
    assert InstanceRef.parse(ID).resolve_region("ap-southeast-2") == "ap-southeast-2"
    assert InstanceRef.parse(ID).resolve_region(None) is None
    with pytest.raises(InvalidInstanceIdError, match="'eu-west-2' but region_name is 'us-east-1'"):
        arn.resolve_region("us-east-1")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "non-empty string, got ''"),
        (None, "got None"),
        (42, "got 42"),
        ("x" * 101, "has 101 characters; Connect allows 1 to 100"),
        (" abc", "contains whitespace"),
        ("abc\n", "contains whitespace"),
        ("a/b", "contains whitespace or '/'"),
        ("arn:aws:s3:::bucket", "not an Amazon Connect instance ARN"),
        ("arn:aws:connect:us-east-1:123456789012:instance/", "not an Amazon Connect instance ARN"),
        ("arn:aws:connect:us-east-1:12345:instance/abc", "not an Amazon Connect instance ARN"),
        (f"arn:aws:connect:us-east-1:123456789012:instance/{ID}/queue/q1", "another Connect resource"),
        (f"arn:aws:connect:us-east-1:123456789012:instance/{'y' * 101}", "has 101 characters"),
    ],
)
def test_invalid(value, message):
    with pytest.raises(InvalidInstanceIdError, match=message) as raised:
        InstanceRef.parse(value)
    assert isinstance(raised.value, ValueError)
    assert "Pass the instance ID" in str(raised.value)
