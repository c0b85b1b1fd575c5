"""Signing an agent in with a federation token: the form, the session cookie, the agent's page."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode, urlsplit

import boto3
import pytest
from werkzeug.test import Client

from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.sign_in import SESSION_COOKIE, SignIns

INSTANCE = "11111111-2222-3333-4444-555555555555"
ISSUED = {
    "AccessToken": "access-token-issued-0001",
    "AccessTokenExpiration": 2000.5,
    "RefreshToken": "refresh-token-issued-0002",
    "RefreshTokenExpiration": 2000.5,
}


def posted(**changes: object) -> str:
    """The form's ``credentials`` field for the issued pair, expirations in epoch milliseconds."""
    credentials = {**ISSUED, "AccessTokenExpiration": 2000500, "RefreshTokenExpiration": 2000500}
    return json.dumps({**credentials, **changes})


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def browser(now: list[float]) -> Client:
    sign_ins = SignIns(clock=lambda: now[0])
    sign_ins.issue(INSTANCE, "agent.one@example.com", ISSUED)

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        from werkzeug.wrappers import Request

        return sign_ins.respond(Request(environ))(environ, start_response)

    return Client(app)


def sign_in(browser: Client, credentials: str | None, destination: str = "") -> object:
    form = {"destination": destination} | ({"credentials": credentials} if credentials is not None else {})
    return browser.post(f"/connect/{INSTANCE}/auth/sign-in", data=form)


def test_an_issued_token_signs_the_agent_in_and_the_page_names_them(browser: Client) -> None:
    response = sign_in(browser, posted())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/connect/{INSTANCE}/ccp-v2"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert f"Path=/connect/{INSTANCE}" in cookie
    assert "HttpOnly" in cookie
    page = browser.get(f"/connect/{INSTANCE}/ccp-v2")
    assert page.status_code == 200
    assert f"Signed in as agent.one@example.com on instance {INSTANCE}." in page.get_data(as_text=True)


def test_the_destination_is_where_the_agent_lands(browser: Client) -> None:
    assert sign_in(browser, posted(), "/ccp-v2#/softphone").headers["Location"] == (
        f"/connect/{INSTANCE}/ccp-v2#/softphone"
    )


@pytest.mark.parametrize(
    ("credentials", "status", "reason"),
    [
        (posted(AccessToken="access-token-issued-0001x"), 401, "was not issued for this instance"),
        (
            posted(RefreshToken="refresh-token-altered"),
            401,
            "RefreshToken is not the one GetFederationToken issued",
        ),
        (posted(AccessTokenExpiration=2000501), 401, "AccessTokenExpiration is not the one"),
        (posted(RefreshTokenExpiration=2000.5), 400, "RefreshTokenExpiration must be epoch milliseconds"),
        (None, 400, "The form has no credentials field."),
        ("{not json", 400, "The credentials field is not JSON."),
        ("[]", 400, "is not a JSON object"),
        (json.dumps({"AccessToken": "access-token-issued-0001"}), 400, "lacks AccessTokenExpiration"),
    ],
)
def test_a_tampered_or_malformed_form_is_refused_without_a_cookie(
    browser: Client, credentials: str | None, status: int, reason: str
) -> None:
    response = sign_in(browser, credentials)
    assert response.status_code == status
    assert "Set-Cookie" not in response.headers
    text = response.get_data(as_text=True)
    assert reason in text
    assert "access-token-issued" not in text
    assert browser.get(f"/connect/{INSTANCE}/ccp-v2").status_code == 401


def test_an_expired_token_is_refused(browser: Client, now: list[float]) -> None:
    now[0] = 2000.5
    response = sign_in(browser, posted())
    assert response.status_code == 401
    assert "The access token has expired" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_a_token_of_another_instance_is_refused(browser: Client) -> None:
    other = "99999999-2222-3333-4444-555555555555"
    response = browser.post(f"/connect/{other}/auth/sign-in", data={"credentials": posted()})
    assert response.status_code == 401


@pytest.mark.parametrize("destination", ["https://elsewhere", "//host/ccp-v2", "/ccp v2", "ccp-v2"])
def test_a_destination_off_the_instance_is_refused(browser: Client, destination: str) -> None:
    response = sign_in(browser, posted(), destination)
    assert response.status_code == 400
    assert "is not a path on this instance" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_the_page_without_a_session_is_refused(browser: Client) -> None:
    assert browser.get(f"/connect/{INSTANCE}/ccp-v2").status_code == 401
    assert browser.get(f"/connect/{INSTANCE}/elsewhere").status_code == 404


# --- Over real HTTP, with a token GetFederationToken issued --------------------------------------


def http_post(url: str, form: dict[str, str]) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urlencode(form)
    connection.request("POST", parts.path, body, {"Content-Type": "application/x-www-form-urlencoded"})
    return connection.getresponse()


def http_get(url: str, cookie: str) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", parts.path, headers={"Cookie": cookie})
    response = connection.getresponse()
    return response.status, response.read().decode()


@pytest.mark.integration
def test_a_token_from_get_federation_token_signs_the_agent_in(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("sign-in")
    connect_emulator.create_user(instance["id"], "agent.one@example.com")
    role_arn = connect_emulator.create_federation_role()
    client = boto3.client(
        "connect", endpoint_url=connect_emulator.endpoint_url, region_name=connect_emulator.region,
        **connect_emulator.credentials_for("agent.one@example.com", role_arn),
    )  # fmt: skip
    answer = client.get_federation_token(InstanceId=instance["id"])
    url = answer["SignInUrl"]
    assert url == f"{connect_emulator.endpoint_url}/connect/{instance['id']}/auth/sign-in"
    credentials = answer["Credentials"]
    form = {
        "AccessToken": credentials["AccessToken"],
        "AccessTokenExpiration": round(credentials["AccessTokenExpiration"].timestamp() * 1000),
        "RefreshToken": credentials["RefreshToken"],
        "RefreshTokenExpiration": round(credentials["RefreshTokenExpiration"].timestamp() * 1000),
    }
    response = http_post(url, {"credentials": json.dumps(form), "destination": ""})
    assert response.status == 302
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    location = response.headers["Location"]
    status, page = http_get(f"{connect_emulator.endpoint_url}{location}", cookie)
    assert (status, location) == (200, f"/connect/{instance['id']}/ccp-v2")
    assert f"Signed in as agent.one@example.com on instance {instance['id']}." in page

    tampered = {**form, "AccessToken": credentials["AccessToken"][:-1] + "x"}
    refused = http_post(url, {"credentials": json.dumps(tampered), "destination": ""})
    assert refused.status == 401
    assert refused.headers["Set-Cookie"] is None
