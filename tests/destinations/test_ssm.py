"""SsmParameterDestination against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SsmParameterDestination,
)
from airflow_connect_fed.exceptions import (
    DestinationWriteError,
    InvalidDestinationError,
)
from tests.destinations.conftest import no_token_in, refuse, token
from tests.federation_answers import REFRESH_TOKEN


class TestSsm:
    def test_secure_string_overwritten(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        first = destination.write(token())
        second = destination.write(token())
        ssm = boto3.client("ssm", region_name="us-east-1")
        parameter = ssm.get_parameter(Name="/connect/agent-1", WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        assert (first["version"], second["version"]) == (1, 2)
        assert json.loads(parameter["Value"])["Credentials"]["RefreshToken"] == REFRESH_TOKEN
        assert no_token_in(second)
        assert load_federation_token(first) == token()

    def test_failed_write_keeps_the_previous_token(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        destination.write(token())
        refuse(destination.client, "PutParameter", "AccessDeniedException")
        with pytest.raises(DestinationWriteError, match="parameter '/connect/agent-1'"):
            destination.write(token())
        assert destination.current().reference["version"] == 1

    @pytest.mark.parametrize("name", ["", "/a//b", "/aws/x", "ssm-thing", "with space", "/a" * 16])
    def test_bad_names(self, name):
        with pytest.raises(
            InvalidDestinationError,
            match=r"Parameter name .* (cannot be stored|may not start|has 16 levels; .* at most 15)",
        ):
            SsmParameterDestination(name)
