"""--generate-cli-skeleton documents and --cli-input-json parsing."""

from __future__ import annotations

import json

import pytest

from airflow_connect_fed.cli.exit_codes import UsageError
from airflow_connect_fed.cli.skeleton import read_cli_input_json, skeleton


def test_input_skeleton_is_the_request():
    assert json.loads(skeleton("input")) == {"InstanceId": ""}


def test_output_skeleton_is_a_sample_response_without_tokens():
    sample = json.loads(skeleton("output"))
    assert list(sample) == ["UserId", "UserArn", "Credentials", "SignInUrl"]
    assert sample["Credentials"] == {
        "AccessToken": "AccessToken",
        "AccessTokenExpiration": "1970-01-01T00:00:00",
        "RefreshToken": "RefreshToken",
        "RefreshTokenExpiration": "1970-01-01T00:00:00",
    }


def test_default_kind_is_input(cli):
    assert cli("get-federation-token", "--generate-cli-skeleton").stdout == skeleton("input")
    assert cli("get-federation-token", "--generate-cli-skeleton", "output").stdout == skeleton("output")


def test_reads_json_text_and_files(tmp_path, monkeypatch):
    assert read_cli_input_json('{"InstanceId": "abc"}') == {"InstanceId": "abc"}
    assert read_cli_input_json("{}") == {}
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "request.json").write_text('{"InstanceId": "from-file"}')
    assert read_cli_input_json("file://~/request.json") == {"InstanceId": "from-file"}


def test_a_skeleton_round_trips_into_cli_input_json():
    assert read_cli_input_json(skeleton("input")) == {"InstanceId": ""}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--cli-input-json is not valid JSON"),
        ('"InstanceId"', "must be a JSON object"),
        ('{"InstanceId": null, "Extra": 1}', "Unknown parameter in --cli-input-json: 'Extra'"),
        ('{"InstanceId": ["a"]}', "InstanceId in --cli-input-json must be a string, got ['a']"),
    ],
)
def test_rejects(value, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_cli_input_json(value)
